/**
 * The history reads of joins, shared (src/lib/chat/reading/join-reads.ts), over a real history store on
 * Azurite: joins that arrived before a read started share it, a join that arrives later gets a read of its own
 * that holds what was stored meanwhile, joins arriving while a read is in flight share the one after it, and a
 * page read with a larger limit gives what a smaller read would.
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

  it('are one read at a time in a storm: joins arriving while a read is in flight share the next one', async () => {
    const { store, reads } = await countedStore();
    await store.append({ conversation: 'room', from: 'ann', text: 'first' });
    // The first read is held in flight until the later joins have asked.
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let first = true;
    const gated: PageReader = {
      read: async (conversation, options) => {
        const page = store.read(conversation, options);
        if (first) {
          first = false;
          await held;
        }
        return page;
      },
    };
    const shared = new JoinReads(gated);
    const early = shared.read(shared.arrive(), 'room', 50);
    // Stored before the later joins arrive: their page must hold it, though the read in flight may not.
    await store.append({ conversation: 'room', from: 'bob', text: 'second' });
    const later = Array.from({ length: 5 }, () => shared.arrive());
    const pages = Promise.all(later.map((a) => shared.read(a, 'room', 50)));
    expect(reads()).toBe(1);
    release();
    await early;
    for (const page of await pages) expect(texts(page)).toEqual(['first', 'second']);
    expect(reads()).toBe(2);
    // Once nothing is in flight, the next join reads at once.
    expect(texts(await shared.read(shared.arrive(), 'room', 50))).toEqual(['first', 'second']);
    expect(reads()).toBe(3);
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
