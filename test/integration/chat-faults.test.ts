/**
 * Delivery until acknowledged, under faults (docs/architecture.md, "Delivery until acknowledged"): 20 clients
 * that send the way the page does (its own outbox, static/link/outbox.js) keep writing while the Functions host is
 * killed and restarted, then the service, then Azurite (gracefully, its data on disk). Afterwards every
 * acknowledged message is stored exactly once and in its sender's order, nothing sent is left unacknowledged,
 * and every client ends with the same history.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatClient } from '../support/chat-clients.js';
import { type OutboxClient, type StoredMessage, startOutboxClient } from '../support/outbox-client.js';
import { type RunningStack, startStack } from '../support/stack.js';

const SENDERS = 20;
const MESSAGES_EACH = 12;
/** Pause between two messages typed by one sender. */
const TYPING_MS = 150;

let stack: RunningStack;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'chat-faults-'));
  stack = await startStack({ blobLocation: dataDir, functionsShutdownGraceMs: 0 });
});

afterAll(async () => {
  await stack?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

/** Polls `done` until it holds; the test's own timeout bounds the wait. */
async function until(done: () => boolean, everyMs = 100): Promise<void> {
  while (!done()) await sleep(everyMs);
}

/** The whole room history, oldest first, read page by page through `client`. */
async function wholeHistory(client: ChatClient): Promise<StoredMessage[]> {
  const pages: StoredMessage[][] = [];
  let before: string | undefined;
  for (;;) {
    const from = client.events.length;
    await client.send('loadHistory', { conversation: 'room', limit: 100, ...(before ? { before } : {}) });
    const event = await client.waitFor((e) => e.type === 'history' || e.type === 'error', from);
    if (event.type === 'error') throw new Error(`loadHistory failed: ${JSON.stringify(event.payload)}`);
    const page = event.payload as unknown as { messages: StoredMessage[]; hasMore: boolean };
    pages.unshift(page.messages);
    if (!page.hasMore || page.messages.length === 0) break;
    before = page.messages[0]?.id;
  }
  return pages.flat();
}

describe('delivery until acknowledged, under faults', () => {
  it('20 senders through a killed Functions host, a restarted service and a restarted Azurite: every acknowledged message stored once, in order, seen by all', async () => {
    const clients: OutboxClient[] = Array.from({ length: SENDERS }, (_, i) =>
      startOutboxClient(stack.functionsUrl, `sender ${i}`, i % 2 === 0 ? 'signalr' : 'webpubsub'),
    );
    await until(() => clients.every((c) => c.current() !== undefined));

    const typing = Promise.all(
      clients.map(async (c) => {
        for (let n = 1; n <= MESSAGES_EACH; n++) {
          c.send(`${c.user} #${n}`);
          await sleep(TYPING_MS);
        }
      }),
    );
    const faults = (async () => {
      await sleep(300);
      await stack.restartFunctions(2000);
      await sleep(300);
      await stack.restartService(500);
      await sleep(300);
      await stack.restartBlob();
    })();
    await Promise.all([typing, faults]);

    // Every message typed is acknowledged in the end: none is left sending or failed.
    await until(() => clients.every((c) => c.pending().length === 0 && c.current() !== undefined));
    const acknowledged = clients.flatMap((c) => c.sent);
    expect(acknowledged).toHaveLength(SENDERS * MESSAGES_EACH);

    // Stored exactly once: one message per (sender, clientMessageId), and that is the one acknowledged.
    const reader = clients[0]?.current() as ChatClient;
    const stored = await wholeHistory(reader);
    const byClientId = new Map<string, StoredMessage[]>();
    for (const m of stored) {
      const key = `${m.from}|${m.clientMessageId}`;
      byClientId.set(key, [...(byClientId.get(key) ?? []), m]);
    }
    expect([...byClientId.values()].filter((copies) => copies.length > 1)).toEqual([]);
    expect(stored).toHaveLength(SENDERS * MESSAGES_EACH);
    const storedIds = new Set(stored.map((m) => m.id));
    expect(acknowledged.filter((m) => !storedIds.has(m.id))).toEqual([]);

    // Each sender's messages are in history in the order they were typed.
    for (const c of clients) {
      const mine = stored.filter((m) => m.from === c.user).map((m) => m.text);
      expect(mine).toEqual(Array.from({ length: MESSAGES_EACH }, (_, i) => `${c.user} #${i + 1}`));
    }

    // Every client ends with the same history: what it received live, merged with what it reads back (as the
    // page does after a reconnect).
    const expected = stored.map((m) => m.id).sort();
    for (const c of clients) {
      for (const m of await wholeHistory(c.current() as ChatClient)) c.seen.set(m.id, m);
      expect([...c.seen.keys()].sort()).toEqual(expected);
    }
    // The faults really happened: every client had to connect again after the service restart.
    expect(clients.every((c) => c.connections >= 2)).toBe(true);
    // …and caught messages in flight: some had to be sent again.
    expect(clients.reduce((n, c) => n + c.resends, 0)).toBeGreaterThan(0);

    await Promise.all(clients.map((c) => c.stop()));
  }, 180_000);
});
