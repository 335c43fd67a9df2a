import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
    const rules = retentionRules(365, 2);
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

  it('treats a missing container as empty', async () => {
    const missing = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(
      'none',
    );
    expect(await sweepOnce(missing, retentionRules(1, 1), Date.now() + 10 * DAY)).toEqual([]);
  });

  it('refuses a retention that is not a whole number of days, naming the variable', () => {
    expect(() => readRetentionRules({ MARKER_RETENTION_DAYS: '0' })).toThrow(
      /MARKER_RETENTION_DAYS=0 .* at least 1/,
    );
    expect(() => readRetentionRules({ HISTORY_RETENTION_DAYS: 'a year' })).toThrow(
      /HISTORY_RETENTION_DAYS=a year/,
    );
  });
});
