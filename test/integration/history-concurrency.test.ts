import { randomUUID } from 'node:crypto';
import type { ContainerClient } from '@azure/storage-blob';
import { describe, expect, it, vi } from 'vitest';
import {
  type ChatMessage,
  createHistoryStore,
  type HistoryStore,
  newMessageId,
  segmentBlobName,
} from '../../src/lib/history/index.js';
import { azuriteConnectionString } from '../../src/local/dev-constants.js';
import { useAzurite } from '../support/fixtures.js';
import { rawSegments, readAll } from '../support/history-blobs.js';
import { startRecordingProxy } from '../support/recording-proxy.js';

const blob = useAzurite();

/** Separate clients for one container: what separate Function instances have. */
function instances(count: number, options: { segmentBlockLimit?: number; dedupeTailBytes?: number } = {}) {
  const name = `t-${randomUUID()}`;
  const client = () => blob.container(name);
  return {
    container: client(),
    stores: Array.from({ length: count }, () =>
      createHistoryStore({ containerClient: client(), ...options }),
    ),
  };
}

describe('history under concurrency', () => {
  it('rolls segments at a limit of 10 with three instances appending at once, storing every message exactly once', async () => {
    const limit = 10;
    const { container, stores } = instances(3, { segmentBlockLimit: limit });
    const perWriter = 40;
    const results = await Promise.all(
      stores.map(async (store, writer) => {
        const sent: ChatMessage[] = [];
        for (let i = 0; i < perWriter; i++) {
          const { message } = await store.append({
            conversation: 'room',
            from: `user${writer}`,
            text: `${writer}:${i}`,
          });
          sent.push(message);
        }
        return sent;
      }),
    );
    const sent = results.flat();

    const segments = await rawSegments(container, 'room');
    const stored = segments.flatMap((s) => s.lines);
    // Physically: each message in exactly one line of one segment; nothing lost, nothing written twice.
    expect(stored).toHaveLength(sent.length);
    expect(new Set(stored.map((m) => m.id)).size).toBe(sent.length);
    expect(new Set(stored.map((m) => m.id))).toEqual(new Set(sent.map((m) => m.id)));
    // Rolled: several segments, none past the limit by more than the writers in flight when it filled.
    expect(segments.length).toBeGreaterThanOrEqual(Math.floor(sent.length / (limit + stores.length)));
    for (const segment of segments) expect(segment.blocks).toBeLessThanOrEqual(limit + stores.length);

    // Through the API: the same messages once each, and each writer's messages in the order it sent them.
    const read = await readAll(stores[0] as HistoryStore, 'room');
    expect(read.map((m) => m.id).sort()).toEqual(sent.map((m) => m.id).sort());
    for (let writer = 0; writer < stores.length; writer++) {
      const texts = read.filter((m) => m.from === `user${writer}`).map((m) => m.text);
      expect(texts).toEqual(Array.from({ length: perWriter }, (_, i) => `${writer}:${i}`));
    }
  });

  it('stores a clientMessageId sent by two instances at the same moment once, and both get the same message', async () => {
    const { stores } = instances(2);
    const [a, b] = stores as [HistoryStore, HistoryStore];
    const pairs = await Promise.all(
      Array.from({ length: 15 }, (_, i) =>
        Promise.all(
          [a, b].map((store) =>
            store.append({
              conversation: 'dm:ann:bob',
              from: 'ann',
              to: 'bob',
              text: `t${i}`,
              clientMessageId: `c${i}`,
            }),
          ),
        ),
      ),
    );
    for (const [first, second] of pairs) {
      expect(first?.message).toEqual(second?.message);
      expect([first?.duplicate, second?.duplicate].sort()).toEqual([false, true]);
    }
    const read = await readAll(a, 'dm:ann:bob');
    expect(read).toHaveLength(15);
    expect(new Set(read.map((m) => m.clientMessageId))).toEqual(
      new Set(Array.from({ length: 15 }, (_, i) => `c${i}`)),
    );
  });

  it('20 senders through two instances, with retried sends and rollover at 10: each message once, in sender order', async () => {
    const { stores } = instances(2, { segmentBlockLimit: 10 });
    const perSender = 8;
    await Promise.all(
      Array.from({ length: 20 }, async (_, sender) => {
        for (let i = 0; i < perSender; i++) {
          const send = (store: HistoryStore) =>
            store.append({
              conversation: 'room',
              from: `u${sender}`,
              text: `${i}`,
              clientMessageId: `u${sender}-${i}`,
            });
          // Every third send is retried at once on the other instance, as after a lost response.
          const first = send(stores[sender % 2] as HistoryStore);
          if (i % 3 === 0) await Promise.all([first, send(stores[(sender + 1) % 2] as HistoryStore)]);
          else await first;
        }
      }),
    );
    const read = await readAll(stores[0] as HistoryStore, 'room');
    expect(read).toHaveLength(20 * perSender);
    expect(new Set(read.map((m) => m.id)).size).toBe(read.length);
    for (let sender = 0; sender < 20; sender++) {
      const texts = read.filter((m) => m.from === `u${sender}`).map((m) => m.text);
      expect(texts).toEqual(Array.from({ length: perSender }, (_, i) => `${i}`));
    }
  });

  it('moves to the next segment when the service refuses the append (sealed segment) and loses nothing', async () => {
    const { container, stores } = instances(1);
    const store = stores[0] as HistoryStore;
    const before = await store.append({ conversation: 'room', from: 'ann', text: 'one' });
    await container.getAppendBlobClient(segmentBlobName('room', 1)).seal();
    const after = await store.append({ conversation: 'room', from: 'ann', text: 'two' });
    expect(
      (await container.getAppendBlobClient(segmentBlobName('room', 2)).getProperties())
        .blobCommittedBlockCount,
    ).toBe(1);
    expect((await store.read('room')).messages).toEqual([before.message, after.message]);
  });
});

