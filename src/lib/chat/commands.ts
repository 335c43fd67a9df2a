/**
 * Validation of the chat's commands (docs/architecture.md, "The chat protocol"). Everything a client sends passes through here before any
 * work; the user is never part of a command (it comes from the service's token).
 */

import {
  DEFAULT_HISTORY_LIMIT,
  directConversation,
  groupConversation,
  isValidName,
  MAX_CLIENT_MESSAGE_ID_LENGTH,
  MAX_HISTORY_LIMIT,
  MAX_MESSAGE_ID_LENGTH,
  MAX_NAME_LENGTH,
  nameProblem,
  parseConversation,
  ROOM,
} from '../conversation.js';
import {
  DEFAULT_PEOPLE_PAGE_SIZE,
  MAX_PEOPLE_CURSOR_LENGTH,
  MAX_PEOPLE_PAGE_SIZE,
} from '../conversations/index.js';
import { isMessageId } from '../history/index.js';
import { isRecord } from '../is-record.js';
import { type ChatErrorCode, type ChatErrorPayload, chatError } from './errors.js';
import {
  GROUP_COMMAND_NAMES,
  type GroupCommand,
  isGroupCommandName,
  parseGroupCommand,
} from './groups/commands.js';
import { checkMessageText } from './message-text.js';
import {
  isModerationCommandName,
  MODERATION_COMMAND_NAMES,
  type ModerationCommand,
  parseModerationCommand,
} from './moderation/commands.js';
import { DEFAULT_ONLINE_PAGE_SIZE, MAX_ONLINE_PAGE_SIZE } from './presence/presence.js';
import {
  isReadingCommandName,
  parseReadingCommand,
  READING_COMMAND_NAMES,
  type ReadingCommand,
} from './reading/commands.js';

export const COMMAND_NAMES = [
  'sendMessage',
  'editMessage',
  'deleteMessage',
  'react',
  'unreact',
  'loadHistory',
  'joinGroup',
  'leaveGroup',
  'listOnline',
  'findPeople',
  'typing',
  ...GROUP_COMMAND_NAMES,
  ...READING_COMMAND_NAMES,
  ...MODERATION_COMMAND_NAMES,
] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

export type ChatCommand =
  | {
      readonly type: 'sendMessage';
      /** Empty when the message is its attachment alone. */
      readonly text: string;
      /** An attachment reference, checked against the conversation and its blob by the handler. */
      readonly attachment?: Record<string, unknown>;
      readonly group?: string;
      readonly to?: string;
      readonly clientMessageId?: string;
      /** The id of the message of the same conversation this one replies to. */
      readonly replyTo?: string;
    }
  | {
      readonly type: 'loadHistory';
      readonly conversation: string;
      readonly before?: string;
      readonly limit: number;
    }
  | { readonly type: 'joinGroup'; readonly group: string }
  | { readonly type: 'leaveGroup'; readonly group: string }
  | { readonly type: 'listOnline'; readonly after?: string; readonly limit: number }
  | {
      readonly type: 'editMessage';
      readonly conversation: string;
      readonly messageId: string;
      readonly text: string;
      readonly clientMessageId?: string;
    }
  | {
      readonly type: 'deleteMessage';
      readonly conversation: string;
      readonly messageId: string;
      readonly clientMessageId?: string;
    }
  | {
      readonly type: 'react' | 'unreact';
      readonly conversation: string;
      readonly messageId: string;
      readonly emoji: string;
      readonly clientMessageId?: string;
    }
  | { readonly type: 'findPeople'; readonly query: string; readonly limit: number; readonly after?: string }
  /** "I am typing in this conversation": ephemeral, never stored (typing.ts). */
  | { readonly type: 'typing'; readonly conversation: string }
  | GroupCommand
  | ReadingCommand
  | ModerationCommand;

export type CommandResult =
  | { readonly ok: true; readonly command: ChatCommand }
  | {
      readonly ok: false;
      readonly error: ChatErrorPayload;
      /**
       * The refused command as it came, when it had a known name and an object payload: what it was about
       * may still be read from it (see {@link commandConversation}).
       */
      readonly input?: { readonly type: CommandName; readonly fields: Readonly<Record<string, unknown>> };
    };

