import { describe, expect, it } from 'vitest';
import { isMessage, type ReceivedEvent, welcomeOf } from '../support/chat-clients.js';
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

  it('announces a user joining with their first connection and leaving with their last, not for the ones between', async () => {
    const eve = await connect('eve', 'signalr');
    const fay = await connect('fay', 'websocket');
    const from = fay.events.length;
    const aboutEve = (kind: string) => (e: ReceivedEvent) =>
      e.type === 'system' && e.payload.kind === kind && e.payload.user === 'eve';
    // eve's second connection enters (its welcome means its entry was handled) and leaves again.
    const eve2 = await connect('eve', 'websocket');
    await eve2.close();
    await eve.send('sendMessage', { text: 'still here' });
    await fay.waitFor(isMessage('still here'), from);
    expect(fay.events.slice(from).filter(aboutEve('joined'))).toEqual([]);

    await eve.close();
    const goodbye = await fay.waitFor(aboutEve('left'), from);
    const presence = await fay.waitFor(
      (e) => e.type === 'presence' && fay.events.indexOf(e) > fay.events.indexOf(goodbye),
      from,
    );
    expect(presence.payload.online).toContain('fay');
    expect(presence.payload.online).not.toContain('eve');
    // One `left` in all: the second connection's exit, handled before eve's, announced nothing.
    expect(fay.events.slice(from).filter(aboutEve('left'))).toHaveLength(1);
  });
});
