/**
 * What reading a burst costs in Blob reads: a search over many pages' worth of lines reads each byte of the
 * history once, and a `before` page costs its page wherever its cursor lies in a burst (everything written within
 * the reorder window), not everything written before or since. Bytes and requests are counted at a recording proxy
 * in front of real Azurite.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { searchMessages } from '../../src/lib/chat/reading/search.js';
import { type ChatMessage, createHistoryStore } from '../../src/lib/history/index.js';
import { azuriteConnectionString } from '../../src/local/dev-constants.js';
import { useAzurite } from '../support/fixtures.js';
import { writeSegments } from '../support/history-blobs.js';
import { type RecordingProxy, startRecordingProxy } from '../support/recording-proxy.js';

const blob = useAzurite();
let proxy: RecordingProxy;

beforeAll(async () => {
  proxy = await startRecordingProxy(`http://127.0.0.1:${blob.azurite.port}`);
});

afterAll(async () => {
  await proxy?.close();
});

const CHUNK = 16 * 1024;
/** 600 lines of ~2 KB, one every 10 ms: all of them within the 5-minute reorder window of each other. */
const LINES = 600;
const BURST_START = Date.now() - 60_000;

/** Segment reads (ranged GETs of `.jsonl` blobs) since the last call: how many, and their bytes. */
function reads(): { requests: number; bytes: number } {
  const gets = proxy.exchanges.filter((e) => e.method === 'GET' && e.url.includes('.jsonl'));
  proxy.exchanges.length = 0;
  return { requests: gets.length, bytes: gets.reduce((sum, e) => sum + e.responseBytes, 0) };
}

const lineBytes = (lines: readonly ChatMessage[]) =>
  lines.reduce((sum, m) => sum + Buffer.byteLength(JSON.stringify(m)) + 1, 0);

async function burst(times = Array.from({ length: LINES }, (_, i) => BURST_START + i * 10)) {
  const name = `t-${randomUUID()}`;
  const [lines] = await writeSegments(
    blob.container(name),
    'room',
    [times],
    (_, i) => `w${i} ${'x'.repeat(2000)}`,
  );
  const container = blob.container(name, azuriteConnectionString(`${proxy.url}/devstoreaccount1`));
  const store = createHistoryStore({ containerClient: container, readChunkBytes: CHUNK });
  await store.ensureContainer();
  reads();
  return { store, lines: lines as ChatMessage[] };
}

describe('a search over many pages of a burst', () => {
  it('reads each byte of the history once, not once per page', async () => {
    const { store, lines } = await burst();
    const deps = { history: store, search: { scanMessages: LINES, scanBytes: 64 * 1024 * 1024 } };
    const all = await searchMessages(deps, {
      type: 'searchMessages',
      conversation: 'room',
      query: 'zzz',
      limit: 20,
    });
    expect(all.payload).toMatchObject({ complete: true, scanned: LINES, messages: [] });
    const whole = reads();
    expect(whole.bytes).toBeLessThanOrEqual(lineBytes(lines) + CHUNK);
    expect(whole.requests).toBeLessThanOrEqual(Math.ceil(lineBytes(lines) / CHUNK) + 2);

    // From a cursor in the middle: the cursor's line is found, then only what lies before it is read.
    const before = (lines[LINES / 2] as ChatMessage).id;
    const half = await searchMessages(deps, {
      type: 'searchMessages',
      conversation: 'room',
      query: 'w12',
      limit: 20,
      before,
    });
    expect(half.payload).toMatchObject({ complete: true, scanned: LINES / 2 });
    expect((half.payload as { messages: ChatMessage[] }).messages.map((m) => m.text.split(' ')[0])).toEqual([
      'w129',
      'w128',
      'w127',
      'w126',
      'w125',
      'w124',
      'w123',
      'w122',
      'w121',
      'w120',
      'w12',
    ]);
    expect(reads().bytes).toBeLessThanOrEqual(lineBytes(lines.slice(0, LINES / 2)) + 4 * CHUNK);
  });
});

describe('a search bounded by bytes', () => {
  it('stops at its byte bound, long before its line bound, says where, and reads little more than the bound', async () => {
    const { store, lines } = await burst();
    // The byte bound is exactly the newest 100 lines as stored (without their line breaks).
    const newestFirst = [...lines].reverse();
    const stored = (slice: readonly ChatMessage[]) => lineBytes(slice) - slice.length;
    const bound = stored(newestFirst.slice(0, 100));
    const deps = { history: store, search: { scanMessages: LINES, scanBytes: bound } };
    const command = { type: 'searchMessages', conversation: 'room', query: 'zzz', limit: 20 } as const;
    const first = await searchMessages(deps, command);
    expect(first.payload).toMatchObject({ complete: false, scanned: 100, before: newestFirst[99]?.id });
    expect(reads().bytes).toBeLessThanOrEqual(lineBytes(newestFirst.slice(0, 101)) + 2 * CHUNK);
    // The next search goes on from there, with the same bound.
    const next = await searchMessages(deps, { ...command, before: newestFirst[99]?.id as string });
    expect((next.payload as { scanned: number }).scanned).toBeLessThanOrEqual(100);
    expect(next.payload).toMatchObject({ complete: false });
  });
});

describe('`before` pages in a burst', () => {
  it('cost their page wherever the cursor is, not what was written before or after it', async () => {
    const { store, lines } = await burst();
    let page = await store.read('room', { limit: 50 });
    const collected = [...page.messages];
    while (page.hasMore) {
      reads();
      page = await store.read('room', { limit: 50, before: (page.messages[0] as ChatMessage).id });
      collected.unshift(...page.messages);
      // The page, the chunks at its ends, and the bisection's probes (2 KB each, one per halving).
      expect(reads().bytes).toBeLessThanOrEqual(lineBytes(page.messages) + 4 * CHUNK);
    }
    expect(collected).toEqual(lines);
  });

  it('finds a line stored out of id order by reading back from the window end, never what lies before it', async () => {
    // Line 550 got its id 3 s before its neighbours (an instance whose append was slow): a bisection on ids
    // looks for it 300 lines too early.
    const times = Array.from({ length: LINES }, (_, i) => BURST_START + i * 10 - (i === 550 ? 3000 : 0));
    const { store, lines } = await burst(times);
    const page = await store.read('room', { limit: 10, before: (lines[550] as ChatMessage).id });
    expect(page.messages).toEqual(lines.slice(540, 550));
    // What was written after it (the window's end is the segment's), its page, chunks and probes.
    expect(reads().bytes).toBeLessThanOrEqual(lineBytes(lines.slice(540)) + 6 * CHUNK);
  });
});
