import type { ContainerClient } from '@azure/storage-blob';
import { beforeAll, describe, expect, it } from 'vitest';
import { MembershipStore } from '../../src/lib/chat/memberships.js';
import { PRESENCE_PREFIX, PresenceStore } from '../../src/lib/chat/presence.js';
import { useAzurite } from '../support/fixtures.js';

const blob = useAzurite();
let container: ContainerClient;
beforeAll(async () => {
  container = blob.container();
  await container.create();
});

async function presenceNames(): Promise<string[]> {
  const names: string[] = [];
  for await (const blob of container.listBlobsFlat({ prefix: PRESENCE_PREFIX })) names.push(blob.name);
  return names.sort();
}

describe('presence in Blob, confirmed by the service', () => {
  it('announces the first and the last of several connections of one user', async () => {
    const presence = new PresenceStore(container);
    expect(await presence.enter('ann', 'c1')).toEqual({ firstConnection: true });
    expect(await presence.enter('ann', 'c2')).toEqual({ firstConnection: false });
    expect(await presence.leave('ann', 'c1')).toEqual({ lastConnection: false });
    expect(await presence.leave('ann', 'c2')).toEqual({ lastConnection: true });
    // A second instance sees the same state: nothing is held in memory.
    expect(await new PresenceStore(container).enter('ann', 'c3')).toEqual({ firstConnection: true });
    await presence.leave('ann', 'c3');
  });

  it('lists only users the service confirms, includes the one entering, and removes stale entries after the grace period', async () => {
    let now = Date.now();
    const presence = new PresenceStore(container, { staleGraceMs: 60_000, now: () => now });
    await presence.enter('bob', 'b1');
    await presence.enter('ghost', 'g1'); // the service crashed: no disconnect ever came
    await presence.enter('Zoë lee', 'z1');
    const known = new Set(['bob', 'Zoë lee']);
    const exists = async (user: string) => known.has(user);
    expect(await presence.online(exists)).toEqual(['Zoë lee', 'bob']);
    expect(await presence.online(exists, 'cat')).toEqual(['Zoë lee', 'bob', 'cat']);
    // Within the grace period the unconfirmed entry is kept (a websocket connect writes it before the service has the connection).
    expect(await presenceNames()).toContain(`${PRESENCE_PREFIX}ghost/g1`);
    now += 120_000;
    expect(await presence.online(exists)).toEqual(['Zoë lee', 'bob']);
    expect(await presenceNames()).not.toContain(`${PRESENCE_PREFIX}ghost/g1`);
    await presence.leave('bob', 'b1');
    await presence.leave('Zoë lee', 'z1');
  });

  it('asks the service about a confirmed user once per confirmation time, and about an unconfirmed one every time', async () => {
    let now = Date.now();
    const presence = new PresenceStore(container, { confirmationTtlMs: 10_000, now: () => now });
    await presence.enter('eve', 'e1');
    await presence.enter('fay', 'f1'); // the service does not have fay's connection yet
    const asked: string[] = [];
    const exists = async (user: string) => {
      asked.push(user);
      return user === 'eve';
    };
    expect(await presence.online(exists)).toEqual(['eve']);
    expect(await presence.online(exists)).toEqual(['eve']);
    expect(asked.sort()).toEqual(['eve', 'fay', 'fay']);
    now += 10_000;
    asked.length = 0;
    await presence.online(exists);
    expect(asked.sort()).toEqual(['eve', 'fay']);
    // Without remembering, every listing asks about every user.
    const uncached = new PresenceStore(container, { confirmationTtlMs: 0 });
    asked.length = 0;
    await uncached.online(exists);
    await uncached.online(exists);
    expect(asked.sort()).toEqual(['eve', 'eve', 'fay', 'fay']);
    await presence.leave('eve', 'e1');
    await presence.leave('fay', 'f1');
  });

  it('asks the service once about a user that concurrent listings see together', async () => {
    // Counts finished Blob listings, so the test knows when all three listings have reached their checks.
    let listed = 0;
    const counting = new Proxy(container, {
      get(target, key, receiver) {
        if (key !== 'listBlobsFlat') return Reflect.get(target, key, receiver);
        return async function* (...args: Parameters<ContainerClient['listBlobsFlat']>) {
          yield* target.listBlobsFlat(...args);
          listed++;
        };
      },
    });
    const presence = new PresenceStore(counting, { confirmationTtlMs: 0 });
    await presence.enter('gus', 'g1');
    await presence.enter('hal', 'h1'); // the service does not have hal's connection yet
    listed = 0;
    const asked: string[] = [];
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const exists = async (user: string) => {
      asked.push(user);
      await gate;
      return user === 'gus';
    };
    const listings = Promise.all([1, 2, 3].map(() => presence.online(exists)));
    while (listed < 3) await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    release();
    expect(await listings).toEqual([['gus'], ['gus'], ['gus']]);
    expect(asked.sort()).toEqual(['gus', 'hal']);
    // Once answered, the next listing asks again (nothing is remembered with confirmationTtlMs 0).
    asked.length = 0;
    await presence.online(exists);
    expect(asked.sort()).toEqual(['gus', 'hal']);
    await presence.leave('gus', 'g1');
    await presence.leave('hal', 'h1');
  });

  it('never has more service checks in flight than its concurrency limit', async () => {
    const presence = new PresenceStore(container, { checkConcurrency: 3 });
    const users = Array.from({ length: 12 }, (_, i) => `user${i}`);
    await Promise.all(users.map((u) => presence.enter(u, `${u}-c`)));
    let inFlight = 0;
    let most = 0;
    const online = await presence.online(async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      return true;
    });
    expect(online).toEqual([...users].sort());
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
