import { describe, expect, it } from 'vitest';
import { isMessage, type ReceivedEvent, welcomeOf } from '../support/chat-clients.js';
import { useChatStack } from '../support/fixtures.js';

const { connect } = useChatStack();

describe('the room', () => {
  it('two users of different dialects chat in the room', async () => {
    const ann = await connect('ann', 'signalr');
    expect(welcomeOf(ann)).toMatchObject({ user: 'ann', online: ['ann'], groups: [] });
    // The welcome comes before the joiner's own delta, which goes out with its presence window.
    await ann.waitFor((e) => e.type === 'presence' && (e.payload.joined as string[]).includes('ann'));
    const bob = await connect('bob', 'webpubsub');
    expect(welcomeOf(bob)).toMatchObject({ user: 'bob', online: ['ann', 'bob'] });
    expect(welcomeOf(bob)).toMatchObject({ onlineCount: 2 });
    const delta = await ann.waitFor(
      (e) => e.type === 'presence' && (e.payload.joined as string[]).includes('bob'),
    );
    expect(delta.payload).toMatchObject({ joined: ['bob'], left: [], count: 2 });

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
    const cat = await connect('cat', 'webpubsub');
    expect(welcomeOf(cat).history.messages.map((m) => m.text)).toEqual(['hello bob <b>', 'hi ann']);
  });

  it('announces a user leaving with their last connection, not with the ones before', async () => {
    const eve = await connect('eve', 'signalr');
    const fay = await connect('fay', 'webpubsub');
    const from = fay.events.length;
    const eveLeft = (e: ReceivedEvent) =>
      e.type === 'presence' && (e.payload.left as string[]).includes('eve');
    // eve's second connection enters (its welcome means its entry was handled) and leaves again.
    const eve2 = await connect('eve', 'webpubsub');
    await eve2.close();
    await eve.send('sendMessage', { text: 'still here' });
    await fay.waitFor(isMessage('still here'), from);
    expect(fay.events.slice(from).filter(eveLeft)).toEqual([]);

    await eve.close();
    const goodbye = await fay.waitFor(eveLeft, from);
    expect(goodbye.payload).toMatchObject({ joined: [], left: ['eve'] });
    await fay.send('sendMessage', { text: 'alone' });
    await fay.waitFor(isMessage('alone'), from);
    expect(fay.events.slice(from).filter(eveLeft)).toHaveLength(1);
  });
});
