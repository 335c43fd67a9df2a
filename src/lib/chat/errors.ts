/**
 * The chat's one error catalogue: every `error` event a client can receive, by its stable code, with a message
 * that says what to fix. Limits are not repeated here: the caller adds them as the detail (see commands.ts).
 * See docs/architecture.md, "Errors".
 */

import { CONVERSATION_ERRORS } from '../conversations/index.js';
import { HistoryError } from '../history/index.js';
import { countFailure, errorType } from '../observability.js';
import { MODERATION_ERRORS } from './moderation/errors.js';

export const CHAT_ERRORS = {
  malformed: 'The command is not valid JSON of the form {"type": "<command>", …}',
  'unknown-command':
    'Unknown command: use sendMessage, editMessage, deleteMessage, react, unreact, loadHistory, searchMessages, joinGroup, leaveGroup, listOnline, findPeople, createGroup, addMember, removeMember, renameGroup, setTopic, listMembers, deleteGroup, listChannels, typing, markRead, loadReadState, reportMessage, removeMessage, muteUser, unmuteUser, banUser, unbanUser, removeFromChannel, listReports, resolveReport or listAudit',
  'invalid-payload': 'The command payload must be a JSON object',
  'text-missing':
    'sendMessage and editMessage need a "text" string with something visible in it (sendMessage may have an "attachment" instead)',
  'invalid-text':
    '"text" must be well-formed Unicode without control characters (newline and tab are fine): remove the character named',
  'invalid-attachment':
    '"attachment" must be { blob, name, type, size, width?, height? } as the upload URL gave it, for this conversation',
  'attachment-not-stored':
    'The attachment is not stored as declared (no such blob, or another size or type): upload the file, then send',
  'attachments-off': 'Attachments are off on this server (CHAT_ATTACHMENTS_STORAGE=off): send text only',
  'text-too-long': 'The text is longer than the allowed maximum',
  'group-and-to': 'Give "group" or "to" (or neither, for the room), not both',
  'invalid-group': 'The group name is not valid',
  'invalid-user': 'The user name in "to" is not valid',
  'invalid-client-message-id': '"clientMessageId" must be a non-empty string',
  'not-a-member':
    'You are not a member of this group: join it if it is a channel, or ask one of its owners to add you if it is private',
  'invalid-conversation': '"conversation" must be "room", "group:<name>" or "dm:<a>:<b>"',
  'forbidden-conversation': 'You can only read or type in private conversations you take part in',
  'invalid-limit': '"limit" must be a whole number',
  'invalid-before':
    '"before" must be the id of a message of this conversation, as the previous page or searchResults gave it',
  'invalid-after': '"after" must be the "next" of the previous page, as it came',
  'invalid-message-id': '"messageId" must be the id of a stored message (a 26-character ULID)',
  'message-not-found': 'No message with this id in this conversation: it may not be stored yet',
  'not-author': 'Only the author of a message may edit or delete it',
  'not-a-message': 'Edit or delete the message itself, not an edit or delete record',
  'invalid-emoji': '"emoji" must be one of the reactions the chat offers (👍 ❤️ 😂 🎉 😮 😢 by default)',
  'invalid-reply-to': '"replyTo" must be the id of a message in the same conversation (a 26-character ULID)',
  'invalid-query':
    '"query" must be text to look for: the start of a name (findPeople), words of the messages (searchMessages)',
  'invalid-kind': '"kind" must be "private" or "channel"',
  'invalid-members': '"members" must be a list of user ids',
  'invalid-title': '"title" must be a name to show for the group',
  'invalid-topic': '"topic" must be a line of text',
  'invalid-owner': '"owner" must be true or false',
  // The group records' refusals, passed on under the same codes.
  'group-exists': CONVERSATION_ERRORS['group-exists'],
  'group-deleted': CONVERSATION_ERRORS['group-deleted'],
  'unknown-group': CONVERSATION_ERRORS['unknown-group'],
  'private-group': CONVERSATION_ERRORS['private-group'],
  'not-private': CONVERSATION_ERRORS['not-private'],
  'not-an-owner': CONVERSATION_ERRORS['not-an-owner'],
  'group-full': CONVERSATION_ERRORS['group-full'],
  'too-many-groups': CONVERSATION_ERRORS['too-many-groups'],
  'too-many-groups-created': CONVERSATION_ERRORS['too-many-groups-created'],
  'too-many-added-groups': CONVERSATION_ERRORS['too-many-added-groups'],
  'too-many-adds': CONVERSATION_ERRORS['too-many-adds'],
  'too-many-owners': CONVERSATION_ERRORS['too-many-owners'],
  'last-owner': CONVERSATION_ERRORS['last-owner'],
  'last-member': CONVERSATION_ERRORS['last-member'],
  'not-deletable': CONVERSATION_ERRORS['not-deletable'],
  'group-contended': CONVERSATION_ERRORS['group-contended'],
  // The list's own refusals, passed on under the same codes.
  'list-full': CONVERSATION_ERRORS['list-full'],
  'list-contended': CONVERSATION_ERRORS['list-contended'],
  'binary-frame': 'Commands are JSON text frames; binary frames are not accepted',
  'storage-unavailable':
    'The message could not be stored (history storage did not answer), so nobody received it: send it again',
  'rate-limited': 'Too many commands from this user: wait, then send again',
  busy: 'The server is busy with other searches and history reads: wait a moment, then try again',
  internal: 'The server could not complete the command; try again',
  ...MODERATION_ERRORS,
} as const satisfies Record<string, string>;

