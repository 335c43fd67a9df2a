/**
 * Validation of the read-state commands (docs/architecture.md, "Read state") and of `searchMessages` ("Message
 * search"). commands.ts hands them here; who may mark, learn or search a conversation is checked by reading.ts
 * on the server, against the user the service vouches for.
 */
import { parseConversation } from '../../conversation.js';
import { isMessageId } from '../../history/index.js';
import type { ChatErrorCode } from '../errors.js';
import { parseSearchCommand, type SearchCommand } from './search.js';

export const READING_COMMAND_NAMES = ['markRead', 'loadReadState', 'searchMessages'] as const;
export type ReadingCommandName = (typeof READING_COMMAND_NAMES)[number];

export type ReadingCommand =
  /** "I have read this conversation up to this message": moves the user's last-read position forward. */
  | { readonly type: 'markRead'; readonly conversation: string; readonly messageId: string }
  /** The user's last-read position of a conversation and, in a private one, the other person's. */
  | { readonly type: 'loadReadState'; readonly conversation: string }
  /** Messages of a conversation that match a query (search.ts). */
  | SearchCommand;

export function isReadingCommandName(name: string): name is ReadingCommandName {
  return (READING_COMMAND_NAMES as readonly string[]).includes(name);
}

type Parsed = { ok: true; command: ReadingCommand } | { ok: false; code: ChatErrorCode; detail?: string };

/** Validates one read-state or search command's payload. */
export function parseReadingCommand(name: ReadingCommandName, payload: Record<string, unknown>): Parsed {
  if (name === 'searchMessages') return parseSearchCommand(payload);
  const { conversation, messageId } = payload;
  if (typeof conversation !== 'string' || parseConversation(conversation) === undefined) {
    return { ok: false, code: 'invalid-conversation' };
  }
  if (name === 'loadReadState') return { ok: true, command: { type: name, conversation } };
  if (!isMessageId(messageId)) return { ok: false, code: 'invalid-message-id' };
  return { ok: true, command: { type: name, conversation, messageId } };
}
