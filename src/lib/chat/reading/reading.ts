/**
 * Read state (docs/architecture.md, "Read state"): `markRead` moves the user's last-read position of a
 * conversation forward to a line stored in it (marked-ids.ts checks it; positions.ts coalesces the Blob writes),
 * tells the user's other connections (`read`) and, in a private conversation, the other person (`seen`);
 * `loadReadState` answers the user's position and the other person's; the welcome carries the unread counts,
 * bounded so a join never reads whole histories.
 * Every rule is checked against the user the service names: nobody marks or learns the read state of a
 * conversation they cannot read.
 */

import { decodeTime } from 'ulid';
import { groupConversation, parseConversation, ROOM } from '../../conversation.js';
import type { ConversationList, GroupRecordStore } from '../../conversations/index.js';
import type { ChatMessage, HistoryPage } from '../../history/index.js';
import { mapLimited } from '../../map-limited.js';
import { chatError } from '../errors.js';
import type { Fanout } from '../fanout.js';
import { type MembershipStore, readRefusal } from '../groups/memberships.js';
import type { Caller } from '../people/caller.js';
import type { ChatEvent, ReadMark } from '../wire/protocol.js';
import type { ReadingCommand } from './commands.js';
import type { MarkedIds } from './marked-ids.js';
import type { ReadPositionStore } from './positions.js';
import { type SearchDependencies, searchMessages } from './search.js';

/**
 * Unread messages counted exactly per conversation at a join; past it the count says "more" (the page shows
 * "99+"). A count reads the newest `DEFAULT_MAX_UNREAD_COUNT + 1` lines of the conversation and no more.
 */
export const DEFAULT_MAX_UNREAD_COUNT = 99;
/** Conversations whose unread messages a join counts at most (the room, then the newest of the list). */
export const DEFAULT_MAX_UNREAD_CONVERSATIONS = 50;
/** Conversations counted at once at a join. */
export const DEFAULT_UNREAD_CONCURRENCY = 8;
/** The messages a count reads: the newest lines past the bound (a history page holds at most 100). */
export function unreadPageLimit(maxUnreadCount = DEFAULT_MAX_UNREAD_COUNT): number {
  return Math.min(maxUnreadCount + 1, 100);
}
/** How far in the future a marked message id's time may be (clock skew between instances). */
export const MARK_FUTURE_ALLOWANCE_MS = 60_000;

export interface ReadingDependencies extends Omit<SearchDependencies, 'history'> {
  readonly reads: Pick<ReadPositionStore, 'positions' | 'mark'>;
  readonly history: SearchDependencies['history'] & {
    read(conversation: string, options: { before?: string; limit: number }): Promise<HistoryPage>;
  };
  readonly members: Pick<MembershipStore, 'isMember'>;
  /** The records a refusal names its group by (refusals.ts). */
  readonly groups?: { readonly records: Pick<GroupRecordStore, 'read'> };
  readonly fanout: Pick<Fanout, 'toUser'>;
  /** See {@link DEFAULT_MAX_UNREAD_COUNT}. */
  readonly maxUnreadCount?: number;
  /** See {@link DEFAULT_MAX_UNREAD_CONVERSATIONS}. */
  readonly maxUnreadConversations?: number;
  readonly now?: () => number;
}

export class ReadingHandlers {
  readonly #deps: ReadingDependencies;

  constructor(deps: ReadingDependencies) {
    this.#deps = deps;
  }

  /**
   * Runs a read-state or search command, once its conversation is checked readable; `marked` tells whether a
   * `markRead`'s id is stored (marked-ids.ts).
   */
  async run(
    caller: Caller,
    command: ReadingCommand,
    marked: Pick<MarkedIds, 'stored'>,
  ): Promise<ChatEvent | undefined> {
    const { members, groups } = this.#deps;
    const refusal = await readRefusal(
      members,
      caller.user,
      command.type,
      command.conversation,
      groups?.records,
    );
    if (refusal !== undefined) return { event: 'error', payload: refusal };
    if (command.type === 'searchMessages') return searchMessages(this.#deps, command);
    return command.type === 'markRead'
      ? this.#markRead(caller, command.conversation, command.messageId, marked)
      : this.#readState(caller, command.conversation);
  }

  /**
   * Moves the position forward to a line stored in the conversation; when it moved, the user's connections and
   * a private conversation's other person hear it.
   */
  async #markRead(
    caller: Caller,
    conversation: string,
    id: string,
    marked: Pick<MarkedIds, 'stored'>,
  ): Promise<ChatEvent | undefined> {
    const { reads, fanout } = this.#deps;
    const now = this.#deps.now?.() ?? Date.now();
    // A time ahead of every clock cannot be stored yet: refused without a read.
    if (decodeTime(id) > now + MARK_FUTURE_ALLOWANCE_MS) {
      return {
        event: 'error',
        payload: chatError(
          'invalid-message-id',
          'markRead',
          `its time is more than ${MARK_FUTURE_ALLOWANCE_MS / 1000} s ahead of the server's clock`,
        ),
      };
    }
    if (!(await marked.stored(conversation, id))) {
      return {
        event: 'error',
        payload: chatError('message-not-found', 'markRead', 'mark a message stored in this conversation'),
      };
    }
    if (!(await reads.mark(caller.user, conversation, id))) return undefined;
    const other = otherOf(conversation, caller.user);
    await Promise.all([
      fanout.toUser(caller.user, { event: 'read', payload: { conversation, lastReadId: id } }),
      other === undefined
        ? undefined
        : fanout.toUser(other, {
            event: 'seen',
            payload: { conversation, user: caller.user, lastReadId: id },
          }),
    ]);
    return undefined;
  }

