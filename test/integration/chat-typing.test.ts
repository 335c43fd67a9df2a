/**
 * Typing indicators through the whole local stack: delivered to the conversation's other members in both
 * dialects, refused where the sender may not write, throttled per user and conversation, and never stored.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type ChatClient, isMessage, type ReceivedEvent } from '../support/chat-clients.js';
import { useChatStack } from '../support/fixtures.js';

const chat = useChatStack();
let ann: ChatClient; // signalr
let bob: ChatClient; // Web PubSub
let cat: ChatClient; // signalr

beforeAll(async () => {
  ann = await chat.connect('ann', 'signalr');
  bob = await chat.connect('bob', 'webpubsub');
  cat = await chat.connect('cat', 'signalr');
});

/** Once every receiver has `sender`'s room marker, whatever was sent to them earlier has arrived. */
async function barrier(sender: ChatClient, ...receivers: ChatClient[]) {
  const marker = `barrier ${Math.random()}`;
  await sender.send('sendMessage', { text: marker });
  await Promise.all(receivers.map((r) => r.waitFor(isMessage(marker))));
}

const typingIn = (client: ChatClient, conversation: string, from = 0) =>
  client.events.slice(from).filter((e) => e.type === 'typing' && e.payload.conversation === conversation);
const errorOf = (client: ChatClient, from: number) =>
  client.waitFor((e: ReceivedEvent) => e.type === 'error' && e.payload.command === 'typing', from);

describe('typing', () => {
  it('reaches everyone else in the room, the sender excluded', async () => {
    const marks = [ann, bob, cat].map((c) => c.events.length);
    await ann.send('typing', { conversation: 'room' });
    await barrier(ann, ann, bob, cat);
    expect(typingIn(bob, 'room', marks[1]).map((e) => e.payload)).toEqual([
      { conversation: 'room', user: 'ann' },
    ]);
    expect(typingIn(cat, 'room', marks[2])).toHaveLength(1);
    expect(typingIn(ann, 'room', marks[0])).toHaveLength(0);
  });

  it('reaches only the other person of a private conversation, and is never stored', async () => {
    const marks = [ann, bob, cat].map((c) => c.events.length);
    await bob.send('typing', { conversation: 'dm:ann:bob' });
    await barrier(bob, ann, bob, cat);
    expect(typingIn(ann, 'dm:ann:bob', marks[0]).map((e) => e.payload.user)).toEqual(['bob']);
    expect(typingIn(bob, 'dm:ann:bob', marks[1])).toHaveLength(0);
    expect(typingIn(cat, 'dm:ann:bob', marks[2])).toHaveLength(0);
    const page = (await ann.invoke('loadHistory', { conversation: 'dm:ann:bob' })) as { messages: unknown[] };
    expect(page.messages).toEqual([]);
  });

  it('reaches a group only from a member', async () => {
    await cat.send('joinGroup', { group: 'typists' });
    await ann.send('joinGroup', { group: 'typists' });
    await ann.waitFor((e) => e.type === 'system' && e.payload.user === 'ann');
    const from = bob.events.length;
    await bob.send('typing', { conversation: 'group:typists' });
    expect((await errorOf(bob, from)).payload.code).toBe('not-a-member');
    const mark = ann.events.length;
    await cat.send('typing', { conversation: 'group:typists' });
    await ann.waitFor((e) => e.type === 'typing' && e.payload.user === 'cat', mark);
    // Bob's refused typing never reached the group.
    expect(typingIn(ann, 'group:typists', mark).map((e) => e.payload.user)).toEqual(['cat']);
  });

  it('refuses a private conversation the sender is not part of, and an invalid id', async () => {
    let from = cat.events.length;
    await cat.send('typing', { conversation: 'dm:ann:bob' });
    expect((await errorOf(cat, from)).payload.code).toBe('forbidden-conversation');
    from = cat.events.length;
    await cat.send('typing', { conversation: 'nowhere' });
    expect((await errorOf(cat, from)).payload.code).toBe('invalid-conversation');
    await barrier(cat, ann, bob);
    expect(typingIn(ann, 'dm:ann:bob').every((e) => e.payload.user === 'bob')).toBe(true);
  });

  it('drops a second typing from the same user and conversation within the interval', async () => {
    const mark = bob.events.length;
    const catMark = cat.events.length;
    await cat.send('typing', { conversation: 'dm:bob:cat' });
    await cat.send('typing', { conversation: 'dm:bob:cat' });
    await cat.send('typing', { conversation: 'dm:bob:cat' });
    await barrier(cat, bob);
    expect(typingIn(bob, 'dm:bob:cat', mark)).toHaveLength(1);
    // Dropped, not refused: the sender hears nothing either way.
    expect(cat.events.slice(catMark).filter((e) => e.type === 'error')).toEqual([]);
  });
});
