/**
 * The chat history store on Azure Blob Storage (docs/architecture.md, "History in Blob Storage"). Each
 * conversation is a series of append blobs, one JSON line per message (`layout.ts`). The store is the public face
 * of its parts:
 *
 * - `validation.ts`: input is refused before anything is read or written;
 * - `append.ts`: one line per message, one `appendBlock` per message when idle and per batch of the messages
 *   queued meanwhile when busy (group commit), rolling and sealing full segments;
 * - `tails.ts`, `recent-ids.ts`: a retried send (same `clientMessageId`) is stored once, at no request beyond the
 *   append: every append is conditional on the length this instance has read, and its index of recent ids;
 * - `segments.ts`, `segment-reader.ts`: the newest messages come from the tail of the newest segment(s) by ranged
 *   downloads, so a page costs the size of the page, not of the history;
 * - `locate.ts`: `before` finds its message by a search on id times, then the page is read backwards from there
 *   across segment boundaries;
 * - `options.ts`: every limit, its default, and the store the app's settings describe.
 */
import { type ContainerClient, RestError } from '@azure/storage-blob';
import { SegmentAppender } from './append.js';
import { HistoryError } from './errors.js';
import { MessageLocator } from './locate.js';
import type { AppendResult, ChatMessage, HistoryPage, NewMessage, SizedLine } from './message.js';
import { isMessageId, newMessageId } from './message.js';
import {
  containerClientOf,
  type HistoryStoreOptions,
  historyStoreOptionsFromSettings,
  storeLimits,
} from './options.js';
import { linesForward } from './segment-reader.js';
import { endOf, type LinePosition, listSegments, messagesBackward, segmentClient } from './segments.js';
import { validateBefore, validateConversation, validateLimit, validateNewMessage } from './validation.js';

export {
  BLOB_RETRY_OPTIONS,
  DEFAULT_CONTENDED_BLOCK_INTERVAL_MS,
  DEFAULT_DEDUPE_TAIL_BYTES,
  DEFAULT_DEDUPE_WINDOW_MS,
  DEFAULT_MAX_BLOCK_BYTES,
  DEFAULT_MAX_CACHED_CONVERSATIONS,
  DEFAULT_MAX_DEDUPE_IDS,
  DEFAULT_MAX_MESSAGES_PER_BLOCK,
  DEFAULT_MAX_QUEUED_APPENDS,
  DEFAULT_READ_CHUNK_BYTES,
  DEFAULT_REORDER_WINDOW_MS,
  DEFAULT_SEGMENT_BLOCK_LIMIT,
  type HistoryStoreOptions,
  MAX_APPEND_BLOB_BLOCKS,
  MAX_APPEND_BLOCK_BYTES,
} from './options.js';

/** Options of {@link HistoryStore.read}. */
export interface ReadOptions {
  /** Return the messages stored before this message id (paging backwards). */
  before?: string;
  /** 1 … `MAX_HISTORY_LIMIT`, default `DEFAULT_HISTORY_LIMIT`. */
  limit?: number;
}

/**
 * Creates a history store. With `storage` a connection string or a Blob service URI (identity-based access),
 * or with a ready `containerClient`. The container is created on first use if it does not exist.
 */
export function createHistoryStore(options: HistoryStoreOptions): HistoryStore {
  return new HistoryStore(options);
}

/**
 * Creates the store the app uses, from the settings `CHAT_HISTORY_STORAGE`, `CHAT_HISTORY_CONTAINER`,
 * `CHAT_HISTORY_SEGMENT_BLOCK_LIMIT` and `AZURE_CLIENT_ID`.
 */
export function createHistoryStoreFromSettings(env: NodeJS.ProcessEnv = process.env): HistoryStore {
  return new HistoryStore(historyStoreOptionsFromSettings(env));
}

/** The Blob history store. Safe to use from many Function instances at once (see its parts). */
export class HistoryStore {
  /** The container that holds the history. */
  readonly containerClient: ContainerClient;
  readonly #maxTextLength: number;
  readonly #readChunkBytes: number;
  readonly #appender: SegmentAppender;
  readonly #locator: MessageLocator;
  #containerReady: Promise<void> | undefined;