describe('clientMessageId across instances, crashes and stalls', () => {
  /** Appends a message as a send on another instance would, creating the segment if needed. */
  async function appendLine(container: ContainerClient, message: ChatMessage): Promise<void> {
    await container.createIfNotExists();
    const segment = container.getAppendBlobClient(segmentBlobName('room', 1));
    await segment.createIfNotExists();
    const line = `${JSON.stringify(message)}\n`;
    await segment.appendBlock(line, Buffer.byteLength(line));
  }

  const stored = (text: string, clientMessageId: string): ChatMessage => ({
    ...newMessageId(),
    conversation: 'room',
    from: 'ann',
    text,
    clientMessageId,
  });

  /** The sender's retry: same sender, same clientMessageId. */
  const retrySend = (store: HistoryStore, clientMessageId = 'c-crash') =>
    store.append({ conversation: 'room', from: 'ann', text: 'retry', clientMessageId });

  it('a retry on an instance that never saw the conversation finds the message its first send stored (the answer was lost)', async () => {
    const { container, stores } = instances(1);
    const first = stored('accepted before the crash', 'c-crash');
    await appendLine(container, first);
    const retry = await retrySend(stores[0] as HistoryStore);
    expect(retry).toEqual({ message: first, duplicate: true });
    expect((await rawSegments(container, 'room')).flatMap((s) => s.lines)).toEqual([first]);
  });

  it('a retry on an instance that knows the conversation finds a message another instance stored since', async () => {
    const { container, stores } = instances(1);
    const store = stores[0] as HistoryStore;
    const earlier = await store.append({ conversation: 'room', from: 'bob', text: 'earlier' });
    const first = stored('stored elsewhere', 'c-crash');
    await appendLine(container, first);
    const retry = await retrySend(store);
    expect(retry).toEqual({ message: first, duplicate: true });
    expect((await rawSegments(container, 'room')).flatMap((s) => s.lines)).toEqual([earlier.message, first]);
  });

  it('a first send stalled until its retry was stored elsewhere stores nothing: its append is refused and it answers with the stored one', async () => {
    const name = `t-${randomUUID()}`;
    const container = blob.container(name);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let stalled = false;
    const proxy = await startRecordingProxy(`http://127.0.0.1:${blob.azurite.port}`, {
      intercept: async ({ method, url }) => {
        if (!stalled && method === 'PUT' && url.includes('comp=appendblock')) {
          stalled = true;
          await held;
        }
        return undefined;
      },
    });
    try {
      const slow = createHistoryStore({
        containerClient: blob.container(name, azuriteConnectionString(`${proxy.url}/devstoreaccount1`)),
      });
      const other = createHistoryStore({ containerClient: container });
      await other.append({ conversation: 'room', from: 'bob', text: 'before' });
      const first = slow.append({ conversation: 'room', from: 'ann', text: 'x', clientMessageId: 'c-stall' });
      await vi.waitFor(() => expect(stalled).toBe(true), { timeout: 10_000, interval: 5 });
      const retry = await other.append({
        conversation: 'room',
        from: 'ann',
        text: 'x',
        clientMessageId: 'c-stall',
      });
      expect(retry.duplicate).toBe(false);
      release();
      expect(await first).toEqual({ message: retry.message, duplicate: true });
      const lines = (await rawSegments(container, 'room')).flatMap((s) => s.lines);
      expect(lines.filter((m) => m.clientMessageId === 'c-stall')).toEqual([retry.message]);
      // Refused at the position it had read, then a read of the new bytes only: no second append.
      const appends = proxy.exchanges.filter((e) => e.url.includes('comp=appendblock'));
      expect(appends.map((e) => e.status)).toEqual([412]);
    } finally {
      release();
      await proxy.close();
    }
  });

  it('keeps its index across a roll: a retry on an instance that knew the full segment finds lines written before and after the roll', async () => {
    const { container, stores } = instances(2, { segmentBlockLimit: 3 });
    const [a, b] = stores as [HistoryStore, HistoryStore];
    // b knows segment 1 up to its own first line; a then fills segment 1 (and rolls) and writes into segment 2.
    await b.append({ conversation: 'room', from: 'bob', text: 'b0' });
    const sent: ChatMessage[] = [];
    for (let i = 0; i < 4; i++) sent.push((await retrySend(a, `c${i}`)).message);
    const segments = await rawSegments(container, 'room');
    expect(segments.map((s) => s.lines.length)).toEqual([3, 2]);
    // c1 lies in segment 1 after what b read (b meets the seal, reads segment 1 to its end, moves on); c3 in 2.
    expect(await retrySend(b, 'c1')).toEqual({ message: sent[1], duplicate: true });
    expect(await retrySend(b, 'c3')).toEqual({ message: sent[3], duplicate: true });
    expect(await retrySend(b, 'c0')).toEqual({ message: sent[0], duplicate: true });
    expect((await rawSegments(container, 'room')).flatMap((s) => s.lines)).toHaveLength(5);
  });

  it('seals an older segment a dead roll left open before reading the conversation, so no stale writer appends behind what it read', async () => {
    const { container, stores } = instances(2);
    const [stale, fresh] = stores as [HistoryStore, HistoryStore];
    await stale.append({ conversation: 'room', from: 'bob', text: 'in segment 1' });
    // A roll that created segment 2 and died before sealing segment 1.
    await container.getAppendBlobClient(segmentBlobName('room', 2)).create();
    await retrySend(fresh, 'c-fresh');
    expect((await container.getAppendBlobClient(segmentBlobName('room', 1)).getProperties()).isSealed).toBe(
      true,
    );
    // The writer that still knew segment 1 meets the seal, reads segment 1 to its end and appends to segment 2.
    const late = await retrySend(stale, 'c-late');
    expect(late.duplicate).toBe(false);
    const segments = await rawSegments(container, 'room');
    expect(segments.map((seg) => seg.lines.map((m) => m.clientMessageId ?? m.text))).toEqual([
      ['in segment 1'],
      ['c-fresh', 'c-late'],
    ]);
  });

  it('a refused append (4xx) stores nothing and leaves nothing behind, so a retry stores the message afresh', async () => {
    const { container, stores } = instances(1);
    const store = stores[0] as HistoryStore;
    await container.createIfNotExists();
    // A segment that is not an append blob: the service answers 409 InvalidBlobType and writes nothing.
    await container.getBlockBlobClient(segmentBlobName('room', 1)).upload('', 0);
    const send = () =>
      store.append({ conversation: 'room', from: 'ann', text: 'x', clientMessageId: 'c-refused' });
    await expect(send()).rejects.toMatchObject({ statusCode: 409 });

    await container.getBlobClient(segmentBlobName('room', 1)).delete();
    const retry = await send();
    expect(retry.duplicate).toBe(false);
    expect((await store.read('room')).messages).toEqual([retry.message]);
  });

  it('reads back at most dedupeTailBytes for a conversation it does not know: an older first send is stored again, and readers show it once', async () => {
    const { container, stores } = instances(1, { dedupeTailBytes: 2_000 });
    const old = stored('long ago', 'c-old');
    await appendLine(container, old);
    for (let i = 0; i < 20; i++)
      await appendLine(container, stored(`filler ${i} ${'x'.repeat(100)}`, `f${i}`));
    const recent = stored('recent', 'c-recent');
    await appendLine(container, recent);
    const store = stores[0] as HistoryStore;
    // Within the bytes read back: found.
    expect(await retrySend(store, 'c-recent')).toEqual({ message: recent, duplicate: true });
    // Beyond them (the stated window): stored again, and the reader drops the repeat.
    const again = await retrySend(store, 'c-old');
    expect(again.duplicate).toBe(false);
    const read = await readAll(store, 'room');
    expect(read.filter((m) => m.clientMessageId === 'c-old')).toHaveLength(1);
  });
});

