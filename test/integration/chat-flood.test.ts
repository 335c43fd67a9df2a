/**
 * One user floods from 40 connections (docs/architecture.md, "Fair sharing"): the command limit counts the
 * user, not the socket, the service refuses what would queue past the user's bound, and nothing of the flood
 * is stored once its connections are gone. Fixed counts only; the others' ack latency is a bench figure.
 */
import { describe, expect, it } from 'vitest';
import { ROOM } from '../../src/lib/conversation.js';
import type { ChatClient } from '../support/chat-clients.js';
import { isMessage } from '../support/chat-clients.js';
import { useChatStack } from '../support/fixtures.js';
import { storedMessages } from '../support/room-history.js';

const CONNECTIONS = 40;
const SENDS_PER_CONNECTION = 50;
const BURST = 30;

const chat = useChatStack({
  // The documented burst and a refill so slow that no token comes back during the test: counts are exact.
  env: { CHAT_COMMAND_BURST: String(BURST), CHAT_COMMANDS_PER_SECOND: '0.001' },
  // 40 connects of one user at once (the service's own connect limit is not what this test is about).
  serviceOptions: { connectBurstPerUser: CONNECTIONS },
});

describe('a flood from 40 connections of one user', () => {
  it('stores at most the burst, refuses the rest, stores nothing after the connections are gone, and serves others', async () => {
    const { stack, connect } = chat;
    const calm = await connect('calm', 'signalr');
    const flood: ChatClient[] = await Promise.all(
      Array.from({ length: CONNECTIONS }, () => connect('flood', 'signalr')),
    );
    const mark = calm.events.length;
    const sending = Promise.all(
      flood.map(async (c, k) => {
        for (let i = 0; i < SENDS_PER_CONNECTION; i++) {
          await c.send('sendMessage', { text: `flood ${k}.${i}`, clientMessageId: `flood-${k}-${i}` });
        }
      }),
    );
    // Another user is served while the flood runs.
    await calm.send('sendMessage', { text: 'calm during the flood', clientMessageId: 'calm-1' });
    await calm.waitFor(isMessage('calm during the flood'));
    await sending;
    // The app answers past the burst with rate-limited (the user's, whichever connection sent).
    await Promise.race(
      flood.map((c) => c.waitFor((e) => e.type === 'error' && e.payload.code === 'rate-limited')),
    );
    const refusedByApp = flood.reduce(
      (n, c) => n + c.events.filter((e) => e.type === 'error' && e.payload.code === 'rate-limited').length,
      0,
    );

    // The client stops: its connections close. Once the last one's leave is announced, every disconnect (queued
    // behind its connection's messages) has run, so every message of the flood has been stored or refused.
    await Promise.all(flood.map((c) => c.close()));
    await calm.waitFor((e) => e.type === 'presence' && (e.payload.left as string[]).includes('flood'), mark);
    const stored = (await storedMessages(stack.env, ROOM)).filter((m) => m.from === 'flood');
    expect(stored.length).toBeLessThanOrEqual(BURST);
    expect(stored.length).toBeGreaterThan(0);
    expect(refusedByApp).toBeGreaterThan(0);
    // What the app never saw was refused by the service at the user's bound, and said so in its log.
    const sent = CONNECTIONS * SENDS_PER_CONNECTION;
    expect(stored.length + refusedByApp).toBeLessThanOrEqual(sent);
    if (stored.length + refusedByApp < sent) {
      expect(stack.logs.some((l) => l.includes('too many of this user wait for the upstream'))).toBe(true);
    }

    // Nothing more arrives later: a message of another user goes through the app after the count was taken.
    await calm.send('sendMessage', { text: 'calm after the flood', clientMessageId: 'calm-2' });
    await calm.waitFor(isMessage('calm after the flood'));
    const later = (await storedMessages(stack.env, ROOM)).filter((m) => m.from === 'flood');
    expect(later.length).toBe(stored.length);
  }, 180_000);
});
