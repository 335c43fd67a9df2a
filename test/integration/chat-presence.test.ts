import type { ContainerClient } from '@azure/storage-blob';
import { beforeEach, describe, expect, it } from 'vitest';
import { MembershipStore } from '../../src/lib/chat/groups/memberships.js';
import {
  CONNECT_ALLOWANCE_MS,
  PRESENCE_PREFIX,
  PresenceStore,
} from '../../src/lib/chat/presence/presence.js';
import { useAzurite } from '../support/fixtures.js';

const blob = useAzurite();
let container: ContainerClient;
// A fresh container per test: each starts with nobody online.
beforeEach(async () => {
  container = blob.container();
  await container.create();
});

async function presenceNames(): Promise<string[]> {
  const names: string[] = [];
  for await (const blob of container.listBlobsFlat({ prefix: PRESENCE_PREFIX })) names.push(blob.name);
  return names.sort();
}

/** `target` with each listing it is asked for (its kind and prefix) told to `seen` before it runs. */
function watchListings(
  target: ContainerClient,
  seen: (kind: 'flat' | 'hierarchy', prefix: string) => void,
): ContainerClient {
  return new Proxy(target, {
    get(t, key, receiver) {
      if (key === 'listBlobsFlat')
        return (...args: Parameters<ContainerClient['listBlobsFlat']>) => {
          seen('flat', args[0]?.prefix ?? '');
          return t.listBlobsFlat(...args);
        };
      if (key === 'listBlobsByHierarchy')
        return (...args: Parameters<ContainerClient['listBlobsByHierarchy']>) => {
          seen('hierarchy', args[1]?.prefix ?? '');
          return t.listBlobsByHierarchy(...args);
        };
      return Reflect.get(t, key, receiver);
    },
  });
}

/** A container whose listings of the whole presence prefix (the roster's) are counted. */
function countingListings(target: ContainerClient): { container: ContainerClient; listings: () => number } {
  let listings = 0;
  const container = watchListings(target, (_, prefix) => {
    if (prefix === PRESENCE_PREFIX) listings++;
  });
  return { container, listings: () => listings };
}

/**
 * A container that counts what listings under the presence prefix return: entries (each parsed with its
 * properties) and prefixes (one per user, a name alone).
 */
function countingItems(target: ContainerClient): {
  container: ContainerClient;
  items: () => { entries: number; prefixes: number };
} {
  const counts = { entries: 0, prefixes: 0 };
  async function* counted<T extends object>(listing: AsyncIterable<T>): AsyncGenerator<T> {
    for await (const item of listing) {
      if ('kind' in item && item.kind === 'prefix') counts.prefixes++;
      else counts.entries++;
      yield item;
    }
  }
  const container = new Proxy(target, {
    get(t, key, receiver) {
      if (key === 'listBlobsFlat')
        return (...args: Parameters<ContainerClient['listBlobsFlat']>) =>
          args[0]?.prefix?.startsWith(PRESENCE_PREFIX)
            ? counted(t.listBlobsFlat(...args))
            : t.listBlobsFlat(...args);
      if (key === 'listBlobsByHierarchy')
        return (...args: Parameters<ContainerClient['listBlobsByHierarchy']>) =>
          args[1]?.prefix?.startsWith(PRESENCE_PREFIX)
            ? counted(t.listBlobsByHierarchy(...args))
            : t.listBlobsByHierarchy(...args);
      return Reflect.get(t, key, receiver);
    },
  });
  return { container, items: () => ({ ...counts }) };
}