describe('Blob requests per message', () => {
  it('a send costs one append, with or without a clientMessageId; a retry costs none', async () => {
    const proxy = await startRecordingProxy(`http://127.0.0.1:${blob.azurite.port}`);
    try {
      const name = `t-${randomUUID()}`;
      const viaProxy = blob.container(name, azuriteConnectionString(`${proxy.url}/devstoreaccount1`));
      const store = createHistoryStore({ containerClient: viaProxy });
      // The first send of an instance creates the container and the segment and reads the conversation's tail.
      await store.append({ conversation: 'room', from: 'ann', text: 'warm', clientMessageId: 'w' });
      const requests = async (send: () => Promise<unknown>) => {
        const from = proxy.exchanges.length;
        await send();
        return proxy.exchanges.slice(from).map((e) => `${e.method} ${new URL(e.url, proxy.url).search}`);
      };
      const withId = await requests(() =>
        store.append({ conversation: 'room', from: 'ann', text: 'one', clientMessageId: 'c1' }),
      );
      // The conditional append: nothing else.
      expect(withId).toHaveLength(1);
      expect(withId[0]).toContain('comp=appendblock');
      const withoutId = await requests(() =>
        store.append({ conversation: 'room', from: 'ann', text: 'two' }),
      );
      expect(withoutId).toHaveLength(1);
      expect(withoutId[0]).toContain('comp=appendblock');
      // A retry on the instance that stored it: found in its index, answered from one ranged read, nothing written.
      const retry = await requests(() =>
        store.append({ conversation: 'room', from: 'ann', text: 'one', clientMessageId: 'c1' }),
      );
      expect(retry.filter((r) => r.startsWith('PUT'))).toEqual([]);
      expect((await store.read('room')).messages.map((m) => m.text)).toEqual(['warm', 'one', 'two']);
    } finally {
      await proxy.close();
    }
  });
});
