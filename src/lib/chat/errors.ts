/**
 * The chat's one error catalogue: every `error` event a client can receive, with its stable code and a
 * message that says what to fix. A unit test keeps codes unique and messages non-empty.
 */

export const CHAT_ERRORS = {
  malformed: {
    code: 'malformed',
    message: 'The command is not valid JSON of the form {"type": "<command>", …}',
  },
  unknownCommand: {
    code: 'unknown-command',
    message: 'Unknown command: use sendMessage, loadHistory, joinGroup or leaveGroup',
  },
  invalidPayload: { code: 'invalid-payload', message: 'The command payload must be a JSON object' },
  textMissing: { code: 'text-missing', message: 'sendMessage needs a non-empty "text" string' },
  textTooLong: { code: 'text-too-long', message: 'The text is longer than the allowed maximum' },
  groupAndTo: {
    code: 'group-and-to',
    message: 'Give "group" or "to" (or neither, for the room), not both',
  },
  invalidGroup: { code: 'invalid-group', message: 'The group name is not valid' },
  invalidUser: { code: 'invalid-user', message: 'The user name in "to" is not valid' },
  invalidClientMessageId: {
    code: 'invalid-client-message-id',
    message: '"clientMessageId" must be a string of 1–100 characters',
  },
  notAMember: { code: 'not-a-member', message: 'Join the group before sending to it or reading its history' },
  invalidConversation: {
    code: 'invalid-conversation',
    message: '"conversation" must be "room", "group:<name>" or "dm:<a>:<b>"',
  },
  forbiddenConversation: {
    code: 'forbidden-conversation',
    message: 'You can only read private conversations you take part in',
  },
  invalidLimit: { code: 'invalid-limit', message: '"limit" must be an integer from 1 to 100' },
  invalidBefore: { code: 'invalid-before', message: '"before" must be a message id' },
  binaryFrame: {
    code: 'binary-frame',
    message: 'Commands are JSON text frames; binary frames are not accepted',
  },
  internal: { code: 'internal', message: 'The server could not complete the command; try again' },
} as const satisfies Record<string, { code: string; message: string }>;

export type ChatErrorKey = keyof typeof CHAT_ERRORS;
export type ChatErrorCode = (typeof CHAT_ERRORS)[ChatErrorKey]['code'];

/** The payload of an `error` event (DESIGN §3.1). */
export interface ChatErrorPayload {
  readonly code: ChatErrorCode;
  readonly message: string;
  readonly command?: string;
}

/** Builds an `error` payload from the catalogue; `detail` refines the message (e.g. the broken rule). */
export function chatError(key: ChatErrorKey, command?: string, detail?: string): ChatErrorPayload {
  const entry = CHAT_ERRORS[key];
  const message = detail ? `${entry.message}: ${detail}` : entry.message;
  return command === undefined ? { code: entry.code, message } : { code: entry.code, message, command };
}
