/**
 * Reacting to a message and replying to one (docs/architecture.md, "Reactions and replies"). A reaction is a
 * record appended to the target's conversation, as an edit is (message-changes.ts), but anyone who may read
 * the conversation may add one: the caller checks that before, with the user the realtime service vouches for.
 * A reply is a message that carries the id of an earlier message of its conversation and a quote of it, taken
 * here when the reply is sent. Each costs one search for the target, whatever the history's length.
 */
import { MAX_HISTORY_LIMIT, parseConversation } from '../conversation.js';
import {
  type ChatMessage,
  excerptOf,
  type HistoryPage,
  REACTION_DEFAULTS,
  type ReactionOptions,
  Reactions,
  type ReplyQuote,
} from '../history/index.js';
import {
  appendChange,
  type ChangeHistory,
  type ChangeOutcome,
  type ChangeRefusal,
  type MessageChange,
} from './message-changes.js';

export type { ReactionOptions } from '../history/index.js';

/** Why a reaction or a reply was refused: the codes of the chat's catalogue. */
export type RecordRefusal = ChangeRefusal | 'invalid-emoji';

/**
 * The newest lines of its conversation a `react` or `unreact` reads to tell whether it changes anything (one
 * tail read, as a history page: at most `MAX_HISTORY_LIMIT`, 100). A reaction to a message older than these is
 * stored without that check, as before it.
 */
export const DEFAULT_REACTION_CHECK_LINES = 100;

/** The reaction rules, and how far back {@link appendRecord} looks for the reaction a record would change. */
export interface RecordOptions extends Partial<ReactionOptions> {
  /** See {@link DEFAULT_REACTION_CHECK_LINES}. */
  readonly checkLines?: number;
}

/** What a reaction needs of the history store: a change's, and the newest lines of a conversation. */
export interface RecordHistory extends ChangeHistory {
  read(conversation: string, options: { limit: number }): Promise<HistoryPage>;
}

export type RecordOutcome =
  | ChangeOutcome
  /** A `react` of a reaction that stands, an `unreact` of one that does not: nothing stored, nothing to deliver. */
  | { readonly ok: true; readonly unchanged: true }
  | { readonly ok: false; readonly code: RecordRefusal };

/**
 * Stores an edit, a delete, or a reaction (`react`, `unreact`: the emoji as `text`): each by its own rules.
 * `options.emoji` is the set a reaction must come from. A reaction that would change nothing (the user's newest
 * record of that emoji on that message is already of its kind, or an `unreact` finds none) is not stored: the
 * newest `checkLines` lines of the conversation tell, when they hold the target (every record about a message is
 * stored after it). A retry of the record that stands (same `clientMessageId`) comes back as a duplicate, to be
 * delivered again as a retried send is. When the target is older than those lines, the record is stored
 * unchecked: readers fold a repeated reaction as one.
 */
export async function appendRecord(
  history: RecordHistory,
  change: MessageChange,
  options: RecordOptions = {},
): Promise<RecordOutcome> {
  if (change.kind !== 'react' && change.kind !== 'unreact') return appendChange(history, change);
  const emoji = options.emoji ?? REACTION_DEFAULTS.emoji;
  if (change.text === undefined || !emoji.includes(change.text)) return { ok: false, code: 'invalid-emoji' };
  const limit = Math.min(options.checkLines ?? DEFAULT_REACTION_CHECK_LINES, MAX_HISTORY_LIMIT);
  const tail = limit > 0 ? (await history.read(change.conversation, { limit })).messages : [];
  const inTail = tail.find((line) => line.id === change.target);
  const original = inTail ?? (await history.find(change.conversation, change.target));
  // A record is not something to react to: only the message it changes is.
  if (original === undefined || original.kind !== undefined) return { ok: false, code: 'message-not-found' };
  if (inTail !== undefined) {
    const reactions = new Reactions({ emoji });
    reactions.add(tail);
    const standing = reactions.latest(change.target, change.text, change.from);
    if (standing === undefined && change.kind === 'unreact') return { ok: true, unchanged: true };
    if (standing?.kind === change.kind) {
      const retried =
        change.clientMessageId !== undefined && standing.clientMessageId === change.clientMessageId;
      return retried
        ? { ok: true, stored: { message: standing, duplicate: true } }
        : { ok: true, unchanged: true };
    }
  }
  const to = otherParty(change.conversation, change.from);
  const stored = await history.append({
    conversation: change.conversation,
    from: change.from,
    ...(change.fromName !== undefined ? { fromName: change.fromName } : {}),
    ...(to !== undefined ? { to } : {}),
    ...(original.group !== undefined ? { group: original.group } : {}),
    text: change.text,
    kind: change.kind,
    target: change.target,
    ...(change.clientMessageId !== undefined ? { clientMessageId: change.clientMessageId } : {}),
  });
  return { ok: true, stored };
}

/** The change a `editMessage`, `deleteMessage`, `react` or `unreact` command of `from` asks for. */
export function changeOf(
  from: { readonly user: string; readonly name?: string },
  command: RecordCommand,
): MessageChange {
  const kinds = { editMessage: 'edit', deleteMessage: 'delete', react: 'react', unreact: 'unreact' } as const;
  return {
    kind: kinds[command.type],
    conversation: command.conversation,
    target: command.messageId,
    from: from.user,
    ...(from.name !== undefined ? { fromName: from.name } : {}),
    ...(command.text !== undefined ? { text: command.text } : {}),
    ...(command.emoji !== undefined ? { text: command.emoji } : {}),
    ...(command.clientMessageId !== undefined ? { clientMessageId: command.clientMessageId } : {}),
  };
}

/** What {@link changeOf} reads of a command about an earlier message. */
export interface RecordCommand {
  readonly type: 'editMessage' | 'deleteMessage' | 'react' | 'unreact';
  readonly conversation: string;
  readonly messageId: string;
  readonly text?: string;
  readonly emoji?: string;
  readonly clientMessageId?: string;
}

/** The other user of a private conversation, as a record by `from` addresses it; `undefined` elsewhere. */
function otherParty(conversation: string, from: string): string | undefined {
  const parsed = parseConversation(conversation);
  if (parsed?.kind !== 'dm') return undefined;
  return parsed.users[0] === from ? parsed.users[1] : parsed.users[0];
}

/** What a reply adds to its message, or why it cannot be sent. */
export type ReplyOutcome =
  | { readonly ok: true; readonly fields: { readonly replyTo?: string; readonly quote?: ReplyQuote } }
  | { readonly ok: false; readonly code: 'message-not-found' };

/**
 * The `replyTo` and `quote` of a reply to `replyTo` in `conversation` (nothing when `replyTo` is absent): the
 * target must be a message of that conversation. The quote keeps its author and the start of its text.
 */
export async function replyFields(
  history: Pick<ChangeHistory, 'find'>,
  conversation: string,
  replyTo: string | undefined,
  options: Partial<ReactionOptions> = {},
): Promise<ReplyOutcome> {
  if (replyTo === undefined) return { ok: true, fields: {} };
  const target: ChatMessage | undefined = await history.find(conversation, replyTo);
  if (target === undefined || target.kind !== undefined) return { ok: false, code: 'message-not-found' };
  const length = options.excerptLength ?? REACTION_DEFAULTS.excerptLength;
  const quote: ReplyQuote = {
    from: target.from,
    ...(target.fromName !== undefined ? { fromName: target.fromName } : {}),
    text: excerptOf(target.text, length),
  };
  return { ok: true, fields: { replyTo, quote } };
}
