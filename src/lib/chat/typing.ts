/**
 * Typing indicators (docs/architecture.md, "The chat protocol"): ephemeral, never stored, delivered through
 * the same fan-out as messages to the conversation's members except the sender, and throttled per user and
 * conversation on the server so a client that ignores the page's own throttle costs no more than one that
 * keeps to it.
 */
import { setBounded } from '../bounded-map.js';
import { parseConversation } from '../conversation.js';
import type { GroupRecordStore } from '../conversations/index.js';
import { chatError } from './errors.js';
import type { Fanout } from './fanout.js';
import type { MembershipStore } from './groups/memberships.js';
import { type Caller, nameOf } from './people/caller.js';
import type { PresenceStore } from './presence/presence.js';
import type { ChatEvent } from './wire/protocol.js';

/**
 * The least time between two `typing` events one user may send to one conversation; more within it are
 * dropped (not answered: an error would cost a message of its own). The page sends at most one every
 * `TYPING_SEND_INTERVAL_MS` (3 s) while typing; this leaves room for jitter.
 */
export const DEFAULT_TYPING_MIN_INTERVAL_MS = 2_000;
/**
 * Typing is not relayed in a conversation with more online members than this (docs/architecture.md, "Typing
 * indicators"): in a crowd it says nothing useful and costs one message per recipient.
 */
export const DEFAULT_MAX_TYPING_AUDIENCE = 100;
/** Users × conversations remembered at most (the least recent are forgotten first, which only lets one through). */
export const DEFAULT_MAX_TYPING_KEYS = 10_000;

export interface TypingThrottleOptions {
  /** See {@link DEFAULT_TYPING_MIN_INTERVAL_MS}. */
  readonly minIntervalMs?: number;
  /** See {@link DEFAULT_MAX_TYPING_KEYS}. */
  readonly maxKeys?: number;
  /** The clock, for tests. */
  readonly now?: () => number;
}

/**
 * Which `typing` events go out: at most one per user and conversation every `minIntervalMs`. Kept in one
 * instance's memory: with N Function instances a user's events can reach N of them, so the bound is N per
 * interval (typing is worth no Blob write).
 */
export class TypingThrottle {
  readonly minIntervalMs: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  readonly #last = new Map<string, number>();

  constructor(options: TypingThrottleOptions = {}) {
    this.minIntervalMs = options.minIntervalMs ?? DEFAULT_TYPING_MIN_INTERVAL_MS;
    this.#maxKeys = options.maxKeys ?? DEFAULT_MAX_TYPING_KEYS;
    this.#now = options.now ?? Date.now;
  }

  /** Whether `user`'s typing in `conversation` goes out now (and, when it does, starts a new interval). */
  allow(user: string, conversation: string): boolean {
    // A NUL cannot occur in a user name or a conversation id, so the key is unambiguous.
    const key = `${user}\u0000${conversation}`;
    const now = this.#now();
    const last = this.#last.get(key);
    if (last !== undefined && now - last < this.minIntervalMs) return false;
    setBounded(this.#last, key, now, this.#maxKeys);
    return true;
  }
}

/** What {@link relayTyping} needs of the chat's dependencies. */
export interface TypingDependencies {
  readonly members: Pick<MembershipStore, 'isMember'>;
  readonly fanout: Pick<Fanout, 'toGroup' | 'toUser' | 'toAll'>;
  readonly typing?: Pick<TypingThrottle, 'allow'>;
  /** Who is online (its count bounds every conversation's online members). */
  readonly presence?: Pick<PresenceStore, 'count'>;
  /** A private group's record, read only when more than the bound are online at all. */
  readonly groups?: { readonly records: Pick<GroupRecordStore, 'read'> };
  /** See {@link DEFAULT_MAX_TYPING_AUDIENCE}. */
  readonly maxTypingAudience?: number;
  /** Whether `user` is muted or banned now (moderation); their typing is dropped. Without it nobody is. */
  readonly silenced?: (user: string) => Promise<boolean>;
}

/**
 * How many online members `conversation` has, at most: everyone online for the room and a channel, and no more
 * than its members for a private group (its record is read only when the online count alone is too many).
 */
async function onlineAudience(deps: TypingDependencies, group: string | undefined, max: number) {
  const online = deps.presence?.count() ?? 0;
  if (online <= max || group === undefined || deps.groups === undefined) return online;
  const record = await deps.groups.records.read(group);
  return record?.kind === 'private' ? Math.min(online, record.members.length) : online;
}

/**
 * `typing`: to the conversation's members except the sending connection (the room: every other connection;
 * a private conversation: the other person; a group: the group, whose pages ignore their own user), only
 * from someone who may write there, at most once per user and conversation per throttle interval (more are
 * dropped silently), never from a muted or banned user (dropped too), and not at all where more than
 * `maxTypingAudience` members are online. Nothing is stored and the sender gets no answer.
 */
export async function relayTyping(
  deps: TypingDependencies,
  caller: Caller,
  id: string,
): Promise<ChatEvent | undefined> {
  const { members, fanout, typing } = deps;
  const conversation = parseConversation(id);
  if (conversation === undefined)
    return { event: 'error', payload: chatError('invalid-conversation', 'typing') };
  if (conversation.kind === 'group' && !(await members.isMember(caller.user, conversation.group))) {
    return { event: 'error', payload: chatError('not-a-member', 'typing') };
  }
  if (conversation.kind === 'dm' && !conversation.users.includes(caller.user)) {
    return { event: 'error', payload: chatError('forbidden-conversation', 'typing') };
  }
  if (typing !== undefined && !typing.allow(caller.user, id)) return undefined;
  // After the throttle, so a dropped event costs no look-up of the sender's sanctions.
  if (deps.silenced !== undefined && (await deps.silenced(caller.user))) return undefined;
  const max = deps.maxTypingAudience ?? DEFAULT_MAX_TYPING_AUDIENCE;
  const group = conversation.kind === 'group' ? conversation.group : undefined;
  if (conversation.kind !== 'dm' && (await onlineAudience(deps, group, max)) > max) return undefined;
  const event: ChatEvent = {
    event: 'typing',
    payload: { conversation: id, user: caller.user, ...nameOf(caller) },
  };
  if (conversation.kind === 'group') await fanout.toGroup(conversation.group, event);
  else if (conversation.kind === 'dm') {
    const other = conversation.users[0] === caller.user ? conversation.users[1] : conversation.users[0];
    // A note to self has nobody to tell.
    if (other !== caller.user) await fanout.toUser(other, event);
  } else await fanout.toAll(event, [caller.connectionId]);
  return undefined;
}
