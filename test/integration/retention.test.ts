import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandQuota } from '../../src/lib/chat/index.js';
import { type RunningAzurite, startAzurite } from '../../src/local/azurite.js';
import { readRetentionRules, retentionRules, sweepOnce } from '../../src/local/retention.js';

const DAY = 24 * 60 * 60 * 1000;
let azurite: RunningAzurite;
let container: ContainerClient;

async function names(): Promise<string[]> {
  const found: string[] = [];
  for await (const blob of container.listBlobsFlat()) found.push(blob.name);
  return found.sort();
}

async function seed(): Promise<void> {
  for (const name of [
    'room/0000000001.jsonl',
    'group%3Ateam/0000000001.jsonl',
    'dm%3Aann%3Abob/0000000001.jsonl',
  ]) {
    await container.getAppendBlobClient(name).createIfNotExists();
  }
  for (const name of ['_client-ids/room/abc.json', '_presence/ann.json']) {
    await container.getBlockBlobClient(name).upload('{}', 2);
  }
}

beforeAll(async () => {
  azurite = await startAzurite();
  container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(
    'retention',
  );
  await container.create();
});

afterAll(async () => {
  await azurite?.stop();
});

describe('local retention (what the Blob lifecycle policy does on Azure)', () => {
  it('deletes markers after their days, segments after theirs, and never presence or memberships', async () => {
    await seed();
    const rules = retentionRules(365, 2, 1);
    expect(await sweepOnce(container, rules, Date.now() + DAY)).toEqual([]);
    expect(await sweepOnce(container, rules, Date.now() + 3 * DAY)).toEqual(['_client-ids/room/abc.json']);
    const deleted = await sweepOnce(container, rules, Date.now() + 366 * DAY);
    expect(deleted.sort()).toEqual([
      'dm%3Aann%3Abob/0000000001.jsonl',
      'group%3Ateam/0000000001.jsonl',
      'room/0000000001.jsonl',
    ]);
    expect(await names()).toEqual(['_presence/ann.json']);
  });

  it("deletes a user's command-limit bucket a day after its last write (LIMIT_RETENTION_DAYS), and nothing else", async () => {
    // Real buckets, written by the command limit the app runs (a name ending in a dot is encoded, as in the app).
    let clock = Date.now();
    const storageErrors: unknown[] = [];
    const quota = new CommandQuota(container, {
      burst: 3,
      perSecond: 1,
      now: () => clock,
      onStorageError: (error) => storageErrors.push(error),
    });
    expect(await quota.take('ann')).toBe(0);
    expect(await quota.take('bob.')).toBe(0);
    const buckets = (await names()).filter((name) => name.startsWith('_limits/'));
    expect(buckets).toEqual(['_limits/ann', '_limits/bob%2E']);
    await container.getBlockBlobClient('_presence/ann.json').upload('{}', 2);

    const rules = readRetentionRules({});
    expect(rules.find((rule) => rule.name === 'command-limit-buckets')?.days).toBe(1);
    expect(await sweepOnce(container, rules, Date.now() + DAY / 2)).toEqual([]);
    expect((await sweepOnce(container, rules, Date.now() + 2 * DAY)).sort()).toEqual(buckets);
    expect(await names()).toEqual(['_presence/ann.json']);
    // A user who comes back starts with a full bucket, also on the instance that still holds the deleted bucket's
    // ETag: its conditional write loses, it reads the bucket again (none: full) and creates it, with no storage error.
    clock += 2 * DAY;
    for (let command = 0; command < 3; command++) expect(await quota.take('ann')).toBe(0);
    expect(await quota.take('ann')).toBeGreaterThan(0);
    expect(storageErrors).toEqual([]);
    expect(await names()).toEqual(['_limits/ann', '_presence/ann.json']);

    const longer = readRetentionRules({ LIMIT_RETENTION_DAYS: '7' });
    expect(await sweepOnce(container, longer, Date.now() + 2 * DAY)).toEqual([]);
    expect(await sweepOnce(container, longer, Date.now() + 8 * DAY)).toEqual(['_limits/ann']);
    await container.deleteBlob('_presence/ann.json');
  });

  it('keeps history forever with HISTORY_RETENTION_DAYS=0', async () => {
    await seed();
    const rules = readRetentionRules({ HISTORY_RETENTION_DAYS: '0' });
    await sweepOnce(container, rules, Date.now() + 10_000 * DAY);
    expect(await names()).toEqual([
      '_presence/ann.json',
      'dm%3Aann%3Abob/0000000001.jsonl',
      'group%3Ateam/0000000001.jsonl',
      'room/0000000001.jsonl',
    ]);
  });

  it('deletes sent attachments as many days after their send as history (never with 0), and uploads never sent after a day', async () => {
    const service = BlobServiceClient.fromConnectionString(azurite.connectionString);
    const attachments = service.getContainerClient('retention-attachments');
    await attachments.create();
    const history = service.getContainerClient('retention-history');
    await history.create();
    const files = [
      'room/01J0000000000000000000000A/photo.png',
      'group%3Ateam/01J0000000000000000000000B/notes.pdf',
    ];
    // An upload no message claimed stays under `_pending/` (src/lib/attachments/rules.ts).
    const unsent = '_pending/room/01J0000000000000000000000C/big.zip';
    for (const name of [...files, unsent]) await attachments.getBlockBlobClient(name).upload('x', 1);
    await history.getAppendBlobClient('room/0000000001.jsonl').createIfNotExists();
    const containers = { history, attachments };
    const listed = async () => {
      const found: string[] = [];
      for await (const blob of attachments.listBlobsFlat()) found.push(blob.name);
      return found.sort();
    };

    const forever = readRetentionRules({ HISTORY_RETENTION_DAYS: '0' });
    expect(forever.find((rule) => rule.name === 'attachments-pending')?.days).toBe(1);
    expect(await sweepOnce(containers, forever, Date.now() + DAY / 2)).toEqual([]);
    expect(await sweepOnce(containers, forever, Date.now() + 2 * DAY)).toEqual([unsent]);
    expect(await sweepOnce(containers, forever, Date.now() + 10_000 * DAY)).toEqual([]);
    const rules = readRetentionRules({ HISTORY_RETENTION_DAYS: '30' });
    expect(await sweepOnce(containers, rules, Date.now() + 29 * DAY)).toEqual([]);
    // Only the history container given (attachments off): the attachments rule has nothing to apply to.
    expect(await sweepOnce(history, rules, Date.now() + 31 * DAY)).toEqual(['room/0000000001.jsonl']);
    expect(await listed()).toEqual([...files].sort());
    expect((await sweepOnce(containers, rules, Date.now() + 31 * DAY)).sort()).toEqual([...files].sort());
    expect(await listed()).toEqual([]);
  });

  it('treats a missing container as empty', async () => {
    const missing = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(
      'none',
    );
    expect(await sweepOnce(missing, retentionRules(1, 1, 1), Date.now() + 10 * DAY)).toEqual([]);
  });

  it('refuses a retention that is not a whole number of days, naming the variable', () => {
    expect(() => readRetentionRules({ MARKER_RETENTION_DAYS: '0' })).toThrow(
      /MARKER_RETENTION_DAYS=0 .* at least 1/,
    );
    expect(() => readRetentionRules({ LIMIT_RETENTION_DAYS: '0' })).toThrow(
      /LIMIT_RETENTION_DAYS=0 .* at least 1/,
    );
    expect(() => readRetentionRules({ HISTORY_RETENTION_DAYS: 'a year' })).toThrow(
      /HISTORY_RETENTION_DAYS=a year/,
    );
  });
});
