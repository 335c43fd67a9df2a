import { randomUUID } from 'node:crypto';
import type { ContainerClient } from '@azure/storage-blob';
import { describe, expect, it, vi } from 'vitest';
import {
  type ChatMessage,
  clientIdMarkerName,
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
function instances(
  count: number,
  options: { segmentBlockLimit?: number; pendingClaimTimeoutMs?: number } = {},
) {
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

describe('clientMessageId crash recovery', () => {
  /** Leaves the state a send leaves when its process dies after claiming the id (and maybe after appending). */
  async function crashedSend(container: ContainerClient, appended: boolean): Promise<ChatMessage> {
    await container.createIfNotExists();
    const message: ChatMessage = {
      ...newMessageId(),
      conversation: 'room',
      from: 'ann',
      text: 'accepted before the crash',
      clientMessageId: 'c-crash',
    };
    const body = JSON.stringify(message);
    await container
      .getBlockBlobClient(clientIdMarkerName('room', 'ann', 'c-crash'))
      .upload(body, Buffer.byteLength(body), { metadata: { state: 'pending' } });
    if (appended) await appendLine(container, message);
    return message;
  }

  /** Appends a message as the first send would, creating the segment if needed. */
  async function appendLine(container: ContainerClient, message: ChatMessage): Promise<void> {
    const segment = container.getAppendBlobClient(segmentBlobName('room', 1));
    await segment.createIfNotExists();
    const line = `${JSON.stringify(message)}\n`;
    await segment.appendBlock(line, Buffer.byteLength(line));
  }

  /** The sender's retry of the crashed send: same sender, same clientMessageId. */
  const retrySend = (store: HistoryStore) =>
    store.append({ conversation: 'room', from: 'ann', text: 'retry', clientMessageId: 'c-crash' });

  it('appends the claimed message, with a fresh id, when the first send died before appending it', async () => {
    const { container, stores } = instances(1, { pendingClaimTimeoutMs: 0 });
    const store = stores[0] as HistoryStore;
    const earlier = await store.append({ conversation: 'room', from: 'bob', text: 'earlier' });
    const claimed = await crashedSend(container, false);
    const retry = await retrySend(store);
    // Nobody ever saw the claimed id (it was never stored), so it is re-issued to sort where it is appended.
    expect(retry.duplicate).toBe(true);
    const { id, sentAt, ...content } = retry.message;
    const { id: claimedId, sentAt: _claimedAt, ...claimedContent } = claimed;
    expect(content).toEqual(claimedContent);
    expect(id > claimedId).toBe(true);
    const again = await retrySend(store);
    expect(again).toEqual({ message: retry.message, duplicate: true });
    expect((await store.read('room')).messages).toEqual([earlier.message, retry.message]);
    expect((await rawSegments(container, 'room')).flatMap((s) => s.lines)).toEqual([
      earlier.message,
      retry.message,
    ]);
  });

  it('does not append again when the first send appended (its marker still pending), even past the claim timeout', async () => {
    const { container, stores } = instances(1, { pendingClaimTimeoutMs: 0 });
    const store = stores[0] as HistoryStore;
    const claimed = await crashedSend(container, true);
    const retry = await retrySend(store);
    expect(retry).toEqual({ message: claimed, duplicate: true });
    const lines = (await rawSegments(container, 'room')).flatMap((s) => s.lines);
    expect(lines).toEqual([claimed]);
  });

  it('releases the claim when the service refuses the append, so a retry is not told it is a duplicate', async () => {
    const { container, stores } = instances(1);
    const store = stores[0] as HistoryStore;
    await container.createIfNotExists();
    // A segment that is not an append blob: the service answers 409 InvalidBlobType and writes nothing.
    await container.getBlockBlobClient(segmentBlobName('room', 1)).upload('', 0);
    const send = () =>
      store.append({ conversation: 'room', from: 'ann', text: 'x', clientMessageId: 'c-refused' });
    await expect(send()).rejects.toMatchObject({ statusCode: 409 });
    expect(await container.getBlobClient(clientIdMarkerName('room', 'ann', 'c-refused')).exists()).toBe(
      false,
    );

    await container.getBlobClient(segmentBlobName('room', 1)).delete();
    const retry = await send();
    expect(retry.duplicate).toBe(false);
    expect((await store.read('room')).messages).toEqual([retry.message]);
  });

  it('waits for a send in flight (claimed, not yet appended) instead of taking it over, then answers with its message', async () => {
    const proxy = await startRecordingProxy(`http://127.0.0.1:${blob.azurite.port}`);
    try {
      const name = `t-${randomUUID()}`;
      const container = blob.container(name);
      const viaProxy = blob.container(name, azuriteConnectionString(`${proxy.url}/devstoreaccount1`));
      const store = createHistoryStore({ containerClient: viaProxy, pendingClaimTimeoutMs: 60_000 });
      const claimed = await crashedSend(container, false);
      const retry = retrySend(store);
      // Once the retry has seen the marker pending and the message not stored, the "first send" appends it; the
      // retry must then answer with that message and append nothing.
      const markerReads = () =>
        proxy.exchanges.filter((e) => e.method === 'GET' && e.url.includes('client-ids'));
      // The retry has read the marker and then looked in the history and found nothing (the exchange is recorded
      // once Azurite has answered): only then does the "first send" append, so the retry must read the marker again.
      const lookedInHistory = () => {
        const first = proxy.exchanges.findIndex((e) => e.method === 'GET' && e.url.includes('client-ids'));
        return first >= 0 && proxy.exchanges.slice(first + 1).some((e) => !e.url.includes('client-ids'));
      };
      await vi.waitFor(() => expect(lookedInHistory()).toBe(true), { timeout: 10_000, interval: 5 });
      await appendLine(container, claimed);
      expect(await retry).toEqual({ message: claimed, duplicate: true });
      expect(markerReads().length).toBeGreaterThan(1);
      expect((await rawSegments(container, 'room')).flatMap((s) => s.lines)).toEqual([claimed]);
    } finally {
      await proxy.close();
    }
  });
});

describe('Blob requests per message', () => {
  it('a send costs one append, two requests with a clientMessageId; a retry costs reads only', async () => {
    const proxy = await startRecordingProxy(`http://127.0.0.1:${blob.azurite.port}`);
    try {
      const name = `t-${randomUUID()}`;
      const viaProxy = blob.container(name, azuriteConnectionString(`${proxy.url}/devstoreaccount1`));
      const store = createHistoryStore({ containerClient: viaProxy });
      // The first send of an instance creates the container and the segment and finds the current segment.
      await store.append({ conversation: 'room', from: 'ann', text: 'warm', clientMessageId: 'w' });
      const requests = async (send: () => Promise<unknown>) => {
        const from = proxy.exchanges.length;
        await send();
        return proxy.exchanges.slice(from).map((e) => `${e.method} ${new URL(e.url, proxy.url).search}`);
      };
      const withId = await requests(() =>
        store.append({ conversation: 'room', from: 'ann', text: 'one', clientMessageId: 'c1' }),
      );
      // The marker's create (If-None-Match: *) and the append: nothing else.
      expect(withId).toHaveLength(2);
      expect(withId.filter((r) => r.includes('comp=appendblock'))).toHaveLength(1);
      const withoutId = await requests(() =>
        store.append({ conversation: 'room', from: 'ann', text: 'two' }),
      );
      expect(withoutId).toHaveLength(1);
      expect(withoutId[0]).toContain('comp=appendblock');
      // A retry writes no message: it reads the marker, finds the message, and marks the marker stored.
      const retry = await requests(() =>
        store.append({ conversation: 'room', from: 'ann', text: 'one', clientMessageId: 'c1' }),
      );
      expect(retry.filter((r) => r.includes('comp=appendblock'))).toEqual([]);
      expect((await store.read('room')).messages.map((m) => m.text)).toEqual(['warm', 'one', 'two']);
    } finally {
      await proxy.close();
    }
  });
});
