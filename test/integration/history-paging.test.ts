import { randomUUID } from 'node:crypto';
import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

const BASE_TIME = Date.UTC(2026, 0, 1);

function containers() {
  const name = `t-${randomUUID()}`;
  return {
    direct: blob.container(name),
    viaProxy: blob.container(name, azuriteConnectionString(`${proxy.url}/devstoreaccount1`)),
  };
}

function downloadedBytes(): number {
  return proxy.exchanges
    .filter((e) => e.method === 'GET' && e.url.includes('.jsonl'))
    .reduce((sum, e) => sum + e.responseBytes, 0);
}

describe('paging with `before`', () => {
  it('finds a message deep in a long history with a few small ranged reads, not by reading the history', async () => {
    const { direct, viaProxy } = containers();
    // 4 segments × 1 500 messages, one every 10 s: ~1.2 MB of history.
    const times = Array.from({ length: 4 }, (_, s) =>
      Array.from({ length: 1500 }, (_, i) => BASE_TIME + (s * 1500 + i) * 10_000),
    );
    const segments = await writeSegments(direct, 'room', times);
    const all = segments.flat();
    const totalBytes = all.reduce((sum, m) => sum + Buffer.byteLength(JSON.stringify(m)) + 1, 0);
    const store = createHistoryStore({ containerClient: viaProxy, readChunkBytes: 8192 });

    const target = all[2200] as ChatMessage; // segment 2
    proxy.exchanges.length = 0;
    const page = await store.read('room', { before: target.id, limit: 20 });
    expect(page.messages).toEqual(all.slice(2180, 2200));
    expect(page.hasMore).toBe(true);
    // The 5-minute reorder window covers 30 messages here; bisection probes and the scan stay a few chunks.
    expect(downloadedBytes()).toBeLessThan(totalBytes / 20);

    // Across a segment boundary: the 20 before the first message of segment 3 end segment 2.
    const third = all[3000] as ChatMessage;
    const boundary = await store.read('room', { before: third.id, limit: 20 });
    expect(boundary.messages).toEqual(all.slice(2980, 3000));
  });

  it('pages in storage order when ids of concurrent instances are slightly out of time order', async () => {
    const { viaProxy, direct } = containers();
    // Two instances' clocks 3 s apart, interleaved in one segment, then a second segment.
    const skewed = Array.from({ length: 200 }, (_, i) => BASE_TIME + i * 1000 + (i % 2 === 0 ? 3000 : 0));
    const segments = await writeSegments(direct, 'group:g', [skewed, skewed.map((t) => t + 200_000)]);
    const all = segments.flat();
    const store = createHistoryStore({ containerClient: viaProxy, readChunkBytes: 1024 });

    const collected: ChatMessage[] = [];
    let page = await store.read('group:g', { limit: 33 });
    collected.unshift(...page.messages);
    while (page.hasMore) {
      page = await store.read('group:g', { limit: 33, before: (page.messages[0] as ChatMessage).id });
      collected.unshift(...page.messages);
    }
    expect(collected).toEqual(all);
  });

  it('still finds a message whose id time is far outside the reorder window (a clock hours ahead)', async () => {
    const { viaProxy, direct } = containers();
    const times = [Array.from({ length: 300 }, (_, i) => BASE_TIME + i * 1000)];
    (times[0] as number[])[150] = BASE_TIME + 3 * 3600_000;
    const all = (await writeSegments(direct, 'room', times)).flat();
    const store = createHistoryStore({ containerClient: viaProxy, readChunkBytes: 1024 });
    const page = await store.read('room', { before: (all[150] as ChatMessage).id, limit: 5 });
    expect(page.messages).toEqual(all.slice(145, 150));
  });

  it('refuses, without scanning the history, a `before` id from before the conversation began or from the future', async () => {
    const { viaProxy, direct } = containers();
    const times = [Array.from({ length: 3000 }, (_, i) => BASE_TIME + i * 1000)];
    await writeSegments(direct, 'room', times);
    const store = createHistoryStore({ containerClient: viaProxy, readChunkBytes: 1024 });
    for (const time of [BASE_TIME - 3600_000, Date.now() + 3600_000]) {
      proxy.exchanges.length = 0;
      await expect(store.read('room', { before: ulid(time) })).rejects.toMatchObject({
        code: 'invalid-before',
      });
      expect(downloadedBytes()).toBeLessThan(20 * 1024);
    }
  });
});

describe('a writer whose segment is stale', () => {
  it('files its next message after everything the others wrote meanwhile, not in its old segment', async () => {
    const { direct } = containers();
    const idle = createHistoryStore({ containerClient: direct, segmentBlockLimit: 5 });
    const busy = createHistoryStore({ containerClient: direct, segmentBlockLimit: 5 });
    const first = await idle.append({ conversation: 'room', from: 'ann', text: 'first' });
    const meanwhile: ChatMessage[] = [];
    for (let i = 0; i < 17; i++) {
      meanwhile.push((await busy.append({ conversation: 'room', from: 'bob', text: `b${i}` })).message);
    }
    // `idle` still remembers segment 1, which `busy` filled and sealed long ago.
    const late = await idle.append({ conversation: 'room', from: 'ann', text: 'late' });
    const page = await busy.read('room', { limit: 100 });
    expect(page.messages).toEqual([first.message, ...meanwhile, late.message]);
  });
});
