import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChatClient, connectChat } from '../support/chat-clients.js';
import { type RunningStack, startStack } from '../support/stack.js';

let stack: RunningStack;
const clients: ChatClient[] = [];
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await stack?.stop();
});

async function connect(user: string, dialect: 'signalr' | 'websocket') {
  const client = await connectChat(stack.functionsUrl, user, dialect);
  clients.push(client);
  return client;
}

describe('the room', () => {
  it('two users of different dialects chat in the room', async () => {
    const ann = await connect('ann', 'signalr');
    const annWelcome = ann.events.find((e) => e.type === 'welcome')!;
    expect(annWelcome.payload).toMatchObject({ user: 'ann', online: ['ann'], groups: [] });
    const bob = await connect('bob', 'websocket');
    const bobWelcome = bob.events.find((e) => e.type === 'welcome')!;
    expect(bobWelcome.payload).toMatchObject({ user: 'bob', online: ['ann', 'bob'] });
    await ann.waitFor((e) => e.type === 'system' && e.payload.kind === 'joined' && e.payload.user === 'bob');
    await ann.waitFor((e) => e.type === 'presence' && JSON.stringify(e.payload.online) === '["ann","bob"]');

    await ann.send('sendMessage', { text: 'hello bob <b>', clientMessageId: 'a1' });
    const atBob = await bob.waitFor((e) => e.type === 'message');
    expect(atBob.payload).toMatchObject({
      conversation: 'room',
      from: 'ann',
      text: 'hello bob <b>',
      clientMessageId: 'a1',
    });
    const atAnn = await ann.waitFor((e) => e.type === 'message');
    expect(atAnn.payload.id).toBe(atBob.payload.id);

    await bob.send('sendMessage', { text: 'hi ann' });
    await ann.waitFor((e) => e.type === 'message' && e.payload.from === 'bob');

    // History has both, oldest first, for a newcomer.
    const cat = await connect('cat', 'websocket');
    const history = (cat.events[0]!.payload.history as { messages: { text: string }[] }).messages;
    expect(history.map((m) => m.text)).toEqual(['hello bob <b>', 'hi ann']);
  });
});
