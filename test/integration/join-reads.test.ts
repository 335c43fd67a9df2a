/**
 * The history reads of joins, shared (src/lib/chat/reading/join-reads.ts), over a real history store on
 * Azurite: joins that arrived before a read started share it, a join that arrives later gets a read of its own
 * that holds what was stored meanwhile, and a page read with a larger limit gives what a smaller read would.
 */
import { describe, expect, it } from 'vitest';
import { JoinReads, newestOf, type PageReader } from '../../src/lib/chat/reading/join-reads.js';
import { createHistoryStore, type HistoryPage } from '../../src/lib/history/index.js';
import { useAzurite } from '../support/fixtures.js';

const blob = useAzurite();

/** The store, with the reads that reach it counted. */
async function countedStore(): Promise<{
  store: ReturnType<typeof createHistoryStore>;
  reads: () => number;
}> {
  const container = blob.container();
  await container.create();
  const store = createHistoryStore({ containerClient: container });
  let reads = 0;
  const read = store.read.bind(store);
  store.read = (conversation, options) => {
    reads += 1;
    return read(conversation, options);
  };
  return { store, reads: () => reads };
}

const texts = (page: HistoryPage) => page.messages.map((m) => m.text);

describe('the history reads of joins', () => {
  it('are shared by the joins that arrived before a read started, and read afresh for a later one', async () => {
    const { store, reads } = await countedStore();
    await store.append({ conversation: 'room', from: 'ann', text: 'first' });
    const shared = new JoinReads(store);
    // A storm: ten joins arrive, then each reads the room's newest page.
    const arrivals = Array.from({ length: 10 }, () => shared.arrive());
    const pages = await Promise.all(arrivals.map((a) => shared.read(a, 'room', 50)));
    expect(reads()).toBe(1);
    expect(pages.every((p) => texts(p).join() === 'first')).toBe(true);

    // A message stored before the next join arrives is in that join's page: its read starts after it arrived.
    const slow = shared.read(shared.arrive(), 'room', 50);
    await store.append({ conversation: 'room', from: 'bob', text: 'second' });
    const later = shared.arrive();
    expect(texts(await shared.read(later, 'room', 50))).toEqual(['first', 'second']);
    await slow;
    expect(reads()).toBe(3);
    // Another limit or conversation is another read.
    await Promise.all([shared.read(later, 'room', 10), shared.read(later, 'dm:ann:bob', 50)]);
    expect(reads()).toBe(5);
  });

  it('give the newest messages of a larger page as a smaller read would', async () => {
    const { store } = await countedStore();
    for (let i = 0; i < 7; i++) await store.append({ conversation: 'room', from: 'ann', text: `m${i}` });
    const reader: PageReader = store;
    const large = await reader.read('room', { limit: 6 });
    for (const limit of [1, 3, 6]) {
      expect(newestOf(large, limit)).toEqual(await reader.read('room', { limit }));
    }
  });
});
