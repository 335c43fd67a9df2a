/**
 * A connection enters the chat: its presence entry, its groups in the service, and the `welcome`
 * (docs/architecture.md, "The chat protocol"). Every read a welcome needs starts at once, each waiting only
 * for what it needs, so a join costs its slowest chain of requests rather than their sum
 * (docs/capacity.md, "What one join, message and membership change cost, and the CPU behind them").
 */
import { DEFAULT_HISTORY_LIMIT, ROOM } from '../../conversation.js';
import { withListedTitles } from '../groups/listed-titles.js';
import { enterGroups } from '../groups/memberships.js';
import type { ChatDependencies } from '../handlers.js';
import { type Caller, nameOf, namesOf } from '../people/caller.js';
import { newestOf, type PageReader, withPage } from '../reading/join-reads.js';
import { unreadPageLimit, welcomeReads } from '../reading/reading.js';
import type { WelcomePayload } from '../wire/protocol.js';
import type { PresenceChanges } from './deltas.js';
import { DEFAULT_ONLINE_PAGE_SIZE } from './presence.js';

/** What {@link enterChat} gives: the welcome, and the send of the entry's presence delta. */
export interface Entry {
  readonly welcome: WelcomePayload;
  /** Resolves once the delta announcing the entry (and any stale users the page found) is sent. */
  readonly announced: Promise<void>;
}

/** What the entry needs of the handlers of its invocation. */
export interface EntryContext {
  /** Adds presence changes to the instance's open batch; resolves once the batch is sent. */
  announce(changes: Partial<PresenceChanges>): Promise<void>;
  /** The recorded display names of `users`. */
  namesOf(users: readonly string[]): Promise<Record<string, string>>;
  now(): number;
}

/**
 * A connection enters: it is put in its groups in the service, its presence recorded, and everyone hears
 * it in the next `presence` delta. Returns the `welcome`, with the first page of the online list and the
 * count, as soon as it is ready, and `announced`, which resolves once the delta is sent (at most one
 * presence window later): the caller delivers the welcome first and ends only once the delta is out.
 * `connected`: the service already has the connection (a `connected` event, not a blocking connect).
 */
export async function enterChat(
  deps: ChatDependencies,
  caller: Caller,
  options: { connected?: boolean },
  context: EntryContext,
): Promise<Entry> {
  const { presence, fanout, lists, people, reads, members, joinReads } = deps;
  const arrived = context.now();
  const reader: PageReader =
    joinReads !== undefined ? joinReads.forArrival(joinReads.arrive()) : deps.history;
  const entered = presence.enter(caller.user, caller.connectionId, options);
  const announced = entered.then(() => context.announce({ joined: [caller.user], names: namesOf([caller]) }));
  // Until the caller takes it, a failed entry must not surface as an unhandled rejection.
  announced.catch(() => undefined);
  // One listing of the caller's folder tells their groups and whether they have a list and read positions
  // (user-folder.ts): a newcomer's are not read at all.
  const folder = members.folderOf(caller.user);
  // Read state never costs a user their welcome (reading.ts): its failure is handled there.
  const positions = folder.then((found) => reads.positions(caller.user, found));
  positions.catch(() => undefined);
  // One read of the room serves the welcome's page and the room's unread count.
  const room = reader.read(ROOM, { limit: Math.max(DEFAULT_HISTORY_LIMIT, unreadPageLimit()) });
  // The connection in its groups: a check that the service still has the user's (SignalR, which keeps them
  // for later connections and forgets them only when it restarts) or one call putting the connection in all
  // of them (Web PubSub), without undoing a removal that runs meanwhile (memberships.ts).
  const groups = folder.then((found) =>
    enterGroups(members, fanout.entryGroups(caller), caller.user, found.groups, {
      ...(deps.membershipRecheckSeconds !== undefined
        ? { recheckSeconds: deps.membershipRecheckSeconds }
        : {}),
    }),
  );
  const conversations = folder.then((found) => lists.read(caller.user, found));
  // The titles of the groups whose entries keep none (channels): their records, as this instance keeps them
  // for a short while (listed-titles.ts).
  const titled = conversations.then((list) => withListedTitles(deps.titles ?? deps.groups.records, list));
  const reading = Promise.all([conversations, groups]).then(([list, joined]) =>
    welcomeReads(
      {
        ...deps,
        history: {
          ...withPage(reader, ROOM, room),
          // The welcome reads pages; a search would read the store itself.
          sizedLinesBefore: (conversation, options) => deps.history.sizedLinesBefore(conversation, options),
        },
      },
      caller.user,
      list,
      joined,
      positions,
    ),
  );
  // From a listing started after the connection reached the service and the caller's entry was written
  // (shared by the joins waiting for one, and by the caller's own delta): a user who entered anywhere before
  // is in it, and anyone later reaches the caller as a delta newer than the page's `at`
  // (docs/architecture.md, "Presence and group memberships"). It does not wait for the caller's own delta.
  const online = entered.then(() =>
    presence.page((u) => fanout.userExists(u), {
      include: caller.user,
      limit: deps.onlinePageSize ?? DEFAULT_ONLINE_PAGE_SIZE,
      listedSince: arrived,
    }),
  );
  // Stale users the page swept are announced whether or not the rest of the welcome can be made.
  const gone = online.then((page) =>
    page.gone.length > 0 ? context.announce({ left: page.gone }) : undefined,
  );
  gone.catch(() => undefined);
  // The others' names from the directory (bounded by the page), the caller's own from the caller.
  const names = online.then(async (page) => ({
    ...(await context.namesOf(page.users)),
    ...namesOf([caller]),
  }));
  const [page, list, joined, listed, known, readState] = await Promise.all([
    room,
    titled,
    groups,
    online,
    names,
    reading,
    people.seen(caller.user, caller.name ?? caller.user),
  ]);
  const welcome: WelcomePayload = {
    user: caller.user,
    ...nameOf(caller),
    online: listed.users,
    ...(Object.keys(known).length > 0 ? { names: known } : {}),
    onlineCount: listed.count,
    ...(listed.next !== undefined ? { onlineNext: listed.next } : {}),
    onlineAt: listed.at,
    groups: joined,
    conversations: list,
    history: newestOf(page, DEFAULT_HISTORY_LIMIT),
    ...readState,
  };
  return { welcome, announced: Promise.all([announced, gone]).then(() => undefined) };
}