describe('presence in Blob, confirmed by the service', () => {
  it('announces the last of several connections of one user', async () => {
    const presence = new PresenceStore(container);
    await presence.enter('ann', 'c1');
    await presence.enter('ann', 'c2');
    expect(await presence.leave('ann', 'c1')).toEqual({ lastConnection: false });
    expect(await presence.leave('ann', 'c2')).toEqual({ lastConnection: true });
    // A second instance sees the same state: nothing is held in memory alone.
    await presence.enter('ann', 'c3');
    expect(await new PresenceStore(container).leave('ann', 'c3')).toEqual({ lastConnection: true });
  });

  it('pages the online list in name order with a count, confirming only the users of the page', async () => {
    const presence = new PresenceStore(container, { sweepBatch: 0 });
    const users = ['u1', 'u2', 'u3', 'u4', 'u5'];
    await Promise.all(users.map((u) => presence.enter(u, `${u}-c`)));
    const asked: string[] = [];
    const exists = async (user: string) => {
      asked.push(user);
      return true;
    };
    const first = await presence.page(exists, { limit: 2 });
    expect(first).toEqual({ users: ['u1', 'u2'], count: 5, next: 'u2', gone: [], at: expect.any(Number) });
    expect(asked.sort()).toEqual(['u1', 'u2']);
    const second = await presence.page(exists, { limit: 2, after: first.next });
    expect(second).toEqual({ users: ['u3', 'u4'], count: 5, next: 'u4', gone: [], at: expect.any(Number) });
    expect(await presence.page(exists, { limit: 2, after: second.next })).toEqual({
      users: ['u5'],
      count: 5,
      gone: [],
      at: expect.any(Number),
    });
    // The user entering right now is counted and listed where it sorts, confirmed or not.
    expect(await presence.page(async () => true, { limit: 3, include: 'u0' })).toMatchObject({
      users: ['u0', 'u1', 'u2'],
      count: 6,
    });
    await Promise.all(users.map((u) => presence.leave(u, `${u}-c`)));
    expect((await presence.page(exists)).count).toBe(0);
  });

  it('leaves out users the service does not know, and deletes their entries after the grace period as gone', async () => {
    let now = Date.now();
    const presence = new PresenceStore(container, { staleGraceMs: 60_000, now: () => now, sweepBatch: 0 });
    await presence.enter('bob', 'b1');
    await presence.enter('ghost', 'g1'); // the service crashed: no disconnect ever came
    await presence.enter('Zoë lee', 'z1');
    const known = new Set(['bob', 'Zoë lee']);
    const exists = async (user: string) => known.has(user);
    // Past the time a connect may take: the ghost is left out of the count too, not only of the page.
    now += CONNECT_ALLOWANCE_MS + 5_000;
    expect(await presence.page(exists)).toEqual({
      users: ['Zoë lee', 'bob'],
      count: 2,
      gone: [],
      at: expect.any(Number),
    });
    // Within the grace period the entry is kept (a websocket connect writes it before the service has the connection).
    expect(await presenceNames()).toContain(`${PRESENCE_PREFIX}ghost/g1`);
    now += 120_000;
    expect(await presence.page(exists)).toEqual({
      users: ['Zoë lee', 'bob'],
      count: 2,
      gone: ['ghost'],
      at: expect.any(Number),
    });
    expect(await presenceNames()).not.toContain(`${PRESENCE_PREFIX}ghost/g1`);
    await presence.leave('bob', 'b1');
    await presence.leave('Zoë lee', 'z1');
  });

  it('sweeps a bounded batch beyond the pages asked for, so stale entries nobody pages to go too', async () => {
    let now = Date.now();
    const presence = new PresenceStore(container, {
      staleGraceMs: 1_000,
      now: () => now,
      rosterTtlMs: 0,
      sweepBatch: 2,
    });
    const ghosts = ['g1', 'g2', 'g3', 'g4'];
    await Promise.all(ghosts.map((u) => presence.enter(u, `${u}-c`)));
    await presence.enter('ann', 'a1');
    now += 5_000;
    const asked: string[] = [];
    const exists = async (user: string) => {
      asked.push(user);
      return user === 'ann';
    };
    // A page of one (ann) with a sweep of two per listing: each listing checks at most 1 + 2 users.
    const first = await presence.page(exists, { limit: 1 });
    expect(first.users).toEqual(['ann']);
    expect(asked.length).toBeLessThanOrEqual(3);
    const gone = new Set(first.gone);
    for (let i = 0; i < 3 && gone.size < ghosts.length; i++) {
      asked.length = 0;
      for (const user of (await presence.page(exists, { limit: 1 })).gone) gone.add(user);
      expect(asked.length).toBeLessThanOrEqual(3);
    }
    expect([...gone].sort()).toEqual(ghosts);
    expect(await presenceNames()).toEqual([`${PRESENCE_PREFIX}ann/a1`]);
    await presence.leave('ann', 'a1');
  });

  it('lists the presence prefix once per roster lifetime, however many joins come, and sees other instances after it', async () => {
    let now = Date.now();
    const { container: counted, listings } = countingListings(container);
    const presence = new PresenceStore(counted, { rosterTtlMs: 10_000, now: () => now });
    const exists = async () => true;
    const users = Array.from({ length: 20 }, (_, i) => `storm${String(i).padStart(2, '0')}`);
    // A join storm: every join writes its entry and asks for the first page, all at once.
    const pages = await Promise.all(
      users.map(async (u) => {
        await presence.enter(u, `${u}-c`);
        return presence.page(exists, { include: u, limit: 5 });
      }),
    );
    expect(listings()).toBe(1);
    // Each page is sorted, at most its size, with its joiner where the joiner sorts into it; who else is on it
    // depends on how far the storm got when the one listing ran (the others come as presence deltas).
    pages.forEach((p, i) => {
      expect(p.users).toEqual([...new Set(p.users)].filter((u) => users.includes(u)).sort());
      expect(p.users.length).toBeLessThanOrEqual(5);
      if (i < 5) expect(p.users).toContain(users[i]);
    });
    expect((await presence.page(exists)).count).toBe(20);
    // Another instance's entry reaches this roster at its next listing.
    await new PresenceStore(container).enter('other', 'o1');
    expect((await presence.page(exists)).count).toBe(20);
    now += 10_000;
    expect((await presence.page(exists)).count).toBe(21);
    expect(listings()).toBe(2);
    await Promise.all(users.map((u) => presence.leave(u, `${u}-c`)));
    await presence.leave('other', 'o1');
  });

  it('asks the service about a confirmed user once per confirmation time, and shares checks of concurrent pages', async () => {
    let now = Date.now();
    const presence = new PresenceStore(container, {
      confirmationTtlMs: 10_000,
      now: () => now,
      sweepBatch: 0,
    });
    await presence.enter('eve', 'e1');
    await presence.enter('fay', 'f1'); // the service does not have fay's connection yet
    const asked: string[] = [];
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const exists = async (user: string) => {
      asked.push(user);
      await gate;
      return user === 'eve';
    };
    const pages = Promise.all([1, 2, 3].map(() => presence.page(exists)));
    while (asked.length < 2) await new Promise((resolve) => setImmediate(resolve));
    release();
    expect((await pages).map((p) => p.users)).toEqual([['eve'], ['eve'], ['eve']]);
    expect(asked.sort()).toEqual(['eve', 'fay']);
    asked.length = 0;
    await presence.page(exists);
    expect(asked).toEqual(['fay']);
    now += 10_000;
    asked.length = 0;
    await presence.page(exists);
    expect(asked.sort()).toEqual(['eve', 'fay']);
    await presence.leave('eve', 'e1');
    await presence.leave('fay', 'f1');
  });

  it('takes a connection the service announced as connected as confirmed, and asks about the others', async () => {
    let now = Date.now();
    const presence = new PresenceStore(container, {
      confirmationTtlMs: 10_000,
      now: () => now,
      sweepBatch: 0,
    });
    await presence.enter('gus', 'g1', { connected: true });
    await presence.enter('hal', 'h1'); // a blocking connect: the service does not have it yet
    const asked: string[] = [];
    const exists = async (user: string) => {
      asked.push(user);
      return true;
    };
    expect((await presence.page(exists)).users).toEqual(['gus', 'hal']);
    expect(asked).toEqual(['hal']);
    // The confirmation lasts as long as an answer of the service would.
    now += 10_000;
    asked.length = 0;
    await presence.page(exists);
    expect(asked.sort()).toEqual(['gus', 'hal']);
    await presence.leave('gus', 'g1');
    await presence.leave('hal', 'h1');
  });

  it("takes another instance's entry of an announced connection as confirmed for the confirmation time", async () => {
    let now = Date.now();
    const presence = new PresenceStore(container, {
      confirmationTtlMs: 10_000,
      now: () => now,
      sweepBatch: 0,
    });
    // Entered on another instance: ivy announced by the service (`connected`), jon by a blocking connect.
    const elsewhere = new PresenceStore(container);
    await elsewhere.enter('ivy', 'i1', { connected: true });
    await elsewhere.enter('jon', 'j1');
    const asked: string[] = [];
    const exists = async (user: string) => {
      asked.push(user);
      return true;
    };
    expect((await presence.page(exists)).users).toEqual(['ivy', 'jon']);
    expect(asked).toEqual(['jon']);
    // The entry vouches for its connection as long as an answer of the service would, counted from its write.
    now += 11_000;
    asked.length = 0;
    await presence.page(exists);
    expect(asked.sort()).toEqual(['ivy', 'jon']);
    await elsewhere.leave('ivy', 'i1');
    await elsewhere.leave('jon', 'j1');
  });

  it('gives a storm of joins pages from listings started after each join, one listing for all that wait', async () => {
    const { container: counted, listings } = countingListings(container);
    const presence = new PresenceStore(counted, { rosterTtlMs: 60_000 });
    const exists = async () => true;
    await presence.page(exists); // the roster is fresh: only `listedSince` lists now
    const before = listings();
    const users = Array.from({ length: 20 }, (_, i) => `wave${String(i).padStart(2, '0')}`);
    // Another instance's entry, written before the joins arrive, must be in every page.
    await new PresenceStore(container).enter('elsewhere', 'x1');
    const pages = await Promise.all(
      users.map(async (u) => {
        const arrived = Date.now();
        await presence.enter(u, `${u}-c`, { connected: true });
        return presence.page(exists, { include: u, limit: 100, listedSince: arrived });
      }),
    );
    expect(pages.every((p) => p.users.includes('elsewhere'))).toBe(true);
    // Joins that arrive while a listing runs share the next one: far fewer listings than joins.
    expect(listings() - before).toBeGreaterThanOrEqual(1);
    expect(listings() - before).toBeLessThanOrEqual(2);
    await Promise.all(users.map((u) => presence.leave(u, `${u}-c`)));
    await presence.leave('elsewhere', 'x1');
  });

  it("reads each user's entries at most once per instance in a join storm across three instances", async () => {
    // Per instance: listings of the whole prefix (the roster) and of each user's own entries.
    const instances = Array.from({ length: 3 }, () => {
      const reads = new Map<string, number>();
      let rosters = 0;
      const counted = watchListings(container, (kind, prefix) => {
        if (kind === 'hierarchy' && prefix === PRESENCE_PREFIX) rosters++;
        else if (kind === 'flat' && prefix.startsWith(PRESENCE_PREFIX) && prefix !== PRESENCE_PREFIX)
          reads.set(prefix, (reads.get(prefix) ?? 0) + 1);
      });
      return { presence: new PresenceStore(counted), reads, rosters: () => rosters };
    });
    const exists = async () => true;
    const users = Array.from({ length: 60 }, (_, i) => `storm${String(i).padStart(2, '0')}`);
    const instanceOf = (i: number) =>
      (instances[i % instances.length] as (typeof instances)[number]).presence;
    // Every join at once, round robin over the instances: all entries written, then every joiner's page at once
    // (an instance's pages wait for one listing and check the same users together), then every delta.
    const arrived = Date.now();
    await Promise.all(users.map((u, i) => instanceOf(i).enter(u, `${u}-c`, { connected: true })));
    const pages = await Promise.all(
      users.map((u, i) => instanceOf(i).page(exists, { include: u, limit: 100, listedSince: arrived })),
    );
    await Promise.all(users.map((u, i) => instanceOf(i).settle([u])));
    // Each joiner sees itself, and once the storm is over every instance lists everyone.
    for (const [i, page] of pages.entries()) expect(page.users).toContain(users[i]);
    for (const { presence } of instances) expect((await presence.page(exists)).users).toEqual(users);
    for (const { reads, rosters } of instances) {
      // A user's entries are read at most once by an instance (never its own joiners'), whatever the storm.
      expect(Math.max(0, ...reads.values())).toBeLessThanOrEqual(1);
      expect(reads.size).toBeLessThanOrEqual(users.length - users.length / instances.length);
      // Roster listings are shared by the joins waiting for one: at most one per join, plus the last page's.
      expect(rosters()).toBeLessThanOrEqual(users.length / instances.length + 1);
    }
    await Promise.all(users.map((u, i) => instanceOf(i).leave(u, `${u}-c`)));
  });

  it('lists one prefix per user for the roster, and reads entries only of users a check needs', async () => {
    let now = Date.now();
    // Entered on another instance, announced by the service (`connected`); 150 users, a page of 100.
    const elsewhere = new PresenceStore(container);
    const users = Array.from({ length: 150 }, (_, i) => `many${String(i).padStart(3, '0')}`);
    for (let i = 0; i < users.length; i += 25)
      await Promise.all(users.slice(i, i + 25).map((u) => elsewhere.enter(u, `${u}-c`, { connected: true })));
    const { container: counted, items } = countingItems(container);
    const presence = new PresenceStore(counted, { rosterTtlMs: 0, sweepBatch: 0, now: () => now });
    const asked: string[] = [];
    const exists = async (user: string) => {
      asked.push(user);
      return true;
    };
    // Listed just now, the page's users are read once: their marked entries vouch for them, nobody is asked.
    const first = await presence.page(exists, { limit: 100 });
    expect(first.count).toBe(150);
    expect(first.users).toEqual(users.slice(0, 100));
    expect(items()).toEqual({ prefixes: 150, entries: 100 });
    expect(asked).toEqual([]);
    // Later listings parse no entry: a user's prefix, and what the instance read of their entries, serve.
    now += 11_000;
    const second = await presence.page(exists, { limit: 100 });
    expect(second.users).toEqual(users.slice(0, 100));
    expect(items()).toEqual({ prefixes: 300, entries: 100 });
    // Past the confirmation time an entry no longer vouches: the service is asked, as it would have been.
    expect(asked).toHaveLength(100);
    await Promise.all(users.map((u) => elsewhere.leave(u, `${u}-c`)));
  });

  it("deletes another instance's stale entries after the grace period, read before they are judged", async () => {
    let now = Date.now();
    const elsewhere = new PresenceStore(container);
    await elsewhere.enter('ghost', 'g1'); // its service crashed: no disconnect ever came
    await elsewhere.enter('kim', 'k1', { connected: true });
    const presence = new PresenceStore(container, { staleGraceMs: 60_000, now: () => now, sweepBatch: 0 });
    const exists = async (user: string) => user === 'kim';
    expect(await presence.page(exists)).toMatchObject({ users: ['kim'], count: 2, gone: [] });
    now += 60_000 + 5_000;
    expect(await presence.page(exists)).toMatchObject({ users: ['kim'], count: 1, gone: ['ghost'] });
    expect(await presenceNames()).toEqual([`${PRESENCE_PREFIX}kim/k1`]);
    await elsewhere.leave('kim', 'k1');
  });

  it('never has more service checks in flight than its concurrency limit', async () => {
    const presence = new PresenceStore(container, { checkConcurrency: 3, sweepBatch: 0 });
    const users = Array.from({ length: 12 }, (_, i) => `user${String(i).padStart(2, '0')}`);
    await Promise.all(users.map((u) => presence.enter(u, `${u}-c`)));
    let inFlight = 0;
    let most = 0;
    const page = await presence.page(async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      return true;
    });
    expect(page.users).toEqual(users);
    expect(most).toBe(3);
    await Promise.all(users.map((u) => presence.leave(u, `${u}-c`)));
  });
});

describe('group memberships in Blob', () => {
  it('adds, lists, checks and removes, with names in any script', async () => {
    const members = new MembershipStore(container);
    await members.add('ann', 'team');
    await members.add('ann', '团队');
    await members.add('ann', 'team'); // idempotent
    expect(await members.groupsOf('ann')).toEqual(['team', '团队']);
    expect(await members.isMember('ann', '团队')).toBe(true);
    expect(await members.isMember('bob', 'team')).toBe(false);
    await members.remove('ann', 'team');
    await members.remove('ann', 'team');
    expect(await members.groupsOf('ann')).toEqual(['团队']);
  });
});
