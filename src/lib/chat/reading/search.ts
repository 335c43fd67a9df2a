/**
 * Searching one conversation's messages (docs/architecture.md, "Message search"): `searchMessages` reads the
 * conversation newest first through the history store, the pages `loadHistory` reads, folding edits and deletes as
 * a reader does, and answers the messages that match (search-match.ts), newest first, with where the scan stopped.
 * Bounded per command: at most the scan bounds of lines and bytes read, at most `limit` matches; the command costs
 * its bounds against the per-user command limit, paid before it runs (command-quota.ts, `commandCost`).
 */
import { parseConversation } from '../../conversation.js';
import {
  type FoldedMessage,
  HistoryError,
  isMessageId,
  MessageChanges,
  type ReactionOptions,
  type SizedLine,
} from '../../history/index.js';
import { type ChatErrorCode, chatError } from '../errors.js';
import type { ChatEvent, SearchResultsPayload } from '../wire/protocol.js';
import { matchesWords, queryWords } from './search-match.js';

/**
 * Shortest query, in characters of its folded words (search-match.ts, `queryWords`): one letter would match nearly
 * every message, and `a\u0301` is the letter `a`.
 */
export const MIN_SEARCH_QUERY_LENGTH = 2;
/** Longest query, in characters of its folded words. */
export const MAX_SEARCH_QUERY_LENGTH = 100;
/** Matches one `searchMessages` answers when it gives no `limit`. */
export const DEFAULT_SEARCH_LIMIT = 20;
/** The largest `limit` of a `searchMessages`. */
export const MAX_SEARCH_LIMIT = 50;
/**
 * Lines (messages and records) one `searchMessages` reads at most, newest first; past it (or past
 * {@link DEFAULT_SEARCH_SCAN_BYTES}) the answer is not `complete` and its `before` continues the scan. The app
 * setting `CHAT_SEARCH_SCAN_MESSAGES`.
 */
export const DEFAULT_SEARCH_SCAN_MESSAGES = 2000;
/** The largest value `CHAT_SEARCH_SCAN_MESSAGES` may be set to. */
export const MAX_SEARCH_SCAN_MESSAGES = 100_000;
/**
 * Bytes of stored lines one `searchMessages` reads at most (each line's size as stored): past it the answer is not
 * `complete` and its `before` continues the scan, as past the line bound. Lines of 16 KB make 2 000 lines 32 MB;
 * this keeps one search to a few MiB whatever the lines hold. The app setting `CHAT_SEARCH_SCAN_BYTES`.
 */
export const DEFAULT_SEARCH_SCAN_BYTES = 4 * 1024 * 1024;
/** The largest value `CHAT_SEARCH_SCAN_BYTES` may be set to (256 MiB). */
export const MAX_SEARCH_SCAN_BYTES = 256 * 1024 * 1024;
/**
 * Lines of its scan bound one command pays for: a `searchMessages` costs one command per started this many lines
 * it may read (four with the default bound), charged before it runs, whatever it then finds.
 */
export const DEFAULT_SEARCH_MESSAGES_PER_COMMAND = 500;
/** Bytes of its byte bound one command pays for, as it pays per {@link DEFAULT_SEARCH_MESSAGES_PER_COMMAND} lines. */
export const DEFAULT_SEARCH_BYTES_PER_COMMAND = 1024 * 1024;

/** Search options of the chat. */
export interface SearchOptions {
  /** See {@link DEFAULT_SEARCH_SCAN_MESSAGES}. */
  readonly scanMessages: number;
  /** See {@link DEFAULT_SEARCH_SCAN_BYTES}. */
  readonly scanBytes: number;
}

// A type literal, not an interface: a command's fields are read as a record (commands.ts, `commandConversation`).
export type SearchCommand = {
  readonly type: 'searchMessages';
  readonly conversation: string;
  /** Trimmed, as the user typed it (searched for as its folded words). */
  readonly query: string;
  /** Scan the lines stored before this one (the `before` of the previous answer). */
  readonly before?: string;
  readonly limit: number;
};

type Parsed =
  | { readonly ok: true; readonly command: SearchCommand }
  | { readonly ok: false; readonly code: ChatErrorCode; readonly detail?: string };

/** Validates a `searchMessages` payload. */
export function parseSearchCommand(payload: Readonly<Record<string, unknown>>): Parsed {
  const { conversation, query, before, limit } = payload;
  if (typeof conversation !== 'string' || parseConversation(conversation) === undefined) {
    return { ok: false, code: 'invalid-conversation' };
  }
  const trimmed = typeof query === 'string' ? query.trim() : '';
  // Counted as it is searched for: folded (case, accents and combining marks set aside) into its words, so a
  // query that folds to nothing or to one letter is refused before it reads the conversation. Folding is bounded
  // (search-match.ts, `MAX_SEARCH_FOLD_UNITS`), so even a long query costs little to measure.
  const length = [...queryWords(trimmed).join(' ')].length;
  if (length < MIN_SEARCH_QUERY_LENGTH || length > MAX_SEARCH_QUERY_LENGTH) {
    const detail = `searchMessages needs ${MIN_SEARCH_QUERY_LENGTH}–${MAX_SEARCH_QUERY_LENGTH} characters once trimmed, counted after folding (case, accents and punctuation around words set aside); this one has ${length}`;
    return { ok: false, code: 'invalid-query', detail };
  }
  if (before !== undefined && !isMessageId(before)) {
    const given = typeof before === 'string' ? `"${before.slice(0, 64)}"` : `a ${typeof before}`;
    const detail = `${given} is not a message id (a 26-character ULID): give the "before" of the previous searchResults`;
    return { ok: false, code: 'invalid-before', detail };
  }
  if (
    limit !== undefined &&
    !(typeof limit === 'number' && Number.isInteger(limit) && limit >= 1 && limit <= MAX_SEARCH_LIMIT)
  ) {
    return { ok: false, code: 'invalid-limit', detail: `from 1 to ${MAX_SEARCH_LIMIT}` };
  }
  return {
    ok: true,
    command: {
      type: 'searchMessages',
      conversation,
      query: trimmed,
      limit: limit ?? DEFAULT_SEARCH_LIMIT,
      ...(before !== undefined ? { before } : {}),
    },
  };
}

