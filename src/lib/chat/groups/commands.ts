/**
 * Validation of the commands of private groups and public channels (docs/architecture.md, "Private groups and
 * channels"). commands.ts hands them here; the rules about who may do what are checked by groups.ts on the
 * server, against the user the service vouches for.
 */
import { isValidName, nameProblem } from '../../conversation.js';
import {
  DEFAULT_CHANNEL_PAGE_SIZE,
  GROUP_LIMIT_CEILINGS,
  type GroupKind,
  MAX_CHANNEL_CURSOR_LENGTH,
  MAX_CHANNEL_PAGE_SIZE,
} from '../../conversations/index.js';
import { cleanLine } from '../../display-name.js';
import type { ChatErrorCode } from '../errors.js';

export const GROUP_COMMAND_NAMES = [
  'createGroup',
  'addMember',
  'removeMember',
  'renameGroup',
  'setTopic',
  'listMembers',
  'deleteGroup',
  'listChannels',
] as const;
export type GroupCommandName = (typeof GROUP_COMMAND_NAMES)[number];

export type GroupCommand =
  | {
      readonly type: 'createGroup';
      readonly group: string;
      readonly kind: GroupKind;
      /** The other members of a private group (the creator is its owner and first member). */
      readonly members: readonly string[];
      readonly title?: string;
      readonly topic?: string;
    }
  | { readonly type: 'addMember'; readonly group: string; readonly user: string; readonly owner: boolean }
  | { readonly type: 'removeMember'; readonly group: string; readonly user: string }
  | { readonly type: 'renameGroup'; readonly group: string; readonly title: string }
  | { readonly type: 'setTopic'; readonly group: string; readonly topic: string }
  | { readonly type: 'listMembers'; readonly group: string }
  | { readonly type: 'deleteGroup'; readonly group: string }
  | { readonly type: 'listChannels'; readonly after?: string; readonly limit: number };

export function isGroupCommandName(name: string): name is GroupCommandName {
  return (GROUP_COMMAND_NAMES as readonly string[]).includes(name);
}

type Parsed = { ok: true; command: GroupCommand } | { ok: false; code: ChatErrorCode; detail?: string };

const refuse = (code: ChatErrorCode, detail?: string): Parsed =>
  detail === undefined ? { ok: false, code } : { ok: false, code, detail };

// The shape of a payload and the ceilings of the settings; the configured limits are groups.ts's to check.
const MAX_MEMBERS = GROUP_LIMIT_CEILINGS.maxMembers;
const MAX_TITLE_LENGTH = GROUP_LIMIT_CEILINGS.maxTitleLength;
const MAX_TOPIC_LENGTH = GROUP_LIMIT_CEILINGS.maxTopicLength;

/** Validates one group command's payload. */
export function parseGroupCommand(name: GroupCommandName, payload: Record<string, unknown>): Parsed {
  if (name === 'listChannels') {
    const { after, limit } = payload;
    if (
      after !== undefined &&
      (typeof after !== 'string' || after.length === 0 || after.length > MAX_CHANNEL_CURSOR_LENGTH)
    ) {
      return refuse('invalid-after', `the "next" of the previous page`);
    }
    if (
      limit !== undefined &&
      !(typeof limit === 'number' && Number.isInteger(limit) && limit >= 1 && limit <= MAX_CHANNEL_PAGE_SIZE)
    ) {
      return refuse('invalid-limit', `from 1 to ${MAX_CHANNEL_PAGE_SIZE}`);
    }
    const command = {
      type: name,
      limit: (limit as number | undefined) ?? DEFAULT_CHANNEL_PAGE_SIZE,
      ...(after !== undefined ? { after: after as string } : {}),
    };
    return { ok: true, command };
  }
  const { group } = payload;
  if (!isValidName(group)) {
    return refuse('invalid-group', typeof group === 'string' ? nameProblem(group, 'group') : 'give "group"');
  }
  switch (name) {
    case 'createGroup': {
      const { kind = 'private', members = [], title, topic } = payload;
      if (kind !== 'private' && kind !== 'channel') return refuse('invalid-kind');
      if (!Array.isArray(members) || members.length >= MAX_MEMBERS) {
        return refuse('invalid-members', `a list of at most ${MAX_MEMBERS - 1} user ids`);
      }
      const bad = members.find((m) => !isValidName(m));
      if (bad !== undefined) {
        return refuse('invalid-user', typeof bad === 'string' ? nameProblem(bad) : 'not a string');
      }
      if (kind === 'channel' && members.length > 0) {
        return refuse('invalid-members', 'a channel has no member list: anyone may join it');
      }
      const titled = title === undefined ? undefined : cleanText(title, 'invalid-title', MAX_TITLE_LENGTH);
      if (typeof titled === 'object') return titled;
      const topical = topic === undefined ? undefined : cleanText(topic, 'invalid-topic', MAX_TOPIC_LENGTH);
      if (typeof topical === 'object') return topical;
      return {
        ok: true,
        command: {
          type: name,
          group,
          kind,
          members: [...new Set(members as string[])],
          ...(titled !== undefined ? { title: titled } : {}),
          ...(topical !== undefined ? { topic: topical } : {}),
        },
      };
    }
    case 'addMember':
    case 'removeMember': {
      const { user, owner } = payload;
      if (!isValidName(user)) {
        return refuse('invalid-user', typeof user === 'string' ? nameProblem(user) : 'give "user"');
      }
      if (name === 'removeMember') return { ok: true, command: { type: name, group, user } };
      if (owner !== undefined && typeof owner !== 'boolean') return refuse('invalid-owner');
      return { ok: true, command: { type: name, group, user, owner: owner === true } };
    }
    case 'renameGroup': {
      const title = cleanText(payload.title ?? '', 'invalid-title', MAX_TITLE_LENGTH);
      if (typeof title !== 'string') return title;
      return { ok: true, command: { type: name, group, title } };
    }
    case 'setTopic': {
      const { topic } = payload;
      if (typeof topic !== 'string') return refuse('invalid-topic', 'give "topic" (empty to clear it)');
      if (topic.trim() === '') return { ok: true, command: { type: name, group, topic: '' } };
      const cleaned = cleanText(topic, 'invalid-topic', MAX_TOPIC_LENGTH);
      if (typeof cleaned !== 'string') return cleaned;
      return { ok: true, command: { type: name, group, topic: cleaned } };
    }
    case 'listMembers':
    case 'deleteGroup':
      return { ok: true, command: { type: name, group } };
  }
}

/**
 * A title or topic cleaned as a display name is (`cleanLine`, src/lib/display-name.ts: one line, no controls or
 * invisible format characters such as a right-to-left override): the cleaned text when it keeps 1 … `max`
 * characters, else the refusal. A topic keeps no line breaks either: the page shows it as one line of text
 * beside the title, and edits it in a one-line input.
 */
function cleanText(value: unknown, code: ChatErrorCode, max: number): string | Parsed {
  const cleaned = typeof value === 'string' ? cleanLine(value) : '';
  if (cleaned === '') {
    return refuse(code, 'nothing printable is left once controls and invisible characters are removed');
  }
  // The configured limit, at most this ceiling, is the handlers' to check (and to name in its refusal).
  if ([...cleaned].length > max) return refuse(code, `at most ${max} characters`);
  return cleaned;
}
