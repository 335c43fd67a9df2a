import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type ChatMessage, createHistoryStore } from '../../src/lib/history/index.js';
import { type RunningAzurite, startAzurite } from '../../src/local/azurite.js';

const cleanup: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function send(store: ReturnType<typeof createHistoryStore>, texts: string[]): Promise<ChatMessage[]> {
  const sent: ChatMessage[] = [];
  for (const text of texts)
    sent.push((await store.append({ conversation: 'room', from: 'ann', text })).message);
  return sent;
}

describe('history across restarts', () => {
  it('a new store instance (a restarted Functions host) reads the history and continues the current segment', async () => {
    const azurite = await startAzurite();
    cleanup.push(() => azurite.stop());
    const first = createHistoryStore({
      storage: azurite.connectionString,
      container: 'restart',
      segmentBlockLimit: 4,
    });
    const before = await send(first, ['a', 'b', 'c', 'd', 'e', 'f']);

    const second = createHistoryStore({
      storage: azurite.connectionString,
      container: 'restart',
      segmentBlockLimit: 4,
    });
    expect((await second.read('room')).messages).toEqual(before);
    const after = await send(second, ['g', 'h']);
    expect((await second.read('room')).messages).toEqual([...before, ...after]);
    // The new instance found segment 2 by listing and filled it instead of starting over in segment 1.
    const names: string[] = [];
    for await (const blob of second.containerClient.listBlobsFlat()) names.push(blob.name);
    expect(names).toEqual(['room/0000000001.jsonl', 'room/0000000002.jsonl', 'room/0000000003.jsonl']);
  });

  it('keeps history and deduplication when Azurite with on-disk data is stopped and started again', async () => {
    const location = await mkdtemp(join(tmpdir(), 'history-azurite-'));
    cleanup.push(() => rm(location, { recursive: true, force: true }));
    let azurite: RunningAzurite = await startAzurite({ location });
    cleanup.push(() => azurite.stop());
    const store = createHistoryStore({ storage: azurite.connectionString, segmentBlockLimit: 3 });
    const sent = await send(store, ['one', 'two', 'three', 'four']);
    const claimed = await store.append({
      conversation: 'room',
      from: 'bob',
      text: 'five',
      clientMessageId: 'c5',
    });

    await azurite.stop();
    azurite = await startAzurite({ location, port: azurite.port });

    const fresh = createHistoryStore({ storage: azurite.connectionString, segmentBlockLimit: 3 });
    expect((await fresh.read('room')).messages).toEqual([...sent, claimed.message]);
    const retried = await fresh.append({
      conversation: 'room',
      from: 'bob',
      text: 'five',
      clientMessageId: 'c5',
    });
    expect(retried).toEqual({ message: claimed.message, duplicate: true });
    // The store built before the restart keeps working against the restarted emulator too.
    const later = await store.append({ conversation: 'room', from: 'ann', text: 'six' });
    const page = await fresh.read('room', { limit: 3 });
    expect(page.messages.map((m) => m.text)).toEqual(['four', 'five', 'six']);
    expect(page.messages.at(-1)).toEqual(later.message);
    expect(page.hasMore).toBe(true);
  });
});