/**
 * The tokens a `searchMessages` costs against the command limit: one per started
 * {@link DEFAULT_SEARCH_MESSAGES_PER_COMMAND} lines of its line bound or per started
 * {@link DEFAULT_SEARCH_BYTES_PER_COMMAND} bytes of its byte bound, whichever makes more. Either bound may be the
 * one that stops a scan (small lines reach the line bound, long ones the byte bound), so the price covers the one
 * that binds: each command paid for reads at most 500 lines and at most 1 MiB.
 */
export function searchCost(search: Partial<SearchOptions> = {}): number {
  const lines = search.scanMessages ?? DEFAULT_SEARCH_SCAN_MESSAGES;
  const bytes = search.scanBytes ?? DEFAULT_SEARCH_SCAN_BYTES;
  return Math.max(
    1,
    Math.ceil(lines / DEFAULT_SEARCH_MESSAGES_PER_COMMAND),
    Math.ceil(bytes / DEFAULT_SEARCH_BYTES_PER_COMMAND),
  );
}

export interface SearchDependencies {
  readonly history: {
    /**
     * The conversation's stored lines before `before` (or from its end), newest first, with their sizes
     * (`HistoryStore.sizedLinesBefore`).
     */
    sizedLinesBefore(conversation: string, options: { before?: string }): AsyncIterable<SizedLine>;
  };
  /** How readers fold reactions and quotes (the chat's `reactions` option). */
  readonly reactions?: Partial<ReactionOptions>;
  readonly search?: Partial<SearchOptions>;
}

/**
 * Runs a `searchMessages` whose reader the caller has checked (`readRefusal`). A `before` that names no line of
 * the conversation is `invalid-before`.
 */
export async function searchMessages(deps: SearchDependencies, command: SearchCommand): Promise<ChatEvent> {
  try {
    return { event: 'searchResults', payload: await scan(deps, command) };
  } catch (error) {
    if (!(error instanceof HistoryError) || error.code !== 'invalid-before') throw error;
    // A well-formed id (parseSearchCommand checked it) that names no line here: one of another conversation.
    const detail = `no message ${command.before} in ${command.conversation}: give the "before" of the previous searchResults of this conversation`;
    return { event: 'error', payload: chatError('invalid-before', command.type, detail) };
  }
}

/**
 * Reads the conversation newest first from `before` (or its end) in one continuous backward read, until a scan
 * bound (lines or bytes) or `limit` matches: `before` is found once, and no byte is read twice however many lines the scan goes
 * through. Records are folded as readers fold them (fold.ts): a record is stored after its message, so the records
 * read so far apply to the older messages read after them.
 */
async function scan(deps: SearchDependencies, command: SearchCommand): Promise<SearchResultsPayload> {
  const { conversation, query, limit } = command;
  const max = deps.search?.scanMessages ?? DEFAULT_SEARCH_SCAN_MESSAGES;
  const maxBytes = deps.search?.scanBytes ?? DEFAULT_SEARCH_SCAN_BYTES;
  const words = queryWords(query);
  const changes = new MessageChanges(deps.reactions);
  const messages: FoldedMessage[] = [];
  const seen = new Set<string>();
  let cursor = command.before;
  let scanned = 0;
  let scannedBytes = 0;
  let complete = true;
  const lines = deps.history.sizedLinesBefore(
    conversation,
    command.before !== undefined ? { before: command.before } : {},
  );
  for await (const { line, bytes } of lines) {
    // One line past a bound (or the last match) tells whether the scan is complete; it is not scanned. The byte
    // bound lets a first line larger than itself through, so every scan moves on.
    const pastBytes = scanned > 0 && scannedBytes + bytes > maxBytes;
    if (scanned === max || pastBytes || messages.length === limit) {
      complete = false;
      break;
    }
    scanned++;
    scannedBytes += bytes;
    cursor = line.id;
    // Records (edits, deletes, reactions, removals) are never results; a deleted message matches nothing.
    if (line.kind !== undefined) {
      changes.add([line]);
      continue;
    }
    const shown = changes.apply(line);
    if (shown.deleted) continue;
    // A message stored twice (a resend past the dedupe window) is one result.
    const keys =
      shown.clientMessageId === undefined
        ? [shown.id]
        : [shown.id, `${shown.from}\u0000${shown.clientMessageId}`];
    if (keys.some((key) => seen.has(key))) continue;
    for (const key of keys) seen.add(key);
    if (matchesWords(shown, words)) messages.push(shown);
  }
  return {
    conversation,
    query,
    messages,
    ...(complete || cursor === undefined ? {} : { before: cursor }),
    complete,
    scanned,
  };
}
