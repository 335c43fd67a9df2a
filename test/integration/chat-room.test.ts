import { describe, expect, it } from 'vitest';
import { welcomeOf } from '../support/chat-clients.js';
import { useChatStack } from '../support/fixtures.js';

const { connect } = useChatStack();

describe('the room', () => {
  it('two users of different dialects chat in the room', async () => {
    const ann = await connect('ann', 'signalr');
    expect(welcomeOf(ann)).toMatchObject({ user: 'ann', online: ['ann'], groups: [] });
    const bob = await connect('bob', 'websocket');
    expect(welcomeOf(bob)).toMatchObject({ user: 'bob', online: ['ann', 'bob'] });
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
    expect(welcomeOf(cat).history.messages.map((m) => m.text)).toEqual(['hello bob <b>', 'hi ann']);
  });
});
