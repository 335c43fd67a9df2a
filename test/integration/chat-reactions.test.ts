/**
 * Reactions and replies through the whole local stack, over SignalR and Web PubSub: live to the other person,
 * folded on reload, refused outside a private group and for a target of another conversation, stored once when
 * retried with the same clientMessageId, not stored at all when they change nothing.
 */
import { describe, expect, it } from 'vitest';
import {
  type ChatMessage,
  type FoldedMessage,
  foldHistory,
  MessageChanges,
} from '../../src/lib/history/index.js';
import type { ChatClient, ChatDialect, ReceivedEvent } from '../support/chat-clients.js';
import { useChatStack } from '../support/fixtures.js';

const chat = useChatStack();
const { connect } = chat;

/** Sends a command and waits for the first event after it that `match`es. */
async function ask(
  client: ChatClient,
  command: string,
  payload: unknown,
  match: (e: ReceivedEvent) => boolean,
): Promise<ReceivedEvent> {
  const from = client.events.length;
  await client.send(command, payload);
  return client.waitFor(match, from);
}

/**
 * The stored message of a command: its `ack`, or (in the room and a private conversation, where the fan-out
 * already reached the sender) the sender's own copy.
 */
async function stored(client: ChatClient, command: string, payload: Record<string, unknown>) {
  const cid = String(payload.clientMessageId);
  const answer = await ask(
    client,
    command,
    payload,
    (e) =>
      ((e.type === 'ack' || e.type === 'error') && e.payload.clientMessageId === cid) ||
      (e.type === 'message' && e.payload.clientMessageId === cid && e.payload.from === client.user),
  );
  expect(answer.type, JSON.stringify(answer.payload)).not.toBe('error');
  return (answer.type === 'ack' ? answer.payload.message : answer.payload) as ChatMessage;
}

/** The code of the error a command gets (fails when it is acknowledged instead). */
async function refusal(client: ChatClient, command: string, payload: Record<string, unknown>) {
  const cid = `refused-${Math.random()}`;
  const answer = await ask(
    client,
    command,
    { ...payload, clientMessageId: cid },
    (e) => (e.type === 'ack' || e.type === 'error') && e.payload.clientMessageId === cid,
  );
  expect(answer.type, JSON.stringify(answer.payload)).toBe('error');
  return answer.payload.code;
}

/** A whole conversation as a reader shows it, read page by page from the newest. */
async function reload(client: ChatClient, conversation: string, limit: number) {
  const changes = new MessageChanges();
  const lines: FoldedMessage[][] = [];
  const raw: ChatMessage[] = [];
  let before: string | undefined;
  for (;;) {
    const page = await ask(
      client,
      'loadHistory',
      { conversation, limit, ...(before !== undefined ? { before } : {}) },
      (e) => e.type === 'history' && e.payload.conversation === conversation,
    );
    const { messages, hasMore } = page.payload as { messages: ChatMessage[]; hasMore: boolean };
    lines.unshift(foldHistory(messages, changes));
    raw.unshift(...messages);
    if (!hasMore || messages.length === 0) return { shown: lines.flat(), raw };
    before = messages[0]?.id;
  }
}

const liveRecord = (kind: string, target: string) => (e: ReceivedEvent) =>
  e.type === 'message' && e.payload.kind === kind && e.payload.target === target;

const OTHER: Record<ChatDialect, ChatDialect> = { signalr: 'webpubsub', webpubsub: 'signalr' };

