/**
 * The checks at the store's edge: a conversation id, a page limit, a `before` id and a new message are refused
 * with a {@link HistoryError} that says what to fix before anything is read or written.
 * See docs/architecture.md, "History in Blob Storage".
 */
import {
  DEFAULT_HISTORY_LIMIT,
  MAX_CLIENT_MESSAGE_ID_LENGTH,
  MAX_HISTORY_LIMIT,
  nameProblem,
  parseConversation,
} from '../conversation.js';
import { cleanDisplayName, MAX_DISPLAY_NAME_LENGTH } from '../display-name.js';
import { isRecord } from '../is-record.js';
import { HistoryError } from './errors.js';
import { type ChatMessage, isMessageId, type NewMessage, RECORD_KINDS } from './message.js';

/** The conversation id parsed, or an `invalid-conversation` error. */
export function validateConversation(
  conversation: unknown,
): NonNullable<ReturnType<typeof parseConversation>> {
  const parsed = typeof conversation === 'string' ? parseConversation(conversation) : undefined;
  if (parsed === undefined) {
    throw new HistoryError(
      'invalid-conversation',
      `"${String(conversation).slice(0, 80)}" is not one of room, group:<name>, dm:<a>:<b> (names 1–32 letters, digits, spaces, "_", "-", "."; the two dm names sorted)`,
    );
  }
  return parsed;
}

/** The page size: {@link DEFAULT_HISTORY_LIMIT} when absent, else 1 … {@link MAX_HISTORY_LIMIT}. */
export function validateLimit(limit: unknown): number {
  if (limit === undefined) return DEFAULT_HISTORY_LIMIT;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_HISTORY_LIMIT) {
    throw new HistoryError(
      'invalid-limit',
      `${String(limit)} is not a whole number from 1 to ${MAX_HISTORY_LIMIT}`,
    );
  }
  return limit;
}

/** A `before` that is absent or has the form of a message id. */
export function validateBefore(before: unknown): string | undefined {
  if (before !== undefined && !isMessageId(before)) {
    throw new HistoryError(
      'invalid-before',
      `"${String(before).slice(0, 64)}" is not a message id (a 26-character ULID)`,
    );
  }
  return before;
}

