import { randomUUID } from 'node:crypto';
import type { ContainerClient } from '@azure/storage-blob';
import { describe, expect, it } from 'vitest';
import {
  type AppendResult,
  createHistoryStore,
  type HistoryStore,
  type HistoryStoreOptions,
  segmentBlobName,
} from '../../src/lib/history/index.js';
import { useAzurite } from '../support/fixtures.js';
import { rawSegments, readAll } from '../support/history-blobs.js';
import { type Interceptor, type RecordedExchange, useProxiedContainers } from '../support/recording-proxy.js';

const blob = useAzurite();
const proxied = useProxiedContainers(() => blob.azurite.port);

const isAppendBlock = (e: { method: string; url: string }) =>
  e.method === 'PUT' && e.url.includes('comp=appendblock');
/** Any request for a blob outside the conversation's segments (there is none: no per-message marker). */
const isOutsideSegments = (e: { method: string; url: string }) =>
  !new URL(e.url, 'http://x').pathname.includes('/room/') && !e.url.includes('restype=container');

/**
 * A store whose Blob requests go through a recording proxy that may inject faults, and a direct client for the
 * same container. The store's client does not retry, so an injected fault reaches the store as it is.
 */
async function setup(
  options: Partial<HistoryStoreOptions> = {},
  intercept?: Interceptor,
  name = `t-${randomUUID()}`,
) {
  const { proxy, client: viaProxy } = await proxied.container(name, intercept ? { intercept } : {});
  const direct = blob.container(name);
  const store = createHistoryStore({ containerClient: viaProxy, ...options });
  await store.ensureContainer();
  // The room's first segment exists, so the first append is not refused (BlobNotFound) and sent again.
  await direct.getAppendBlobClient(segmentBlobName('room', 1)).create();
  const appendBlocks = (): RecordedExchange[] => proxy.exchanges.filter(isAppendBlock);
  return { proxy, direct, store, appendBlocks };
}

/** `count` appends made at once, in order, without waiting: all but the first queue behind it. */
function burst(
  store: HistoryStore,
  count: number,
  text: (i: number) => string = (i) => `m${i}`,
): Promise<AppendResult>[] {
  return Array.from({ length: count }, (_, i) =>
    store.append({ conversation: 'room', from: 'ann', text: text(i) }),
  );
}

