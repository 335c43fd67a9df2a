/**
 * Validation of the read-state commands (docs/architecture.md, "Read state"). commands.ts hands them here; who
 * may mark or learn the read state of a conversation is checked by reading.ts on the server, against the user
 * the service vouches for.
 */
import { parseConversation } from '../../conversation.js';
import { isMessageId } from '../../history/index.js';
import type { ChatErrorCode } from '../errors.js';

export const READING_COMMAND_NAMES = ['markRead', 'loadReadState'] as const;
export type ReadingCommandName = (typeof READING_COMMAND_NAMES)[number];

export type ReadingCommand =
  /** "I have read this conversation up to this message": moves the user's last-read position forward. */
  | { readonly type: 'markRead'; readonly conversation: string; readonly messageId: string }
  /** The user's last-read position of a conversation and, in a private one, the other person's. */
  | { readonly type: 'loadReadState'; readonly conversation: string };

export function isReadingCommandName(name: string): name is ReadingCommandName {
  return (READING_COMMAND_NAMES as readonly string[]).includes(name);
}

type Parsed = { ok: true; command: ReadingCommand } | { ok: false; code: ChatErrorCode };

/** Validates one read-state command's payload. */
export function parseReadingCommand(name: ReadingCommandName, payload: Record<string, unknown>): Parsed {
  const { conversation, messageId } = payload;
  if (typeof conversation !== 'string' || parseConversation(conversation) === undefined) {
    return { ok: false, code: 'invalid-conversation' };
  }
  if (name === 'loadReadState') return { ok: true, command: { type: name, conversation } };
  if (!isMessageId(messageId)) return { ok: false, code: 'invalid-message-id' };
  return { ok: true, command: { type: name, conversation, messageId } };
}
