/**
 * The shared command limit against a real Azurite: two quotas on one container stand for two Function
 * instances; the clock is fixed per step, so the counts are exact.
 */
import { BlobServiceClient, ContainerClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bucketName,
  CommandQuota,
  DEFAULT_COMMAND_LEASE,
  DEFAULT_LEASE_TTL_MS,
  DEFAULT_MAX_COMMAND_LEASE,
} from '../../src/lib/chat/command-quota.js';
import { type RunningAzurite, startAzurite } from '../../src/local/azurite.js';
import { azuriteConnectionString } from '../../src/local/dev-constants.js';
import { startRecordingProxy } from '../support/recording-proxy.js';

let blob: RunningAzurite;
let container: ContainerClient;
beforeAll(async () => {
  blob = await startAzurite();
  container = new ContainerClient(blob.connectionString, 'quota');
  await container.createIfNotExists();
}, 60_000);
afterAll(() => blob?.stop());

/** Takes `count` tokens for `user`, round robin over `quotas`; returns how many were allowed. */
async function takeRoundRobin(quotas: CommandQuota[], user: string, count: number): Promise<number> {
  let allowed = 0;
  for (let i = 0; i < count; i++)
    if ((await (quotas[i % quotas.length] as CommandQuota).take(user)) === 0) allowed++;
  return allowed;
}

