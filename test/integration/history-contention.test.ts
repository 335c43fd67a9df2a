/**
 * One hot conversation appended to by three instances at once, against real Azurite: each store stands for one
 * Function instance (its own client, appender and index), the senders' messages go to them in turn as a
 * round-robin front end sends them. Exactly-once and each sender's order hold however the conditional appends
 * race, and the Blob requests stay bounded per message: a retry after a lost append takes the lines queued
 * meanwhile, and an instance that found others' lines ahead of its own reads the new ones just before each of its
 * next blocks, spaced out, rather than losing them again (docs/architecture.md, "History in Blob Storage").
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type ChatMessage,
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

/** Three instances on one container, each store's Blob requests recorded (one try each: no hidden retries). */
async function threeInstances(options: Partial<HistoryStoreOptions> = {}, intercept?: Interceptor) {
  const name = `t-${randomUUID()}`;
  const direct = blob.container(name);
  await direct.create();
  await direct.getAppendBlobClient(segmentBlobName('room', 1)).create();
  const instances = await Promise.all(
    Array.from({ length: 3 }, async (_, index) => {
      const { proxy, client } = await proxied.container(
        name,
        index === 0 && intercept !== undefined ? { intercept } : {},
      );
      return { proxy, store: createHistoryStore({ containerClient: client, ...options }) };
    }),
  );
  return { direct, instances, stores: instances.map((i) => i.store) };
}

/**
 * `senders` senders at once, each sending `perSender` messages one after another (each waits for the answer to
 * its last, as a client waits for its ack), message i of sender s to instance (s + i) mod 3. Every fourth send is
 * also sent again at the same moment through the next instance, as a client resends after a lost answer.
 */
async function hotRoom(stores: HistoryStore[], senders: number, perSender: number) {
  const answers = await Promise.all(
    Array.from({ length: senders }, async (_, sender) => {
      const got: { message: ChatMessage; duplicate: boolean }[] = [];
      for (let i = 0; i < perSender; i++) {
        const send = (instance: number) =>
          (stores[instance % stores.length] as HistoryStore).append({
            conversation: 'room',
            from: `u${sender}`,
            text: `${i}`,
            clientMessageId: `u${sender}-${i}`,
          });
        const sends = i % 4 === 0 ? [send(sender + i), send(sender + i + 1)] : [send(sender + i)];
        got.push(...(await Promise.all(sends)));
      }
      return got;
    }),
  );
  return answers.flat();
}

const isAppendBlock = (e: { method: string; url: string }) =>
  e.method === 'PUT' && e.url.includes('comp=appendblock');

/** Polls until `done` holds (the held request has reached the proxy). */
async function waitFor(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('a hot conversation appended to by three instances', () => {
  it('sends the lines queued while a block lost its append with its retry, as one block', async () => {
    // The first instance's second append is held until another instance has appended and three more lines
    // have queued behind it: it is refused (412), and its retry carries them all.
    let hold: (() => void) | undefined;
    let appendsSeen = 0;
    const held = new Promise<void>((resolve) => {
      hold = resolve;
    });
    const { instances, direct, stores } = await threeInstances({}, async ({ method, url }) => {
      if (isAppendBlock({ method, url }) && ++appendsSeen === 2) await held;
      return undefined;
    });
    const [a, b] = stores as [HistoryStore, HistoryStore];
    const send = (store: HistoryStore, text: string) =>
      store.append({ conversation: 'room', from: 'ann', text, clientMessageId: text });
    await send(a, 'a0');
    const first = send(a, 'a1');
    await waitFor(() => appendsSeen === 2);
    await send(b, 'b0');
    const queued = ['a2', 'a3', 'a4'].map((text) => send(a, text));
    hold?.();
    await Promise.all([first, ...queued]);

    const appends: RecordedExchange[] = (instances[0]?.proxy.exchanges ?? []).filter(isAppendBlock);
    expect(appends.map((e) => [e.status, e.requestLines])).toEqual([
      [201, 1],
      [412, 1],
      [201, 4],
    ]);
    const stored = (await rawSegments(direct, 'room')).flatMap((segment) => segment.lines);
    expect(stored.map((m) => m.text)).toEqual(['a0', 'b0', 'a1', 'a2', 'a3', 'a4']);
  });

  it('once it has lost to another instance, reads the new lines before its next block instead of losing again', async () => {
    const { instances, direct, stores } = await threeInstances();
    const [a, b] = stores as [HistoryStore, HistoryStore];
    const send = (store: HistoryStore, text: string) =>
      store.append({ conversation: 'room', from: 'ann', text, clientMessageId: text });
    // Taking turns: each block after the first finds the other instance's line ahead of its own.
    for (const [store, text] of [
      [a, 'a0'],
      [b, 'b0'],
      [a, 'a1'],
      [b, 'b1'],
      [a, 'a2'],
    ] as const)
      await send(store, text);

    // The first instance lost once (a1), and read b1 before its next block (a2), which went out at once.
    const seen = (instances[0]?.proxy.exchanges ?? [])
      .filter((e) => isAppendBlock(e) || (e.method === 'GET' && !e.url.includes('comp=')))
      .map((e) => `${isAppendBlock(e) ? 'append' : 'read'} ${e.status}`);
    expect(seen.slice(-5)).toEqual(['append 412', 'read 206', 'append 201', 'read 206', 'append 201']);
    const stored = (await rawSegments(direct, 'room')).flatMap((segment) => segment.lines);
    expect(stored.map((m) => m.text)).toEqual(['a0', 'b0', 'a1', 'b1', 'a2']);
  });

  it('stores every message once and in each sender order, in fewer Blob requests than messages', async () => {
    const { instances, direct, stores } = await threeInstances();
    const senders = 30;
    const perSender = 12;
    const messages = senders * perSender;
    const answers = await hotRoom(stores, senders, perSender);

    // Every send answered; a resend gets the one stored message back.
    const byPair = new Map<string, string>();
    for (const { message } of answers) {
      const key = `${message.from}/${message.clientMessageId}`;
      expect(byPair.get(key) ?? message.id, key).toBe(message.id);
      byPair.set(key, message.id);
    }
    expect(byPair.size).toBe(messages);

    // Physically: each (sender, clientMessageId) in exactly one line.
    const stored = (await rawSegments(direct, 'room')).flatMap((segment) => segment.lines);
    expect(stored).toHaveLength(messages);
    expect(new Set(stored.map((m) => `${m.from}/${m.clientMessageId}`)).size).toBe(messages);
    expect(new Set(stored.map((m) => m.id))).toEqual(new Set(byPair.values()));

    // Through the API: each sender's messages in the order it sent them.
    const read = await readAll(stores[0] as HistoryStore, 'room');
    for (let sender = 0; sender < senders; sender++) {
      const texts = read.filter((m) => m.from === `u${sender}`).map((m) => m.text);
      expect(texts).toEqual(Array.from({ length: perSender }, (_, i) => `${i}`));
    }

    // The cost per message: appends, won and lost (the instances did race), and reads (of what others appended,
    // and of the stored original a resend gets back).
    const exchanges = instances.flatMap((i) => i.proxy.exchanges);
    const appends = exchanges.filter((e) => e.method === 'PUT' && e.url.includes('comp=appendblock'));
    const lost = appends.filter((e) => e.status === 412);
    const reads = exchanges.filter((e) => e.method === 'GET' && !e.url.includes('comp='));
    expect(lost.length).toBeGreaterThan(0);
    expect((appends.length + reads.length) / messages).toBeLessThanOrEqual(1);
  });
});