describe.each(['signalr', 'webpubsub'] as const)('reactions and replies from %s', (dialect) => {
  it('reach the other person live in a group and a private conversation, and survive a reload', async () => {
    const ann = await connect(`ann-${dialect}`, OTHER[dialect]);
    const bob = await connect(`bob-${dialect}`, dialect);
    const group = `react-${dialect}`;
    const conversation = `group:${group}`;
    for (const user of [ann, bob]) {
      await user.send('joinGroup', { group });
      await user.waitFor(
        (e) => e.type === 'system' && e.payload.user === user.user && e.payload.group === group,
      );
    }
    const target = await stored(ann, 'sendMessage', {
      text: 'Lunch at  noon?\nBring the plan',
      group,
      clientMessageId: 'm-1',
    });
    await stored(ann, 'sendMessage', { text: 'filler', group, clientMessageId: 'm-2' });

    // Bob reacts twice (a retry of the same clientMessageId is stored once), with a second emoji too.
    const react = { conversation, messageId: target.id, emoji: '👍', clientMessageId: 'r-1' };
    const first = await stored(bob, 'react', react);
    const again = await stored(bob, 'react', react);
    expect(again.id).toBe(first.id);
    await stored(bob, 'react', { ...react, emoji: '🎉', clientMessageId: 'r-2' });
    const live = await ann.waitFor(liveRecord('react', target.id));
    expect(live.payload).toMatchObject({ from: bob.user, text: '👍', group });

    // Bob replies; the reply carries its quote, live.
    const reply = { text: 'Yes!', group, replyTo: target.id, clientMessageId: 'reply-1' };
    const answer = await stored(bob, 'sendMessage', reply);
    expect((await stored(bob, 'sendMessage', reply)).id).toBe(answer.id);
    const heard = await ann.waitFor((e) => e.type === 'message' && e.payload.id === answer.id);
    expect(heard.payload).toMatchObject({
      replyTo: target.id,
      quote: { from: ann.user, text: 'Lunch at noon? Bring the plan' },
    });
    // Then takes the party back.
    await stored(bob, 'unreact', { ...react, emoji: '🎉', clientMessageId: 'r-3' });
    await ann.waitFor(liveRecord('unreact', target.id));

    // In a private conversation the reaction of the one who received the message reaches its author.
    const dm = [ann.user, bob.user].sort().join(':');
    const mine = await stored(ann, 'sendMessage', { text: 'just us', to: bob.user, clientMessageId: 'd-1' });
    await stored(bob, 'react', {
      conversation: `dm:${dm}`,
      messageId: mine.id,
      emoji: '❤️',
      clientMessageId: 'r-4',
    });
    await ann.waitFor(liveRecord('react', mine.id));

    // A reload, two lines a page, finds the records after their targets and folds them in.
    const reader = await connect(`ann-${dialect}`, dialect);
    const { shown, raw } = await reload(reader, conversation, 2);
    // Each retried record and reply is stored once.
    expect(raw.filter((m) => m.clientMessageId === 'r-1' || m.clientMessageId === 'reply-1')).toHaveLength(2);
    expect(shown.map((m) => [m.text, m.reactions ?? [], m.replyTo ?? null])).toEqual([
      ['Lunch at  noon?\nBring the plan', [{ emoji: '👍', users: [bob.user] }], null],
      ['filler', [], null],
      ['Yes!', [], target.id],
    ]);
    expect(shown[2]?.quote).toEqual({ from: ann.user, text: 'Lunch at noon? Bring the plan' });
    const { shown: private_ } = await reload(reader, `dm:${dm}`, 10);
    expect(private_.map((m) => [m.text, m.reactions])).toEqual([
      ['just us', [{ emoji: '❤️', users: [bob.user] }]],
    ]);
    await Promise.all([ann.close(), bob.close(), reader.close()]);
  });

  it('stores a reaction only when it changes one: an unreact of nothing and a repeated react are acknowledged unchanged', async () => {
    const ann = await connect(`ann-noop-${dialect}`, OTHER[dialect]);
    const bob = await connect(`bob-noop-${dialect}`, dialect);
    const group = `noop-${dialect}`;
    const conversation = `group:${group}`;
    for (const user of [ann, bob]) {
      await user.send('joinGroup', { group });
      await user.waitFor(
        (e) => e.type === 'system' && e.payload.user === user.user && e.payload.group === group,
      );
    }
    const target = await stored(ann, 'sendMessage', { text: 'react to me', group, clientMessageId: 'n-1' });
    /** The answer to a reaction by its clientMessageId: the ack, and the record it carries if any. */
    const answer = async (command: string, emoji: string, cid: string) => {
      const payload = { conversation, messageId: target.id, emoji, clientMessageId: cid };
      const event = await ask(
        bob,
        command,
        payload,
        (e) => (e.type === 'ack' || e.type === 'error') && e.payload.clientMessageId === cid,
      );
      expect(event.type, JSON.stringify(event.payload)).toBe('ack');
      return event.payload;
    };
    const unchanged = { clientMessageId: 'u-0', unchanged: true };
    expect(await answer('unreact', '👍', 'u-0')).toEqual(unchanged);
    expect((await answer('react', '👍', 'r-1')).message).toMatchObject({ kind: 'react', text: '👍' });
    expect(await answer('react', '👍', 'r-2')).toEqual({ ...unchanged, clientMessageId: 'r-2' });
    // Another emoji is another reaction.
    expect(await answer('unreact', '🎉', 'u-1')).toEqual({ ...unchanged, clientMessageId: 'u-1' });
    expect((await answer('unreact', '👍', 'u-2')).message).toMatchObject({ kind: 'unreact', text: '👍' });
    expect(await answer('unreact', '👍', 'u-3')).toEqual({ ...unchanged, clientMessageId: 'u-3' });
    await ann.waitFor(liveRecord('unreact', target.id));

    // Two records stored, and ann heard those two only: nothing else pushes a message off a history page.
    const { raw, shown } = await reload(ann, conversation, 10);
    expect(raw.filter((m) => m.target === target.id).map((m) => [m.kind, m.clientMessageId])).toEqual([
      ['react', 'r-1'],
      ['unreact', 'u-2'],
    ]);
    expect(ann.events.filter((e) => e.type === 'message' && e.payload.target === target.id)).toHaveLength(2);
    expect(shown.map((m) => [m.text, m.reactions ?? []])).toEqual([['react to me', []]]);
    await Promise.all([ann.close(), bob.close()]);
  });

  it('refuses a non-member of a private group, a target of another conversation and an emoji not offered', async () => {
    const cy = await connect(`cy-${dialect}`, OTHER[dialect]);
    const eve = await connect(`eve-${dialect}`, dialect);
    const group = `secret-${dialect}`;
    await ask(
      cy,
      'createGroup',
      { group, members: [] },
      (e) => e.type === 'group' && e.payload.group === group,
    );
    const secret = await stored(cy, 'sendMessage', { text: 'only us', group, clientMessageId: 's-1' });
    const conversation = `group:${group}`;

    expect(await refusal(eve, 'react', { conversation, messageId: secret.id, emoji: '👍' })).toBe(
      'not-a-member',
    );
    expect(await refusal(eve, 'sendMessage', { text: 'me too', group, replyTo: secret.id })).toBe(
      'not-a-member',
    );

    // A reply must answer a message of its own conversation: one of the group, quoted in the room, is not found.
    expect(await refusal(cy, 'sendMessage', { text: 'leak', replyTo: secret.id })).toBe('message-not-found');
    expect(await refusal(eve, 'sendMessage', { text: '?', replyTo: '01ARZ3NDEKTSV4RRFFQ69G5FAV' })).toBe(
      'message-not-found',
    );
    expect(await refusal(eve, 'react', { conversation: 'room', messageId: secret.id, emoji: '👍' })).toBe(
      'message-not-found',
    );
    expect(await refusal(cy, 'react', { conversation, messageId: secret.id, emoji: '🦄' })).toBe(
      'invalid-emoji',
    );

    // Nothing of it was stored: the group holds its one message, the room no reply.
    const { shown } = await reload(cy, conversation, 10);
    expect(shown.map((m) => [m.text, m.reactions ?? []])).toEqual([['only us', []]]);
    await Promise.all([cy.close(), eve.close()]);
  });
});
