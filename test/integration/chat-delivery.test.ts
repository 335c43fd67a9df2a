/**
 * The sender's side of delivery through the whole local stack (docs/architecture.md, "Delivery until
 * acknowledged", "Names", "Fair sharing"): acknowledgements, refusals that name the message, a storage outage, names that
 * would change a URL, and the per-connection command limit.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChatClient, connectChat, isMessage } from '../support/chat-clients.js';
import { type RunningStack, startStack } from '../support/stack.js';

/** Small limits, so that a flood is quick to produce. */
const BURST = 10;

let stack: RunningStack;
let dataDir: string;
const clients: ChatClient[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'chat-delivery-'));
  stack = await startStack({
    blobLocation: dataDir,
    env: { CHAT_COMMAND_BURST: String(BURST), CHAT_COMMANDS_PER_SECOND: '1' },
  });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await stack?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

async function connect(user: string, dialect: 'signalr' | 'webpubsub') {
  const client = await connectChat(stack.functionsUrl, user, dialect);
  clients.push(client);
  return client;
}

const errorFor = (clientMessageId: string) => (e: { type: string; payload: Record<string, unknown> }) =>
  e.type === 'error' && e.payload.clientMessageId === clientMessageId;

describe('delivery, refusals and limits', () => {
  it.each(['signalr', 'webpubsub'] as const)(
    'refuses dot-segment names in join and send with a clear error (%s)',
    async (dialect) => {
      const eve = await connect(`eve ${dialect}`, dialect);
      for (const name of ['.', '..']) {
        const from = eve.events.length;
        await eve.send('joinGroup', { group: name });
        const joined = await eve.waitFor((e) => e.type === 'error', from);
        expect(joined.payload).toMatchObject({ code: 'invalid-group', command: 'joinGroup' });
        expect(joined.payload.message).toMatch(/path step/);
        await eve.send('sendMessage', { text: 'hi', to: name, clientMessageId: `to ${name}` });
        const sent = await eve.waitFor(errorFor(`to ${name}`), from);
        expect(sent.payload).toMatchObject({ code: 'invalid-user', command: 'sendMessage' });
        expect(sent.payload.message).toMatch(/path step/);
        await eve.send('sendMessage', { text: 'hi', group: name, clientMessageId: `group ${name}` });
        const grouped = await eve.waitFor(errorFor(`group ${name}`), from);
        expect(grouped.payload).toMatchObject({ code: 'invalid-group' });
        // An invalid name names no conversation.
        for (const refused of [joined, sent, grouped])
          expect(refused.payload).not.toHaveProperty('conversation');
      }
    },
  );

  it.each([
    ['signalr', 'webpubsub'],
    ['webpubsub', 'signalr'],
  ] as const)(
    'acknowledges a room message by the sender’s own copy of it, with no second message (%s sender)',
    async (senderDialect, otherDialect) => {
      const ann = await connect(`ann ${senderDialect}`, senderDialect);
      const bob = await connect(`bob ${senderDialect}`, otherDialect);
      const annFrom = ann.events.length;
      const bobFrom = bob.events.length;
      const id = `own-copy-${senderDialect}`;
      await ann.send('sendMessage', { text: `acknowledged ${senderDialect}`, clientMessageId: id });
      const own = await ann.waitFor(isMessage(`acknowledged ${senderDialect}`), annFrom);
      const delivered = await bob.waitFor(isMessage(`acknowledged ${senderDialect}`), bobFrom);
      // The copy names the send it came from: that is what the page's outbox matches.
      expect(own.payload).toEqual(delivered.payload);
      const me = ann.events.find((e) => e.type === 'welcome')?.payload.user;
      expect(own.payload).toMatchObject({ clientMessageId: id, from: me });
      // A later command's answer arrives after anything the send produced: no `ack` came in between.
      await ann.send('loadHistory', { conversation: 'room', limit: 1 });
      await ann.waitFor((e) => e.type === 'history', annFrom);
      expect(ann.events.slice(annFrom).filter((e) => e.type === 'ack')).toEqual([]);
      expect(bob.events.slice(bobFrom).some((e) => e.type === 'ack')).toBe(false);
    },
  );

  it('acknowledges a group message with an `ack` to its sender only, besides the delivery', async () => {
    const ann = await connect('ann group', 'signalr');
    const bob = await connect('bob group', 'webpubsub');
    for (const client of [ann, bob]) {
      const from = client.events.length;
      await client.send('joinGroup', { group: 'acks' });
      await client.waitFor((e) => e.type === 'system' && e.payload.kind === 'groupJoined', from);
    }
    const annFrom = ann.events.length;
    await ann.send('sendMessage', { text: 'to the group', group: 'acks', clientMessageId: 'group-ack-1' });
    const ack = await ann.waitFor((e) => e.type === 'ack', annFrom);
    const delivered = await bob.waitFor(isMessage('to the group'));
    expect(ack.payload).toEqual({ clientMessageId: 'group-ack-1', message: delivered.payload });
    expect(bob.events.some((e) => e.type === 'ack')).toBe(false);
  });

  it('tells the sender when storage is down, shows the message to nobody, and stores it on the resend', async () => {
    const ann = await connect('ann 2', 'webpubsub');
    const bob = await connect('bob 2', 'signalr');
    const annFrom = ann.events.length;
    await stack.blob.stop();
    try {
      await ann.send('sendMessage', { text: 'while storage is down', clientMessageId: 'down-1' });
      const refused = await ann.waitFor(errorFor('down-1'), annFrom);
      // Thrown while storing, and still named with the conversation it was for.
      expect(refused.payload).toMatchObject({
        code: 'storage-unavailable',
        command: 'sendMessage',
        conversation: 'room',
      });
      expect(refused.payload.message).toMatch(/not.*stored|could not be stored/);
    } finally {
      await stack.restartBlob();
    }
    // Broadcast only after it is stored: nobody saw it.
    expect(bob.events.some(isMessage('while storage is down'))).toBe(false);
    expect(ann.events.some(isMessage('while storage is down'))).toBe(false);
    await ann.send('sendMessage', { text: 'while storage is down', clientMessageId: 'down-1' });
    const own = await ann.waitFor(isMessage('while storage is down'), annFrom);
    await bob.waitFor(isMessage('while storage is down'));
    expect(own.payload.clientMessageId).toBe('down-1');
  });

  it('limits commands per user with a rate-limited error, while another user is served', async () => {
    const flood = await connect('flood', 'webpubsub');
    const calm = await connect('calm', 'signalr');
    const from = flood.events.length;
    for (let i = 0; i < BURST + 3; i++) {
      await flood.send('sendMessage', { text: `flood ${i}`, clientMessageId: `flood-${i}` });
    }
    const limited = await flood.waitFor((e) => e.type === 'error' && e.payload.code === 'rate-limited', from);
    expect(limited.payload).toMatchObject({ command: 'sendMessage', clientMessageId: expect.any(String) });
    expect(limited.payload.retryAfterMs).toBeGreaterThan(0);
    expect(limited.payload.message).toMatch(/per user, across all of their connections; try again in \d+ s/);
    // The calm user's command goes through: the limit is the flooder's own.
    await calm.send('sendMessage', { text: 'calm message', clientMessageId: 'calm-1' });
    await calm.waitFor((e) => isMessage('calm message')(e) && e.payload.clientMessageId === 'calm-1');
  });
});