export type ChatErrorCode = keyof typeof CHAT_ERRORS;

/** The payload of an `error` event (docs/architecture.md, "The chat protocol"). */
export interface ChatErrorPayload {
  readonly code: ChatErrorCode;
  readonly message: string;
  readonly command?: string;
  /** The `clientMessageId` of the refused `sendMessage`, when it had one, so the sender knows which message. */
  readonly clientMessageId?: string;
  /**
   * The id of the conversation the refused command concerned, when it concerned one by a valid name (see
   * `commandConversation`), so the client shows the error there even with several such commands in flight.
   */
  readonly conversation?: string;
  /** For `rate-limited` and `busy`: how long to wait before sending again, in milliseconds. */
  readonly retryAfterMs?: number;
  /**
   * For `muted`: when the mute ends; for `too-many-groups-created`: when the next creation is possible (ISO
   * 8601).
   */
  readonly until?: string;
}

/** Codes that say "not now" rather than "never": the same command may succeed when sent again later. */
export const TRANSIENT_CHAT_ERRORS: readonly ChatErrorCode[] = [
  'storage-unavailable',
  'rate-limited',
  'busy',
  'internal',
  'list-contended',
  'group-contended',
  'report-contended',
];

/** A failure while running a command that the sender should hear about by its code (not as `internal`). */
export class ChatCommandError extends Error {
  override readonly name = 'ChatCommandError';
  constructor(
    readonly code: ChatErrorCode,
    cause: unknown,
  ) {
    super(CHAT_ERRORS[code], { cause });
  }
}

/** Builds an `error` payload from the catalogue; `detail` refines the message (e.g. the broken rule or limit). */
export function chatError(code: ChatErrorCode, command?: string, detail?: string): ChatErrorPayload {
  const message = detail ? `${CHAT_ERRORS[code]}: ${detail}` : CHAT_ERRORS[code];
  return command === undefined ? { code, message } : { code, message, command };
}

/**
 * Runs a write to the history or a list; a failure of the store (it did not answer, or answered with a
 * failure) is `storage-unavailable`, worth a resend. What is not an outage passes through unchanged: the
 * store refusing the line ({@link HistoryError}, a line the server built wrongly), a refusal already coded
 * ({@link ChatCommandError}), and a programming error (a `TypeError` and its kin). Sent again, they would fail
 * again, so the sender hears `internal` ({@link commandErrorCode}), not "send it again".
 */
export async function storing<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (!isOutage(error)) throw error;
    countFailure('append', errorType(error));
    throw new ChatCommandError('storage-unavailable', error);
  }
}

/** Whether a failure while storing may be the store's (an outage), rather than the server's own bug. */
function isOutage(error: unknown): boolean {
  return !(
    error instanceof HistoryError ||
    error instanceof ChatCommandError ||
    error instanceof TypeError ||
    error instanceof RangeError ||
    error instanceof ReferenceError ||
    error instanceof SyntaxError
  );
}

/**
 * The code the sender hears for a command that threw: a {@link ChatCommandError}'s own, `internal` for
 * anything else (a bug, or a refusal by the history store of a line the server built), which is logged.
 */
export function commandErrorCode(error: unknown): ChatErrorCode {
  return error instanceof ChatCommandError ? error.code : 'internal';
}