  async #readState(caller: Caller, conversation: string): Promise<ChatEvent> {
    const { reads } = this.#deps;
    const other = otherOf(conversation, caller.user);
    const [mine, theirs] = await Promise.all([
      reads.positions(caller.user),
      other === undefined ? undefined : reads.positions(other),
    ]);
    const lastReadId = mine.get(conversation);
    const seen = theirs?.get(conversation);
    return {
      event: 'readState',
      payload: {
        conversation,
        ...(lastReadId !== undefined ? { lastReadId } : {}),
        ...(other !== undefined && seen !== undefined ? { seen: { user: other, lastReadId: seen } } : {}),
      },
    };
  }

  /**
   * The welcome's read state: the user's positions, and the unread count of the room and of the newest
   * `maxUnreadConversations` of the list (one blob read, then one bounded history read per conversation).
   * A conversation without a position counts from when it entered the list (a private conversation: all the
   * other person's messages); the room without one counts nothing (a newcomer has missed nothing).
   */
  async welcome(
    user: string,
    list: ConversationList,
    groups: readonly string[],
    read: Promise<ReadonlyMap<string, string>> = this.#deps.reads.positions(user),
  ): Promise<ReadMark[]> {
    const positions = await read;
    const since = new Map<string, string | undefined>([[ROOM, undefined]]);
    for (const entry of [...list.entries].reverse()) {
      since.set(entry.conversation, entry.kind === 'dm' ? undefined : entry.addedAt);
    }
    for (const group of groups) {
      const id = groupConversation(group);
      if (!since.has(id)) since.set(id, undefined);
    }
    const counted = [...since].slice(
      0,
      this.#deps.maxUnreadConversations ?? DEFAULT_MAX_UNREAD_CONVERSATIONS,
    );
    const marks: ReadMark[] = [];
    await mapLimited(counted, DEFAULT_UNREAD_CONCURRENCY, async ([conversation, addedAt]) => {
      const lastReadId = positions.get(conversation);
      if (lastReadId === undefined && conversation === ROOM) return;
      // A history that cannot be read now costs this conversation its count, not the user their welcome.
      const unread = await this.#unread(user, conversation, lastReadId, addedAt).catch(() => undefined);
      if (unread === undefined) return;
      if (lastReadId === undefined && unread.unread === 0) return;
      marks.push({ conversation, ...(lastReadId !== undefined ? { lastReadId } : {}), ...unread });
    });
    return marks;
  }

  /** Messages of others after the position (or after `addedAt`), counted in the newest lines only. */
  async #unread(
    user: string,
    conversation: string,
    lastReadId: string | undefined,
    addedAt: string | undefined,
  ): Promise<{ unread: number; more?: true }> {
    const max = this.#deps.maxUnreadCount ?? DEFAULT_MAX_UNREAD_COUNT;
    const page = await this.#deps.history.read(conversation, { limit: unreadPageLimit(max) });
    const after = (m: ChatMessage) =>
      lastReadId !== undefined ? m.id > lastReadId : addedAt === undefined || m.sentAt >= addedAt;
    let unread = 0;
    for (const m of page.messages) if (after(m) && m.kind === undefined && m.from !== user) unread++;
    // Everything read was unread and there is more before it: the count is a lower bound.
    const oldest = page.messages[0];
    const cut = page.hasMore && oldest !== undefined && after(oldest);
    if (unread > max) return { unread: max, more: true };
    return cut && unread > 0 ? { unread, more: true } : { unread };
  }
}

/**
 * The welcome's `reads` (docs/architecture.md, "Read state"), or nothing when there are none or they could not be
 * read: read state never costs a user their welcome.
 */
export async function welcomeReads(
  deps: ReadingDependencies,
  user: string,
  list: ConversationList,
  groups: readonly string[],
  positions?: Promise<ReadonlyMap<string, string>>,
): Promise<{ reads?: ReadMark[] }> {
  const reads = await new ReadingHandlers(deps).welcome(user, list, groups, positions).catch(() => []);
  return reads.length > 0 ? { reads } : {};
}

/** The other person of a private conversation of `user`'s (undefined elsewhere, and in a note to self). */
function otherOf(conversation: string, user: string): string | undefined {
  const parsed = parseConversation(conversation);
  if (parsed?.kind !== 'dm') return undefined;
  const [a, b] = parsed.users;
  const other = a === user ? b : a;
  return other === user ? undefined : other;
}