describe('group commit of appends', () => {
  it('writes a burst of appends to one conversation in fewer blocks than messages, in the order they were made', async () => {
    const { direct, store, appendBlocks } = await setup();
    const sent = (await Promise.all(burst(store, 200))).map((r) => r.message);
    const blocks = appendBlocks();
    // The first goes out alone at once; the 199 queued behind it go out together (at most 100 per block).
    expect(blocks.map((b) => b.requestLines)).toEqual([1, 100, 99]);
    const segments = await rawSegments(direct, 'room');
    expect(segments).toHaveLength(1);
    expect(segments[0]?.blocks).toBe(3);
    // In the blob in exactly the order the appends were made, each once.
    expect(segments[0]?.lines).toEqual(sent);
    expect(await readAll(store, 'room')).toEqual(sent);
  });

  it('20 concurrent senders with clientMessageIds: fewer appends than messages, each message once, in sender order', async () => {
    const { store, appendBlocks, proxy } = await setup();
    const senders = 20;
    const perSender = 10;
    await Promise.all(
      Array.from({ length: senders }, async (_, sender) => {
        for (let i = 0; i < perSender; i++) {
          await store.append({
            conversation: 'room',
            from: `u${sender}`,
            text: `${i}`,
            clientMessageId: `u${sender}-${i}`,
          });
        }
      }),
    );
    const total = senders * perSender;
    // No blob per message beside the history: the appends, shared, are all there is.
    expect(proxy.exchanges.filter(isOutsideSegments)).toEqual([]);
    expect(appendBlocks().reduce((sum, b) => sum + b.requestLines, 0)).toBe(total);
    expect(appendBlocks().length).toBeLessThan(total);
    const read = await readAll(store, 'room');
    expect(read).toHaveLength(total);
    expect(new Set(read.map((m) => m.id)).size).toBe(total);
    for (let sender = 0; sender < senders; sender++) {
      const texts = read.filter((m) => m.from === `u${sender}`).map((m) => m.text);
      expect(texts).toEqual(Array.from({ length: perSender }, (_, i) => `${i}`));
    }

    // A retry of a message that went out in a shared block finds it: a duplicate, nothing appended.
    const before = appendBlocks().length;
    const retry = await store.append({
      conversation: 'room',
      from: 'u7',
      text: '3',
      clientMessageId: 'u7-3',
    });
    expect(retry.duplicate).toBe(true);
    expect(retry.message).toEqual(read.find((m) => m.clientMessageId === 'u7-3'));
    expect(appendBlocks().length).toBe(before);
    expect(await readAll(store, 'room')).toHaveLength(total);
  });

  it('keeps a block within maxMessagesPerBlock and maxBlockBytes; a line larger than the bytes goes alone', async () => {
    const { direct, store, appendBlocks } = await setup({ maxMessagesPerBlock: 7, maxBlockBytes: 1500 });
    // Lines of about 110 bytes (7 fit in 1 500 bytes), then of about 410 (only 3 do).
    const short = burst(store, 30);
    const long = burst(store, 30, (i) => `${i}`.padEnd(300, 'x'));
    const big = store.append({ conversation: 'room', from: 'ann', text: 'b'.repeat(3000) });
    const after = burst(store, 5, (i) => `after${i}`);
    const sent = (await Promise.all([...short, ...long, big, ...after])).map((r) => r.message);
    const blocks = appendBlocks();
    for (const block of blocks) {
      expect(block.requestLines).toBeLessThanOrEqual(7);
      if (block.requestLines > 1) expect(block.requestBytes).toBeLessThanOrEqual(1500);
    }
    expect(blocks.filter((b) => b.requestLines === 7).length).toBeGreaterThanOrEqual(3);
    expect(blocks.filter((b) => b.requestLines === 3 && b.requestBytes > 1000).length).toBeGreaterThanOrEqual(
      5,
    );
    expect(blocks.filter((b) => b.requestLines === 1 && b.requestBytes > 3000)).toHaveLength(1);
    expect((await rawSegments(direct, 'room')).flatMap((s) => s.lines)).toEqual(sent);
  });

  it('holds at most maxQueuedAppends queued lines; further callers wait their turn and keep their order', async () => {
    const { direct, store, appendBlocks } = await setup({ maxQueuedAppends: 5 });
    const sent = (await Promise.all(burst(store, 50))).map((r) => r.message);
    expect(Math.max(...appendBlocks().map((b) => b.requestLines))).toBe(5);
    expect(appendBlocks().length).toBeGreaterThanOrEqual(10);
    expect((await rawSegments(direct, 'room')).flatMap((s) => s.lines)).toEqual(sent);
  });

  it('rolls when a batch fills its segment: every segment within the limit, nothing lost, in order', async () => {
    const { direct, store } = await setup({ segmentBlockLimit: 3, maxMessagesPerBlock: 4 });
    const sent = (await Promise.all(burst(store, 60))).map((r) => r.message);
    const segments = await rawSegments(direct, 'room');
    expect(segments.length).toBeGreaterThanOrEqual(5);
    // One instance has one block in flight per conversation, so no segment passes the limit.
    for (const segment of segments) expect(segment.blocks).toBeLessThanOrEqual(3);
    expect(segments.flatMap((s) => s.lines)).toEqual(sent);
    expect(await readAll(store, 'room')).toEqual(sent);
  });

  it('moves a batch refused by a sealed segment to the next segment whole, losing and repeating nothing', async () => {
    const direct = blob.container();
    let appends = 0;
    const { store, appendBlocks } = await setup(
      {},
      async (request) => {
        // Another instance rolls on just as the batch (the second append) goes out.
        if (isAppendBlock(request) && ++appends === 2) {
          await direct.getAppendBlobClient(segmentBlobName('room', 1)).seal();
        }
        return undefined;
      },
      direct.containerName,
    );
    const sent = (await Promise.all(burst(store, 30))).map((r) => r.message);
    expect(appendBlocks().map((b) => [b.requestLines, b.status])).toEqual([
      [1, 201],
      [29, 409],
      [29, 201],
    ]);
    const segments = await rawSegments(direct, 'room');
    expect(segments.map((s) => s.lines.length)).toEqual([1, 29]);
    expect(segments.flatMap((s) => s.lines)).toEqual(sent);
  });

  it('fails every message of a batch whose append fails before it is written, and the next append works', async () => {
    let appends = 0;
    const { direct, store, appendBlocks } = await setup({}, (request) =>
      isAppendBlock(request) && ++appends === 2 ? { status: 503, code: 'ServerBusy' } : undefined,
    );
    const results = await Promise.allSettled(burst(store, 20));
    expect(results[0]?.status).toBe('fulfilled');
    for (const result of results.slice(1)) {
      expect(result).toMatchObject({ status: 'rejected', reason: { statusCode: 503 } });
    }
    expect(appendBlocks().map((b) => b.requestLines)).toEqual([1, 19]);
    const next = await store.append({ conversation: 'room', from: 'ann', text: 'next' });
    const first = (results[0] as PromiseFulfilledResult<AppendResult>).value.message;
    expect((await rawSegments(direct, 'room')).flatMap((s) => s.lines)).toEqual([first, next.message]);
  });

  describe('with clientMessageIds, a batch whose append fails', () => {
    const senders = 12;
    const send = (store: HistoryStore, sender: number) =>
      store.append({
        conversation: 'room',
        from: `u${sender}`,
        text: `t${sender}`,
        clientMessageId: `c${sender}`,
      });

    /**
     * Sends from `senders` senders at once: the first goes out alone, the others queue behind it and go out as
     * one batch, the second append, which gets `fault`.
     */
    async function sendWithFailingBatch(fault: { status: number; code: string; afterForwarding?: boolean }) {
      let appends = 0;
      const context = await setup({}, (request) => {
        if (!isAppendBlock(request)) return undefined;
        appends++;
        return appends === 2 ? fault : undefined;
      });
      const { store } = context;
      const results = await Promise.allSettled(Array.from({ length: senders }, (_, s) => send(store, s)));
      expect(context.appendBlocks().map((b) => b.requestLines)).toEqual([1, senders - 1]);
      const stored = results.filter((r) => r.status === 'fulfilled');
      const failed = results.filter((r) => r.status === 'rejected');
      expect(stored).toHaveLength(1);
      expect(failed).toHaveLength(senders - 1);
      for (const result of failed) expect(result.reason).toMatchObject({ statusCode: fault.status });
      return context;
    }

    /** Each sender retries with its clientMessageId, twice; every message must then be stored exactly once. */
    async function retryAll(store: HistoryStore, direct: ContainerClient) {
      const retries = await Promise.all(Array.from({ length: senders }, (_, s) => send(store, s)));
      const again = await Promise.all(Array.from({ length: senders }, (_, s) => send(store, s)));
      expect(again.map((r) => r.message)).toEqual(retries.map((r) => r.message));
      for (const r of again) expect(r.duplicate).toBe(true);
      const lines = (await rawSegments(direct, 'room')).flatMap((s) => s.lines);
      expect(lines).toHaveLength(senders);
      expect(new Set(lines.map((m) => m.clientMessageId))).toEqual(
        new Set(Array.from({ length: senders }, (_, s) => `c${s}`)),
      );
      expect(new Set(lines.map((m) => m.id))).toEqual(new Set(retries.map((r) => r.message.id)));
      return retries;
    }

    it('before anything was written (503): every member is appended once by its retry', async () => {
      const { store, direct } = await sendWithFailingBatch({ status: 503, code: 'ServerBusy' });
      expect((await rawSegments(direct, 'room')).flatMap((s) => s.lines)).toHaveLength(1);
      await retryAll(store, direct);
    });

    it('after it was written (answer lost, 500): every member is found by its retry, none written twice', async () => {
      const { store, direct } = await sendWithFailingBatch({
        status: 500,
        code: 'InternalError',
        afterForwarding: true,
      });
      const written = (await rawSegments(direct, 'room')).flatMap((s) => s.lines);
      expect(written).toHaveLength(senders);
      const retries = await retryAll(store, direct);
      // The retries found the messages the failed batch had written: the same ids, all duplicates. Their
      // append was refused at the position read before the batch, and the new bytes read answered them.
      for (const r of retries) expect(r.duplicate).toBe(true);
      expect(new Set(retries.map((r) => r.message.id))).toEqual(new Set(written.map((m) => m.id)));
    });

    it('refused outright (4xx): nothing of it is stored, and every retry stores its message afresh', async () => {
      const { store, direct } = await sendWithFailingBatch({ status: 409, code: 'InvalidBlobType' });
      const retries = await retryAll(store, direct);
      const fresh = retries.filter((r) => !r.duplicate);
      expect(fresh).toHaveLength(senders - 1);
    });
  });

  it('a lone message costs one request, with a clientMessageId or without', async () => {
    const { proxy, store } = await setup();
    await store.append({ conversation: 'room', from: 'ann', text: 'warm', clientMessageId: 'w' });
    let from = proxy.exchanges.length;
    await store.append({ conversation: 'room', from: 'ann', text: 'one', clientMessageId: 'c1' });
    expect(proxy.exchanges.slice(from).map((e) => [isAppendBlock(e), e.status])).toEqual([[true, 201]]);
    from = proxy.exchanges.length;
    await store.append({ conversation: 'room', from: 'ann', text: 'two' });
    expect(
      proxy.exchanges
        .slice(from)
        .filter(isAppendBlock)
        .map((e) => e.requestLines),
    ).toEqual([1]);
    expect(proxy.exchanges.length - from).toBe(1);
  });

  it("an append whose answer was lost is found by its id when the client's retry is refused: stored once, answered", async () => {
    let appends = 0;
    const name = `t-${randomUUID()}`;
    const direct = blob.container(name);
    // A client that retries, as the app's does (BLOB_RETRY_OPTIONS): its retry meets the position the lost try moved.
    const { proxy, client: viaProxy } = await proxied.container(name, {
      intercept: (request) =>
        isAppendBlock(request) && ++appends === 2
          ? { status: 500, code: 'InternalError', afterForwarding: true }
          : undefined,
      retryOptions: { maxTries: 2, retryDelayInMs: 10 },
    });
    const store = createHistoryStore({ containerClient: viaProxy });
    await store.ensureContainer();
    await direct.getAppendBlobClient(segmentBlobName('room', 1)).create();
    const one = await store.append({ conversation: 'room', from: 'ann', text: 'one' });
    const two = await store.append({ conversation: 'room', from: 'ann', text: 'two' });
    const three = await store.append({ conversation: 'room', from: 'ann', text: 'three' });
    expect([one, two, three].map((r) => r.duplicate)).toEqual([false, false, false]);
    expect(proxy.exchanges.filter(isAppendBlock).map((e) => e.status)).toEqual([201, 500, 412, 201]);
    expect((await rawSegments(direct, 'room')).flatMap((s) => s.lines)).toEqual([
      one.message,
      two.message,
      three.message,
    ]);
  });
});