describe('the command limit shared by instances', () => {
  it('lets one user through at most the burst, then the rate, however the commands spread over instances', async () => {
    let now = 1_000_000;
    const clock = () => now;
    const quotas = [0, 1, 2].map(() => new CommandQuota(container, { burst: 30, perSecond: 10, now: clock }));
    expect(await takeRoundRobin(quotas, 'ann', 100)).toBe(30);
    // A second later the bucket holds 10 more, whichever instance asks.
    now += 1_000;
    expect(await takeRoundRobin(quotas, 'ann', 100)).toBe(10);
    // Another user has a bucket of their own.
    expect(await takeRoundRobin(quotas, 'bob', 5)).toBe(5);
  });

  it('counts concurrent commands of one user on several instances once', async () => {
    const now = 2_000_000;
    const quotas = [0, 1, 2].map(
      () => new CommandQuota(container, { burst: 30, perSecond: 10, lease: 3, now: () => now }),
    );
    const waits = await Promise.all(
      Array.from({ length: 90 }, (_, i) => (quotas[i % 3] as CommandQuota).take('cy')),
    );
    // Never more than the burst; conflicts between instances may only refuse more.
    expect(waits.filter((w) => w === 0).length).toBeLessThanOrEqual(30);
    expect(waits.filter((w) => w === 0).length).toBeGreaterThan(0);
    expect(waits.filter((w) => w > 0).every((w) => w > 0 && w <= 1_000)).toBe(true);
  });

  it('refuses with the wait until the next token and asks Blob nothing while the bucket is empty', async () => {
    let now = 3_000_000;
    const quota = new CommandQuota(container, { burst: 2, perSecond: 4, now: () => now });
    expect([await quota.take('dee'), await quota.take('dee')]).toEqual([0, 0]);
    expect(await quota.take('dee')).toBe(250);
    const before = (await container.getBlockBlobClient(bucketName('dee')).getProperties()).etag;
    now += 100;
    expect(await quota.take('dee')).toBe(150);
    expect((await container.getBlockBlobClient(bucketName('dee')).getProperties()).etag).toBe(before);
    now += 150;
    expect(await quota.take('dee')).toBe(0);
  });

  it('costs a user well under the limit one Blob write per lease of commands, not one per command', async () => {
    const proxy = await startRecordingProxy(`http://127.0.0.1:${blob.port}`);
    try {
      const viaProxy = BlobServiceClient.fromConnectionString(
        azuriteConnectionString(`${proxy.url}/devstoreaccount1`),
      ).getContainerClient('quota');
      let now = 4_000_000;
      const quotas = [0, 1].map(
        () => new CommandQuota(viaProxy, { burst: 30, perSecond: 10, now: () => now }),
      );
      // One command a second, each to the next instance, for a minute: well under 10 a second.
      for (let i = 0; i < 60; i++) {
        expect(await (quotas[i % 2] as CommandQuota).take('eve')).toBe(0);
        now += 1_000;
      }
      const writes = proxy.exchanges.filter((e) => e.method === 'PUT').length;
      const reads = proxy.exchanges.filter((e) => e.method === 'GET').length;
      // Each instance takes a lease of tokens per claim and spends it over the next commands it gets; a write
      // that lost to the other instance's costs a read of the bucket and one write more: at most three
      // requests per lease, against one per command before.
      const claims = Math.ceil(60 / DEFAULT_COMMAND_LEASE);
      expect(writes).toBeLessThanOrEqual(2 * claims);
      expect(writes + reads).toBeLessThanOrEqual(3 * claims);
    } finally {
      await proxy.close();
    }
  });

  it('grows the lease of a user who keeps sending on one instance: one write per up to 15 commands', async () => {
    const proxy = await startRecordingProxy(`http://127.0.0.1:${blob.port}`);
    try {
      const viaProxy = BlobServiceClient.fromConnectionString(
        azuriteConnectionString(`${proxy.url}/devstoreaccount1`),
      ).getContainerClient('quota');
      let now = 5_000_000;
      const quota = new CommandQuota(viaProxy, { burst: 30, perSecond: 10, now: () => now });
      for (let i = 0; i < 100; i++) {
        expect(await quota.take('fay')).toBe(0);
        now += 200;
      }
      // Leases of 5, 10, then 15 each: 1 + 1 + ceil(85 / 15) = 8 writes for 100 commands.
      const writes = proxy.exchanges.filter((e) => e.method === 'PUT').length;
      expect(writes).toBe(2 + Math.ceil((100 - 15) / DEFAULT_MAX_COMMAND_LEASE));
    } finally {
      await proxy.close();
    }
  });

  it('costs a user who sends 21 commands at one instant three writes: leases of 5, 10, then what the bucket leaves', async () => {
    const proxy = await startRecordingProxy(`http://127.0.0.1:${blob.port}`);
    try {
      const viaProxy = BlobServiceClient.fromConnectionString(
        azuriteConnectionString(`${proxy.url}/devstoreaccount1`),
      ).getContainerClient('quota');
      const quota = new CommandQuota(viaProxy, { burst: 30, perSecond: 10, now: () => 5_500_000 });
      for (let i = 0; i < 21; i++) expect(await quota.take('fio')).toBe(0);
      // No refill: 5 (25 left), 10 (15 left), then 8 of the 15, which leaves the bucket 7 for the 7 the
      // instance then holds: 23 commands' worth from three writes.
      const writes = proxy.exchanges.filter((e) => e.method === 'PUT').length;
      expect(writes).toBe(3);
      const bucket = JSON.parse(
        (await container.getBlockBlobClient(bucketName('fio')).downloadToBuffer()).toString(),
      );
      expect(bucket.tokens).toBe(7);
      expect(bucket.leases.map((l: [string, number, number]) => l[1])).toEqual([7]);
    } finally {
      await proxy.close();
    }
  });

  it('shrinks the lease as the bucket empties: a flood at one instant on one instance gets exactly the burst', async () => {
    const proxy = await startRecordingProxy(`http://127.0.0.1:${blob.port}`);
    try {
      const viaProxy = BlobServiceClient.fromConnectionString(
        azuriteConnectionString(`${proxy.url}/devstoreaccount1`),
      ).getContainerClient('quota');
      const quota = new CommandQuota(viaProxy, { burst: 30, perSecond: 10, now: () => 5_600_000 });
      let allowed = 0;
      for (let i = 0; i < 100; i++) if ((await quota.take('gil')) === 0) allowed++;
      expect(allowed).toBe(30);
      // Leases 5, 10, 8, 4, 2 (each leaving the bucket what the instance then holds), then 1 token at a time.
      expect(proxy.exchanges.filter((e) => e.method === 'PUT').length).toBe(5 + 1);
    } finally {
      await proxy.close();
    }
  });

  it('keeps the tokens all instances hold unspent within half the burst: a flood gets at most one and a half bursts at once', async () => {
    let now = 6_000_000;
    const quotas = Array.from(
      { length: 6 },
      () => new CommandQuota(container, { burst: 30, perSecond: 10, now: () => now }),
    );
    // Slow commands spread over six instances: each would take a lease of its own.
    for (let i = 0; i < 60; i++) {
      expect(await (quotas[i % 6] as CommandQuota).take('gus')).toBe(0);
      now += 1_000;
    }
    // Then a flood at one instant: what the bucket holds (the burst, refilled) plus what the instances hold.
    const allowed = await takeRoundRobin(quotas, 'gus', 600);
    expect(allowed).toBeGreaterThanOrEqual(30);
    expect(allowed).toBeLessThanOrEqual(30 + 15);
  });

  it('forfeits a lease not spent within its time, and the next command takes tokens afresh', async () => {
    let now = 7_000_000;
    const quotas = [0, 1].map(
      () => new CommandQuota(container, { burst: 30, perSecond: 10, now: () => now }),
    );
    const [a, b] = quotas as [CommandQuota, CommandQuota];
    expect(await a.take('hal')).toBe(0);
    const bucket = container.getBlockBlobClient(bucketName('hal'));
    const declared = JSON.parse((await bucket.downloadToBuffer()).toString('utf8'));
    expect(declared.leases).toHaveLength(1);
    expect(declared.leases[0].slice(1)).toEqual([DEFAULT_COMMAND_LEASE - 1, now + DEFAULT_LEASE_TTL_MS]);
    now += DEFAULT_LEASE_TTL_MS;
    const etag = (await bucket.getProperties()).etag;
    expect(await a.take('hal')).toBe(0);
    // Forfeited: the instance wrote the bucket again rather than spending a token it no longer holds.
    expect((await bucket.getProperties()).etag).not.toBe(etag);
    expect(await b.take('hal')).toBe(0);
  });

  it('charges a command of several tokens all of them, spending what the instance holds first', async () => {
    let now = 8_000_000;
    const quota = new CommandQuota(container, { burst: 10, perSecond: 1, now: () => now });
    // Four and four of ten: the instance holds one of the second lease and the bucket keeps one.
    expect([await quota.take('ida', 4), await quota.take('ida', 4)]).toEqual([0, 0]);
    // Four more need three from the bucket, which holds one: two seconds; nothing is taken meanwhile.
    expect(await quota.take('ida', 4)).toBe(2_000);
    // A command of one token still passes: the one held, then the bucket's last.
    expect([await quota.take('ida'), await quota.take('ida')]).toEqual([0, 0]);
    expect(await quota.take('ida')).toBe(1_000);
    // While the bucket is empty: the first token in a second, three more after it.
    expect(await quota.take('ida', 4)).toBe(4_000);
    now += 4_000;
    expect(await quota.take('ida', 4)).toBe(0);
    expect(await quota.take('ida')).toBe(1_000);
  });

  it('never asks more than the burst of one command, and counts costly commands on several instances once', async () => {
    let now = 9_000_000;
    const one = new CommandQuota(container, { burst: 10, perSecond: 1, now: () => now });
    expect(await one.take('jo', 50)).toBe(0);
    expect(await one.take('jo')).toBe(1_000);
    now += 10_000;
    expect(await one.take('jo', 50)).toBe(0);

    const quotas = [0, 1].map(
      () => new CommandQuota(container, { burst: 30, perSecond: 10, now: () => now }),
    );
    const waits = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (quotas[i % 2] as CommandQuota).take('kit', 3)),
    );
    const allowed = waits.filter((w) => w === 0).length;
    expect(allowed * 3).toBeLessThanOrEqual(30);
    expect(allowed).toBeGreaterThan(0);
  });

  it('keeps names with a trailing dot apart from those without', () => {
    expect(bucketName('ann.')).not.toBe(bucketName('ann'));
    expect(bucketName('ann.')).toBe('_limits/ann%2E');
  });
});
