/**
 * The chat on three Function instances behind the front end (docs/architecture.md, "Many Function
 * instances"): 20 senders appending to one room through all three, one instance killed mid-run; every
 * acknowledged message stored once and in its sender's order, presence exact once the leaves are announced,
 * and one user's command limit holding across instances. Counts only: no timed assertion.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ROOM } from '../../src/lib/conversation.js';
import type { ChatClient, ReceivedEvent } from '../support/chat-clients.js';
import { welcomeOf } from '../support/chat-clients.js';
import { useChatStack } from '../support/fixtures.js';
import { storedMessages } from '../support/room-history.js';

const SENDERS = 20;
const MESSAGES_PER_SENDER = 12;
/** How long a sender waits for its own copy before it sends the same message again (same clientMessageId). */
const RESEND_AFTER_MS = 3_000;
const BURST = 30;

const chat = useChatStack({
  instances: 3,
  // The documented burst, and a refill so slow that no token comes back during the test: counts are exact.
  env: { CHAT_COMMAND_BURST: String(BURST), CHAT_COMMANDS_PER_SECOND: '0.001' },
});

const ownCopy = (client: ChatClient, clientMessageId: string) => (e: ReceivedEvent) =>
  e.type === 'message' && e.payload.from === client.user && e.payload.clientMessageId === clientMessageId;

/** Sends until the sender's own copy comes back (resending the same message after a silence); returns attempts. */
async function sendUntilAcknowledged(
  client: ChatClient,
  text: string,
  clientMessageId: string,
): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const from = client.events.length;
    await client.send('sendMessage', { text, clientMessageId }).catch(() => undefined);
    const answer = await Promise.race([
      client.waitFor(
        (e) =>
          ownCopy(client, clientMessageId)(e) ||
          (e.type === 'error' && e.payload.clientMessageId === clientMessageId),
        from,
      ),
      sleep(RESEND_AFTER_MS).then(() => undefined),
    ]);
    if (answer?.type === 'message') return attempt;
    if (attempt >= 8)
      throw new Error(`${clientMessageId} was never acknowledged: ${JSON.stringify(answer?.payload)}`);
  }
}

describe('three Function instances behind the front end', () => {
  it('stores every acknowledged message once and in order while an instance dies, and keeps presence exact', async () => {
    const { stack, connect } = chat;
    const instances = stack.instances;
    if (instances === undefined) throw new Error('the stack runs one instance');
    const watcher = await connect('watcher', 'signalr');
    const senders = await Promise.all(
      Array.from({ length: SENDERS }, (_, i) => connect(`sender-${String(i).padStart(2, '0')}`, 'signalr')),
    );

    let acknowledged = 0;
    let killed = false;
    const acked: string[] = [];
    await Promise.all(
      senders.map(async (sender) => {
        for (let i = 0; i < MESSAGES_PER_SENDER; i++) {
          const id = `${sender.user}-${i}`;
          await sendUntilAcknowledged(sender, `${sender.user} #${i}`, id);
          acked.push(id);
          acknowledged++;
          if (!killed && acknowledged >= (SENDERS * MESSAGES_PER_SENDER) / 3) {
            killed = true;
            // Mid-run, with appends of every instance in flight: the instance dies at once.
            await instances.kill(1);
          }
        }
      }),
    );
    expect(killed).toBe(true);
    expect(instances.hosts.filter((h) => h !== undefined)).toHaveLength(2);

    const stored = await storedMessages(stack.env, ROOM);
    const byClientId = new Map<string, number>();
    for (const m of stored) {
      if (m.clientMessageId !== undefined)
        byClientId.set(m.clientMessageId, (byClientId.get(m.clientMessageId) ?? 0) + 1);
    }
    // Every acknowledged message once; nothing twice.
    expect(acked).toHaveLength(SENDERS * MESSAGES_PER_SENDER);
    for (const id of acked) expect(byClientId.get(id), id).toBe(1);
    expect([...byClientId.values()].every((n) => n === 1)).toBe(true);
    // In each sender's order, in the stored (id) order of the room.
    for (const sender of senders) {
      const own = stored.filter((m) => m.from === sender.user).map((m) => m.clientMessageId);
      expect(own).toEqual(Array.from({ length: MESSAGES_PER_SENDER }, (_, i) => `${sender.user}-${i}`));
    }

    // Presence: half the senders leave, through whichever instances get their disconnects.
    const leaving = senders.slice(0, SENDERS / 2);
    const staying = senders.slice(SENDERS / 2);
    const mark = watcher.events.length;
    await Promise.all(leaving.map((c) => c.close()));
    for (const c of leaving) {
      await watcher.waitFor(
        (e) => e.type === 'presence' && (e.payload.left as string[]).includes(c.user),
        mark,
      );
    }
    // After the bound (every leave announced), a newcomer's welcome lists exactly who is there, with the count.
    const checker = await connect('checker', 'signalr');
    const expected = ['checker', 'watcher', ...staying.map((c) => c.user)].sort();
    expect(welcomeOf(checker).online).toEqual(expected);
    expect(checker.events.find((e) => e.type === 'welcome')?.payload.onlineCount).toBe(expected.length);
  }, 300_000);

  it("holds one user's command limit across instances and connections", async () => {
    const { stack, connect } = chat;
    const connections = await Promise.all([0, 1, 2].map(() => connect('hog', 'signalr')));
    const perConnection = 20;
    await Promise.all(
      connections.map(async (c, k) => {
        for (let i = 0; i < perConnection; i++) {
          await c.send('sendMessage', { text: `hog ${k}.${i}`, clientMessageId: `hog-${k}-${i}` });
        }
      }),
    );
    // Every command is answered: by its own copy (stored) or by a rate-limited error on its connection.
    let refused = 0;
    for (const [k, c] of connections.entries()) {
      for (let i = 0; i < perConnection; i++) {
        const id = `hog-${k}-${i}`;
        const answer = await c.waitFor(
          (e) =>
            (e.type === 'message' && e.payload.clientMessageId === id) ||
            (e.type === 'error' && e.payload.clientMessageId === id),
        );
        if (answer.type === 'error') {
          expect(answer.payload.code).toBe('rate-limited');
          refused++;
        }
      }
    }
    const stored = (await storedMessages(stack.env, ROOM)).filter((m) => m.from === 'hog');
    // The three instances together let through the user's burst, no more (a forfeited lease only refuses more).
    expect(stored.length).toBeLessThanOrEqual(BURST);
    expect(stored.length).toBeGreaterThan(0);
    expect(stored.length + refused).toBe(3 * perConnection);
  }, 120_000);
});