/** Commands about one group, named by their `group` field. */
const GROUP_FIELD_COMMANDS = [
  'joinGroup',
  'leaveGroup',
  'createGroup',
  'addMember',
  'removeMember',
  'renameGroup',
  'setTopic',
  'listMembers',
  'deleteGroup',
  'removeFromChannel',
] as const satisfies readonly Extract<ChatCommand, { readonly group: string }>['type'][];

/** Commands about one conversation, named by their `conversation` field. */
const CONVERSATION_FIELD_COMMANDS = [
  'loadHistory',
  'editMessage',
  'deleteMessage',
  'react',
  'unreact',
  'typing',
  'markRead',
  'loadReadState',
  'searchMessages',
  'reportMessage',
  'removeMessage',
] as const satisfies readonly Extract<ChatCommand, { readonly conversation: string }>['type'][];

// Every command with a `group` or `conversation` field is in its list: a new one that is not fails to compile.
type Unlisted =
  | Exclude<Extract<ChatCommand, { readonly group: string }>['type'], (typeof GROUP_FIELD_COMMANDS)[number]>
  | Exclude<
      Extract<ChatCommand, { readonly conversation: string }>['type'],
      (typeof CONVERSATION_FIELD_COMMANDS)[number]
    >;
const allListed: [Unlisted] extends [never] ? true : never = true;
void allListed;

const isOneOf = <T extends string>(list: readonly T[], name: string): name is T =>
  (list as readonly string[]).includes(name);

/**
 * The id of the conversation a command concerns, as the server names it, for `user` who sent it: a group
 * command's `group:<name>`, a `sendMessage`'s group, private conversation (`to`) or the room, a command's
 * `conversation`. `undefined` when the command concerns none, or names it invalidly (an invalid group name
 * names no conversation). Reads the fields as they came, so it serves a refused command's raw payload too.
 */
export function commandConversation(
  type: string,
  fields: Readonly<Record<string, unknown>>,
  user: string,
): string | undefined {
  const { group, to, conversation } = fields;
  if (type === 'sendMessage') {
    if (group !== undefined && to !== undefined) return undefined;
    if (group !== undefined) return isValidName(group) ? groupConversation(group) : undefined;
    if (to !== undefined) return isValidName(to) ? directConversation(user, to) : undefined;
    return ROOM;
  }
  if (isOneOf(GROUP_FIELD_COMMANDS, type)) return isValidName(group) ? groupConversation(group) : undefined;
  if (isOneOf(CONVERSATION_FIELD_COMMANDS, type)) {
    return typeof conversation === 'string' && parseConversation(conversation) !== undefined
      ? conversation
      : undefined;
  }
  return undefined;
}

function isCommandName(name: unknown): name is CommandName {
  return typeof name === 'string' && (COMMAND_NAMES as readonly string[]).includes(name);
}

/**
 * Parses a raw-WebSocket frame (Web PubSub): `{"type": "<command>", …payload}`.
 */
export function parseCommandFrame(text: string): CommandResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, error: chatError('malformed') };
  }
  if (!isRecord(value)) return { ok: false, error: chatError('malformed') };
  const { type, ...payload } = value;
  return parseCommand(type, payload);
}