  constructor(options: HistoryStoreOptions) {
    this.containerClient = containerClientOf(options);
    const limits = storeLimits(options);
    this.#maxTextLength = limits.maxTextLength;
    this.#readChunkBytes = limits.readChunkBytes;
    this.#appender = new SegmentAppender(this.containerClient, limits);
    this.#locator = new MessageLocator(this.containerClient, {
      reorderWindowMs: limits.reorderWindowMs,
      readChunkBytes: limits.readChunkBytes,
      maxCachedHeads: limits.maxCachedConversations,
    });
  }

  /**
   * Stores a message and returns it with its server-assigned `id` and `sentAt`. A repeated `clientMessageId` from
   * the same sender in the same conversation is not stored again: the original message comes back with
   * `duplicate: true`. Throws {@link HistoryError} for invalid input.
   */
  async append(input: NewMessage): Promise<AppendResult> {
    const draft = validateNewMessage(input, this.#maxTextLength);
    await this.ensureContainer();
    const { id, sentAt } = newMessageId();
    const message: ChatMessage = { id, ...draft, sentAt };
    return this.#appender.append(message);
  }

  /**
   * Reads one page of a conversation, oldest first: the newest `limit` messages, or with `before` the `limit`
   * messages stored before that message. `hasMore` says whether older ones exist. Throws {@link HistoryError}
   * for an invalid conversation id, limit or `before` id, and for a `before` id not in the conversation.
   */
  async read(conversation: string, options: ReadOptions = {}): Promise<HistoryPage> {
    validateConversation(conversation);
    const limit = validateLimit(options.limit);
    const newestFirst: ChatMessage[] = [];
    const seen = new Set<string>();
    let hasMore = false;
    for await (const message of this.linesBefore(conversation, options)) {
      // A message written twice (a resend later than the dedupe window, see `append.ts`) is shown once.
      const keys = identityKeys(message);
      if (keys.some((key) => seen.has(key))) continue;
      for (const key of keys) seen.add(key);
      if (newestFirst.length === limit) {
        hasMore = true;
        break;
      }
      newestFirst.push(message);
    }
    return { conversation, messages: newestFirst.reverse(), hasMore };
  }

  /**
   * Every stored line of a conversation (messages and edit, delete and reaction records) before the line
   * `before`, or from its end, newest first, read backwards on demand as the caller asks for more: `before` is
   * found once, and every byte is read at most once however far the caller goes, so a long scan (a search) costs
   * what it reads. Lines are as stored: a message written twice comes twice. Throws {@link HistoryError} as
   * {@link read} does, on the first step.
   */
  async *linesBefore(
    conversation: string,
    options: { before?: string } = {},
  ): AsyncGenerator<ChatMessage, void, undefined> {
    for await (const { line } of this.sizedLinesBefore(conversation, options)) yield line;
  }

  /**
   * {@link linesBefore}, each line with its size as stored (bytes, without its line break): what a reader that
   * bounds its scan by bytes (a search) counts.
   */
  async *sizedLinesBefore(
    conversation: string,
    options: { before?: string } = {},
  ): AsyncGenerator<SizedLine, void, undefined> {
    validateConversation(conversation);
    const before = validateBefore(options.before);
    await this.ensureContainer();
    const segments = await listSegments(this.containerClient, conversation);
    let start: LinePosition | undefined = endOf(segments);
    if (before !== undefined) {
      start = await this.#locator.locate(conversation, segments, before);
      if (start === undefined) {
        throw new HistoryError(
          'invalid-before',
          `no message ${before} in conversation ${conversation} (the id of another conversation's message, or of none)`,
        );
      }
    }
    if (start === undefined) return;
    const stored = messagesBackward(
      this.containerClient,
      conversation,
      segments,
      start,
      this.#readChunkBytes,
    );
    for await (const { message, bytes } of stored) yield { line: message, bytes };
  }

  /**
   * The stored line with id `id` in a conversation (a message or an edit/delete record), or `undefined` when the
   * conversation holds none: found as `before` paging finds its message, so it costs a search, not a scan.
   * `exhaustive: false` keeps to the reorder window (`MessageLocator.locate`): an id that is not there costs a
   * search too, never the full scan.
   */
  async find(
    conversation: string,
    id: string,
    options: { exhaustive?: boolean } = {},
  ): Promise<ChatMessage | undefined> {
    validateConversation(conversation);
    if (!isMessageId(id)) return undefined;
    await this.ensureContainer();
    const segments = await listSegments(this.containerClient, conversation);
    const position = await this.#locator.locate(conversation, segments, id, options);
    const segment = position === undefined ? undefined : segments[position.index];
    if (position === undefined || segment === undefined) return undefined;
    const blob = segmentClient(this.containerClient, conversation, segment.segment);
    for await (const line of linesForward(blob, position.offset, segment.size, this.#readChunkBytes)) {
      let message: ChatMessage;
      try {
        message = JSON.parse(line.bytes.toString('utf8')) as ChatMessage;
      } catch {
        throw new HistoryError('corrupt-history', `the line of ${id} in ${conversation} is not JSON`);
      }
      return message.id === id ? message : undefined;
    }
    return undefined;
  }

  /**
   * Deletes every segment of a conversation (a deleted group's, docs/architecture.md, "Private groups and
   * channels"): one listing, then one delete per segment; returns how many it deleted. Segments already gone
   * count as deleted, so a deletion that stopped half-way completes when run again. A send still in flight may
   * append to the conversation afterwards (the appender makes a missing segment again): the caller makes sure
   * nobody can read the conversation from then on.
   */
  async deleteConversation(conversation: string): Promise<number> {
    validateConversation(conversation);
    await this.ensureContainer();
    const segments = await listSegments(this.containerClient, conversation);
    for (const { segment } of segments) {
      await segmentClient(this.containerClient, conversation, segment).deleteIfExists();
    }
    return segments.length;
  }

  /**
   * Resolves once the container exists: created on first use, once per store; a failure is not remembered, so
   * the next call tries again. The chat awaits it before presence and memberships list the container.
   */
  ensureContainer(): Promise<void> {
    this.#containerReady ??= this.containerClient.createIfNotExists().then(
      () => undefined,
      (error: unknown) => {
        // An identity allowed to read and write blobs but not to create containers: the infrastructure created
        // it (infra/), and if it did not, the first real request says ContainerNotFound.
        if (error instanceof RestError && error.statusCode === 403) return;
        // Let the next call try again rather than remembering a transient failure forever.
        this.#containerReady = undefined;
        throw error;
      },
    );
    return this.#containerReady;
  }
}

/** The keys under which a reader recognises a repeated message: its id, and its sender's clientMessageId. */
function identityKeys(message: ChatMessage): string[] {
  return message.clientMessageId === undefined
    ? [message.id]
    : [message.id, `${message.from}\u0000${message.clientMessageId}`];
}