/** A new message checked field by field, without the `id` and `sentAt` the store assigns. */
export function validateNewMessage(
  input: NewMessage,
  maxTextLength: number,
): Omit<ChatMessage, 'id' | 'sentAt'> {
  if (typeof input !== 'object' || input === null) {
    throw new HistoryError(
      'invalid-message',
      'give an object { conversation, from, text, to?, group?, clientMessageId? }',
    );
  }
  const parsed = validateConversation(input.conversation);
  const fromProblem = typeof input.from === 'string' ? nameProblem(input.from) : 'The user name is missing';
  if (fromProblem !== undefined) throw new HistoryError('invalid-message', `from: ${fromProblem}`);
  const { fromName } = input;
  if (fromName !== undefined && (typeof fromName !== 'string' || cleanDisplayName(fromName) !== fromName)) {
    throw new HistoryError(
      'invalid-message',
      `fromName must be a display name of 1–${MAX_DISPLAY_NAME_LENGTH} printable characters without outer spaces`,
    );
  }
  const { kind, target } = input;
  if (kind !== undefined && !(RECORD_KINDS as readonly unknown[]).includes(kind)) {
    throw new HistoryError('invalid-message', `kind must be absent or one of ${RECORD_KINDS.join(', ')}`);
  }
  if ((kind === undefined) !== (target === undefined) || (target !== undefined && !isMessageId(target))) {
    throw new HistoryError(
      'invalid-message',
      'a record (edit, delete, react, unreact) names its target message id, nothing else does',
    );
  }
  // A moderator's removal names its moderator, as the line's `from` is the removed message's author.
  const { by } = input;
  if ((kind === 'remove') !== (by !== undefined) || (by !== undefined && !isUserName(by))) {
    throw new HistoryError(
      'invalid-message',
      'a remove record names its moderator in `by` (a user name), nothing else has `by`',
    );
  }
  const reply = validateReply(input, maxTextLength);
  const { attachment } = input;
  if (attachment !== undefined && (kind !== undefined || !isRecord(attachment))) {
    throw new HistoryError('invalid-message', 'an attachment is an object, on a message only');
  }
  const empty = kind === 'delete' || kind === 'remove';
  const noText = attachment === undefined && input.text === '';
  if (empty ? input.text !== '' : typeof input.text !== 'string' || noText) {
    throw new HistoryError(
      'invalid-message',
      empty ? 'a delete or remove record has empty text' : 'the text is empty: give 1 or more characters',
    );
  }
  if ([...input.text].length > maxTextLength) {
    throw new HistoryError('invalid-message', `the text is longer than ${maxTextLength} characters`);
  }
  const { clientMessageId } = input;
  if (
    clientMessageId !== undefined &&
    (typeof clientMessageId !== 'string' ||
      clientMessageId.length === 0 ||
      clientMessageId.length > MAX_CLIENT_MESSAGE_ID_LENGTH)
  ) {
    throw new HistoryError(
      'invalid-message',
      `clientMessageId must be a string of 1–${MAX_CLIENT_MESSAGE_ID_LENGTH} characters`,
    );
  }
  // The addressing must agree with the conversation, or a message would be filed where its readers never look.
  if (parsed.kind === 'room' && (input.to !== undefined || input.group !== undefined)) {
    throw new HistoryError('invalid-message', 'a room message has neither `to` nor `group`');
  }
  if (parsed.kind === 'group' && (input.group !== parsed.group || input.to !== undefined)) {
    throw new HistoryError(
      'invalid-message',
      `a message in ${input.conversation} has group "${parsed.group}" and no \`to\``,
    );
  }
  if (parsed.kind === 'dm') {
    const [a, b] = parsed.users;
    const pairOk =
      input.group === undefined &&
      ((input.from === a && input.to === b) || (input.from === b && input.to === a));
    if (!pairOk) {
      throw new HistoryError(
        'invalid-message',
        `a message in ${input.conversation} goes from one of its two users to the other`,
      );
    }
  }
  return {
    conversation: input.conversation,
    from: input.from,
    ...(fromName === undefined ? {} : { fromName }),
    ...(input.to === undefined ? {} : { to: input.to }),
    ...(input.group === undefined ? {} : { group: input.group }),
    text: input.text,
    ...(attachment === undefined ? {} : { attachment }),
    ...(clientMessageId === undefined ? {} : { clientMessageId }),
    ...(kind === undefined ? {} : { kind, target }),
    ...(by === undefined ? {} : { by }),
    ...reply,
  };
}

const isUserName = (value: unknown): value is string =>
  typeof value === 'string' && nameProblem(value) === undefined;

/** A reply's `replyTo` and `quote`, both or neither, on a message (not a record); `{}` when absent. */
function validateReply(input: NewMessage, maxTextLength: number): Pick<ChatMessage, 'replyTo' | 'quote'> {
  const { replyTo, quote } = input;
  if (replyTo === undefined && quote === undefined) return {};
  const fix = 'a reply has kind absent, `replyTo` a message id and `quote` { from, fromName?, text }';
  if (input.kind !== undefined || !isMessageId(replyTo) || typeof quote !== 'object' || quote === null) {
    throw new HistoryError('invalid-message', fix);
  }
  const { from, fromName, text } = quote;
  if (
    typeof from !== 'string' ||
    nameProblem(from) !== undefined ||
    (fromName !== undefined && (typeof fromName !== 'string' || cleanDisplayName(fromName) !== fromName)) ||
    typeof text !== 'string' ||
    [...text].length > maxTextLength
  ) {
    throw new HistoryError('invalid-message', `quote: ${fix}`);
  }
  return { replyTo, quote: { from, ...(fromName === undefined ? {} : { fromName }), text } };
}