/** Validates a command given its name (signalr: the invocation target) and payload (its one argument). */
export function parseCommand(name: unknown, payload: unknown): CommandResult {
  if (!isCommandName(name)) {
    return {
      ok: false,
      error: chatError('unknown-command', typeof name === 'string' ? name.slice(0, 64) : undefined),
    };
  }
  if (!isRecord(payload)) return { ok: false, error: chatError('invalid-payload', name) };
  // A refused sendMessage names its clientMessageId (when it has a usable one), so the sender knows which message.
  const { clientMessageId: cid } = payload;
  const refused =
    (name === 'sendMessage' ||
      name === 'editMessage' ||
      name === 'deleteMessage' ||
      name === 'react' ||
      name === 'unreact') &&
    typeof cid === 'string' &&
    cid.length > 0 &&
    cid.length <= MAX_CLIENT_MESSAGE_ID_LENGTH
      ? { clientMessageId: cid }
      : {};
  const fail = (code: ChatErrorCode, detail?: string): CommandResult => ({
    ok: false,
    error: { ...chatError(code, name, detail), ...refused },
    input: { type: name, fields: payload },
  });
  if (isGroupCommandName(name)) {
    const parsed = parseGroupCommand(name, payload);
    return parsed.ok ? parsed : fail(parsed.code, parsed.detail);
  }
  if (isReadingCommandName(name)) {
    const parsed = parseReadingCommand(name, payload);
    return parsed.ok ? parsed : fail(parsed.code, parsed.detail);
  }
  if (isModerationCommandName(name)) {
    const parsed = parseModerationCommand(name, payload);
    return parsed.ok ? parsed : fail(parsed.code, parsed.detail);
  }
  switch (name) {
    case 'sendMessage': {
      const { group, to, clientMessageId, replyTo, attachment } = payload;
      if (attachment !== undefined && !isRecord(attachment)) return fail('invalid-attachment');
      const checked = checkMessageText(
        payload.text === undefined && attachment !== undefined ? '' : payload.text,
        attachment !== undefined,
      );
      if (!checked.ok) return fail(checked.code, checked.detail);
      const { text } = checked;
      if (group !== undefined && to !== undefined) return fail('group-and-to');
      if (group !== undefined && !isValidName(group)) {
        return fail(
          'invalid-group',
          typeof group === 'string' ? nameProblem(group, 'group') : 'not a string',
        );
      }
      if (to !== undefined && !isValidName(to)) {
        return fail('invalid-user', typeof to === 'string' ? nameProblem(to) : 'not a string');
      }
      if (!isOptionalClientMessageId(clientMessageId)) {
        return fail('invalid-client-message-id', `1–${MAX_CLIENT_MESSAGE_ID_LENGTH} characters`);
      }
      if (replyTo !== undefined && !isMessageId(replyTo)) return fail('invalid-reply-to');
      return {
        ok: true,
        command: {
          type: 'sendMessage',
          text,
          ...(group !== undefined ? { group } : {}),
          ...(to !== undefined ? { to } : {}),
          ...(clientMessageId !== undefined ? { clientMessageId } : {}),
          ...(replyTo !== undefined ? { replyTo } : {}),
          ...(attachment !== undefined ? { attachment } : {}),
        },
      };
    }
    case 'editMessage':
    case 'deleteMessage': {
      const { conversation, messageId, text, clientMessageId } = payload;
      if (typeof conversation !== 'string' || parseConversation(conversation) === undefined) {
        return fail('invalid-conversation');
      }
      if (!isMessageId(messageId)) return fail('invalid-message-id');
      let edited: string | undefined;
      if (name === 'editMessage') {
        const checked = checkMessageText(text);
        if (!checked.ok) return fail(checked.code, checked.detail);
        edited = checked.text;
      }
      if (!isOptionalClientMessageId(clientMessageId)) {
        return fail('invalid-client-message-id', `1–${MAX_CLIENT_MESSAGE_ID_LENGTH} characters`);
      }
      const base = {
        conversation,
        messageId,
        ...(clientMessageId !== undefined ? { clientMessageId } : {}),
      };
      return {
        ok: true,
        command:
          name === 'editMessage' ? { type: name, ...base, text: edited as string } : { type: name, ...base },
      };
    }
    case 'react':
    case 'unreact': {
      const { conversation, messageId, emoji, clientMessageId } = payload;
      if (typeof conversation !== 'string' || parseConversation(conversation) === undefined) {
        return fail('invalid-conversation');
      }
      if (!isMessageId(messageId)) return fail('invalid-message-id');
      // Which emoji the chat offers is the server's option (checked when the reaction is stored).
      if (typeof emoji !== 'string' || emoji.length === 0 || emoji.length > MAX_EMOJI_LENGTH) {
        return fail('invalid-emoji');
      }
      if (!isOptionalClientMessageId(clientMessageId)) {
        return fail('invalid-client-message-id', `1–${MAX_CLIENT_MESSAGE_ID_LENGTH} characters`);
      }
      const which = clientMessageId !== undefined ? { clientMessageId } : {};
      return { ok: true, command: { type: name, conversation, messageId, emoji, ...which } };
    }
    case 'findPeople': {
      const { query, limit, after } = payload;
      if (typeof query !== 'string' || query.trim() === '' || [...query].length > MAX_NAME_LENGTH) {
        return fail('invalid-query', `1–${MAX_NAME_LENGTH} characters`);
      }
      if (!isOptionalCount(limit, MAX_PEOPLE_PAGE_SIZE)) {
        return fail('invalid-limit', `from 1 to ${MAX_PEOPLE_PAGE_SIZE}`);
      }
      if (
        after !== undefined &&
        (typeof after !== 'string' || after.length === 0 || after.length > MAX_PEOPLE_CURSOR_LENGTH)
      ) {
        return fail('invalid-after', 'the "next" of the previous page');
      }
      const page = { query, limit: limit ?? DEFAULT_PEOPLE_PAGE_SIZE };
      return { ok: true, command: { type: name, ...page, ...(after !== undefined ? { after } : {}) } };
    }
    case 'loadHistory': {
      const { conversation, before, limit } = payload;
      if (typeof conversation !== 'string' || parseConversation(conversation) === undefined) {
        return fail('invalid-conversation');
      }
      if (
        before !== undefined &&
        (typeof before !== 'string' || before.length === 0 || before.length > MAX_MESSAGE_ID_LENGTH)
      ) {
        return fail(
          'invalid-before',
          `${typeof before === 'string' ? 'this one' : `a ${typeof before}`} is not a string of 1 to ${MAX_MESSAGE_ID_LENGTH} characters`,
        );
      }
      if (!isOptionalCount(limit, MAX_HISTORY_LIMIT)) {
        return fail('invalid-limit', `from 1 to ${MAX_HISTORY_LIMIT}`);
      }
      return {
        ok: true,
        command: {
          type: 'loadHistory',
          conversation,
          limit: limit ?? DEFAULT_HISTORY_LIMIT,
          ...(before !== undefined ? { before } : {}),
        },
      };
    }
    case 'joinGroup':
    case 'leaveGroup': {
      const { group } = payload;
      if (!isValidName(group)) {
        return fail(
          'invalid-group',
          typeof group === 'string' ? nameProblem(group, 'group') : 'give "group"',
        );
      }
      return { ok: true, command: { type: name, group } };
    }
    case 'typing': {
      const { conversation } = payload;
      if (typeof conversation !== 'string' || parseConversation(conversation) === undefined) {
        return fail('invalid-conversation');
      }
      return { ok: true, command: { type: 'typing', conversation } };
    }
    case 'listOnline': {
      const { after, limit } = payload;
      // Any string up to a name's length is a valid cursor (it only says where to start); nothing else is.
      if (
        after !== undefined &&
        (typeof after !== 'string' || after.length === 0 || [...after].length > MAX_NAME_LENGTH)
      ) {
        return fail('invalid-after', `1–${MAX_NAME_LENGTH} characters`);
      }
      if (!isOptionalCount(limit, MAX_ONLINE_PAGE_SIZE)) {
        return fail('invalid-limit', `from 1 to ${MAX_ONLINE_PAGE_SIZE}`);
      }
      return {
        ok: true,
        command: {
          type: 'listOnline',
          limit: limit ?? DEFAULT_ONLINE_PAGE_SIZE,
          ...(after !== undefined ? { after } : {}),
        },
      };
    }
  }
}

/** Longest `emoji` of a reaction, in UTF-16 units (an emoji with its modifiers and joiners fits). */
const MAX_EMOJI_LENGTH = 32;

/** Whether a `clientMessageId` is absent or 1 … {@link MAX_CLIENT_MESSAGE_ID_LENGTH} characters. */
function isOptionalClientMessageId(value: unknown): value is string | undefined {
  return (
    value === undefined ||
    (typeof value === 'string' && value.length > 0 && value.length <= MAX_CLIENT_MESSAGE_ID_LENGTH)
  );
}

/** Whether an optional page size is absent or a whole number from 1 to `max`. */
function isOptionalCount(value: unknown, max: number): value is number | undefined {
  return (
    value === undefined ||
    (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= max)
  );
}
