import { beforeAll, describe, expect, it } from 'vitest';
import { computeSignature } from '../../src/lib/signalr/signature.js';
import { DEV_ACCESS_KEY } from '../../src/local/dev-constants.js';
import { type ChatClient, isMessage, messageTexts as texts } from '../support/chat-clients.js';
import { useChatStack } from '../support/fixtures.js';

const chat = useChatStack();
const { connect } = chat;
let ann: ChatClient; // signalr
let bob: ChatClient; // websocket
let cat: ChatClient; // signalr
let dan: ChatClient; // websocket

beforeAll(async () => {
  ann = await connect('ann', 'signalr');
  bob = await connect('bob', 'webpubsub');
  cat = await connect('cat', 'signalr');
  dan = await connect('dan', 'webpubsub');
});

/**
 * A barrier: `sender` posts a room message after everything it did before; once `client` has it, anything
 * sent to `client` earlier has arrived too (one connection's commands run in order, each fan-out completes
 * before the next command, and the service delivers to a connection in order).
 */
async function barrier(sender: ChatClient, ...receivers: ChatClient[]) {
  const marker = `barrier ${Math.random()}`;
  await sender.send('sendMessage', { text: marker });
  await Promise.all(receivers.map((r) => r.waitFor(isMessage(marker))));
}

/** The latest page of a conversation, as `client` reads it. */
async function history(client: ChatClient, conversation: string) {
  const from = client.events.length;
  await client.send('loadHistory', { conversation, limit: 100 });
  const page = await client.waitFor(
    (e) => e.type === 'history' && e.payload.conversation === conversation,
    from,
  );
  return (page.payload as { messages: { id: string; text: string }[] }).messages;
}

describe('conversations through the whole local stack', () => {
  it('a group conversation reaches its members only', async () => {
    await ann.send('joinGroup', { group: 'team' });
    await ann.waitFor(
      (e) => e.type === 'system' && e.payload.kind === 'groupJoined' && e.payload.user === 'ann',
    );
    await bob.send('joinGroup', { group: 'team' });
    await bob.waitFor(
      (e) => e.type === 'system' && e.payload.kind === 'groupJoined' && e.payload.user === 'bob',
    );
    await ann.waitFor(
      (e) => e.type === 'system' && e.payload.kind === 'groupJoined' && e.payload.user === 'bob',
    );

    await bob.send('sendMessage', { text: 'team only', group: 'team' });
    const atAnn = await ann.waitFor(isMessage('team only'));
    expect(atAnn.payload).toMatchObject({ conversation: 'group:team', group: 'team', from: 'bob' });
    await bob.waitFor(isMessage('team only'));
    await barrier(bob, cat, dan);
    expect(texts(cat)).not.toContain('team only');
    expect(texts(dan)).not.toContain('team only');

    // A non-member can neither send to the group nor read it.
    const from = cat.events.length;
    await cat.send('sendMessage', { text: 'let me in', group: 'team' });
    const refused = await cat.waitFor((e) => e.type === 'error', from);
    expect(refused.payload).toMatchObject({ code: 'not-a-member', command: 'sendMessage' });
    await cat.send('loadHistory', { conversation: 'group:team' });
    await cat.waitFor((e) => e.type === 'error' && e.payload.command === 'loadHistory', from);

    // After leaving, ann no longer receives the group.
    await ann.send('leaveGroup', { group: 'team' });
    await ann.waitFor(
      (e) => e.type === 'system' && e.payload.kind === 'groupLeft' && e.payload.user === 'ann',
    );
    await bob.send('sendMessage', { text: 'after ann left', group: 'team' });
    await bob.waitFor(isMessage('after ann left'));
    await barrier(bob, ann);
    expect(texts(ann)).not.toContain('after ann left');
  });

  it('a private message reaches both parties, all their connections, and nobody else', async () => {
    const ann2 = await connect('ann', 'webpubsub'); // ann's second connection, other dialect
    await cat.send('sendMessage', { text: 'psst ann', to: 'ann' });
    const atAnn = await ann.waitFor(isMessage('psst ann'));
    expect(atAnn.payload).toMatchObject({ conversation: 'dm:ann:cat', from: 'cat', to: 'ann' });
    await ann2.waitFor(isMessage('psst ann'));
    await cat.waitFor(isMessage('psst ann'));
    await barrier(cat, bob, dan);
    expect(texts(bob)).not.toContain('psst ann');
    expect(texts(dan)).not.toContain('psst ann');

    // Only the two parties may read the conversation.
    const from = dan.events.length;
    await dan.send('loadHistory', { conversation: 'dm:ann:cat' });
    const refused = await dan.waitFor((e) => e.type === 'error', from);
    expect(refused.payload.code).toBe('forbidden-conversation');
    await ann2.close();
  });

  it('a refusal names the conversation its command concerned, never one from an invalid name', async () => {
    // ann's private group, which cat may not join.
    const from = ann.events.length;
    await ann.send('createGroup', { group: 'inner', members: [] });
    await ann.waitFor((e) => e.type === 'group' && e.payload.group === 'inner', from);
    const missing = '01ARZ3NDEKTSV4RRFFQ69G5FAV'; // a message id no conversation has
    const refusalOf = async (client: ChatClient, command: string, payload: Record<string, unknown>) => {
      const start = client.events.length;
      await client.send(command, payload);
      const answer = await client.waitFor((e) => e.type === 'error' && e.payload.command === command, start);
      return answer.payload;
    };
    // Refused by the handlers, by the group records, and while parsing (the text is too long).
    expect(await refusalOf(cat, 'joinGroup', { group: 'inner' })).toMatchObject({
      code: 'private-group',
      conversation: 'group:inner',
    });
    expect(await refusalOf(cat, 'listMembers', { group: 'inner' })).toMatchObject({
      code: 'not-a-member',
      conversation: 'group:inner',
    });
    expect(
      await refusalOf(cat, 'sendMessage', { text: 'let me in', group: 'inner', clientMessageId: 'c-1' }),
    ).toMatchObject({ code: 'not-a-member', clientMessageId: 'c-1', conversation: 'group:inner' });
    expect(await refusalOf(cat, 'sendMessage', { text: 'hi', to: 'ann', replyTo: missing })).toMatchObject({
      command: 'sendMessage',
      conversation: 'dm:ann:cat',
    });
    expect(await refusalOf(cat, 'sendMessage', { text: 'x'.repeat(4001), to: 'ann' })).toMatchObject({
      code: 'text-too-long',
      conversation: 'dm:ann:cat',
    });
    expect(await refusalOf(dan, 'sendMessage', { text: 'hi', replyTo: missing })).toMatchObject({
      command: 'sendMessage',
      conversation: 'room',
    });
    expect(await refusalOf(dan, 'loadHistory', { conversation: 'dm:ann:cat' })).toMatchObject({
      code: 'forbidden-conversation',
      conversation: 'dm:ann:cat',
    });
    // An invalid name names no conversation, nor do a send with both `group` and `to` or a command about none.
    const unnamed = [
      await refusalOf(cat, 'joinGroup', { group: '..' }),
      await refusalOf(cat, 'sendMessage', { text: 'hi', group: ' inner' }),
      await refusalOf(cat, 'sendMessage', { text: 'hi', to: '..' }),
      await refusalOf(cat, 'sendMessage', { text: 'hi', group: 'inner', to: 'ann' }),
      await refusalOf(cat, 'loadHistory', { conversation: 'group:..' }),
      await refusalOf(cat, 'listOnline', { limit: -1 }),
    ];
    expect(unnamed.map((e) => e.code)).toEqual([
      'invalid-group',
      'invalid-group',
      'invalid-user',
      'group-and-to',
      'invalid-conversation',
      'invalid-limit',
    ]);
    for (const payload of unnamed) expect(payload).not.toHaveProperty('conversation');
  });

  it('names and groups in any script work in both dialects (ids beyond ASCII are percent-encoded for the service)', async () => {
    const zhang = await connect('张伟', 'webpubsub');
    const zoe = await connect('Zoë', 'signalr');
    await zhang.send('joinGroup', { group: '团队' });
    await zhang.waitFor((e) => e.type === 'system' && e.payload.kind === 'groupJoined');
    await zoe.send('joinGroup', { group: '团队' });
    await zoe.waitFor(
      (e) => e.type === 'system' && e.payload.kind === 'groupJoined' && e.payload.user === 'Zoë',
    );
    await zoe.send('sendMessage', { text: '你好', group: '团队' });
    expect((await zhang.waitFor(isMessage('你好'))).payload).toMatchObject({
      from: 'Zoë',
      conversation: 'group:团队',
    });
    await zhang.send('sendMessage', { text: 'privé', to: 'Zoë' });
    expect((await zoe.waitFor(isMessage('privé'))).payload).toMatchObject({
      from: '张伟',
      conversation: 'dm:Zoë:张伟',
    });
    const from = dan.events.length;
    await barrier(zhang, dan);
    expect(dan.events.slice(from).some((e) => e.payload.text === 'privé' || e.payload.text === '你好')).toBe(
      false,
    );
    await zhang.close();
    await zoe.close();
  });

  it('loadHistory pages backwards', async () => {
    for (let i = 1; i <= 7; i++) await dan.send('sendMessage', { text: `page ${i}`, to: 'bob' });
    await dan.waitFor(isMessage('page 7'));
    const load = async (payload: Record<string, unknown>) => {
      const from = dan.events.length;
      await dan.send('loadHistory', { conversation: 'dm:bob:dan', ...payload });
      return (await dan.waitFor((e) => e.type === 'history', from)).payload as {
        messages: { id: string; text: string }[];
        hasMore: boolean;
      };
    };
    const newest = await load({ limit: 3 });
    expect(newest.messages.map((m) => m.text)).toEqual(['page 5', 'page 6', 'page 7']);
    expect(newest.hasMore).toBe(true);
    const older = await load({ limit: 3, before: newest.messages[0]!.id });
    expect(older.messages.map((m) => m.text)).toEqual(['page 2', 'page 3', 'page 4']);
    expect(older.hasMore).toBe(true);
    const oldest = await load({ limit: 3, before: older.messages[0]!.id });
    expect(oldest.messages.map((m) => m.text)).toEqual(['page 1']);
    expect(oldest.hasMore).toBe(false);
  });

  it('a repeated clientMessageId is stored once, acknowledged each time and delivered again under the same id', async () => {
    const from = bob.events.length;
    await bob.send('sendMessage', { text: 'once', clientMessageId: 'same-id' });
    await bob.send('sendMessage', { text: 'once', clientMessageId: 'same-id' });
    await barrier(bob, ann);
    // Each send is acknowledged by the sender's own copy of the one stored message.
    const own = bob.events
      .slice(from)
      .filter((e) => e.type === 'message' && e.payload.text === 'once')
      .map((e) => e.payload as { clientMessageId: string; id: string; text: string });
    expect(own).toHaveLength(2);
    expect(own.map((m) => m.clientMessageId)).toEqual(['same-id', 'same-id']);
    expect(own[1]).toEqual(own[0]);
    expect(bob.events.slice(from).some((e) => e.type === 'ack')).toBe(false);
    // A retry may follow a crash between the store and the fan-out, so it is delivered again: same id, so a
    // receiver that merges by id shows it once.
    const copies = ann.events.filter((e) => e.type === 'message' && e.payload.text === 'once');
    expect(copies.map((e) => e.payload.id)).toEqual([own[0]!.id, own[0]!.id]);
    const page = await history(ann, 'room');
    expect(page.filter((m) => m.text === 'once')).toHaveLength(1);
  });

  it('a signalr invocation that waits gets the reply as its Completion instead of an event', async () => {
    const events = ann.events.length;
    const page = (await ann.invoke('loadHistory', { conversation: 'room', limit: 1 })) as {
      conversation: string;
      messages: unknown[];
    };
    expect(page.conversation).toBe('room');
    expect(page.messages).toHaveLength(1);
    await expect(ann.invoke('loadHistory', { conversation: 'lobby' })).rejects.toThrow(/conversation/);
    // An invoked room message completes with its acknowledgement, after its copy reached the sender.
    const ack = (await ann.invoke('sendMessage', { text: 'invoked', clientMessageId: 'invoked-1' })) as {
      clientMessageId: string;
      message: { id: string; text: string };
    };
    expect(ack.clientMessageId).toBe('invoked-1');
    const own = ann.events.slice(events).find(isMessage('invoked'));
    expect(own?.payload).toEqual(ack.message);
    await barrier(bob, ann);
    expect(ann.events.slice(events).filter((e) => e.type === 'history' || e.type === 'error')).toEqual([]);
  });

  it('a malformed command gets an error to its sender only', async () => {
    const others = [ann, cat, dan];
    const before = others.map((c) => c.events.filter((e) => e.type === 'error').length);
    const from = bob.events.length;
    await bob.sendRaw('this is not json');
    const error = await bob.waitFor((e) => e.type === 'error', from);
    expect(error.payload.code).toBe('malformed');
    await bob.send('explode', {});
    expect(
      (await bob.waitFor((e) => e.type === 'error' && e.payload.code === 'unknown-command', from)).payload,
    ).toBeDefined();
    const fromAnn = ann.events.length;
    await ann.send('sendMessage', { text: '' });
    expect((await ann.waitFor((e) => e.type === 'error', fromAnn)).payload).toMatchObject({
      code: 'text-missing',
      command: 'sendMessage',
    });
    await barrier(bob, ...others);
    const after = others.map((c) => c.events.filter((e) => e.type === 'error').length);
    expect(after).toEqual([before[0]! + 1, before[1], before[2]]);
  });

  it('a text that is blank once invisible characters are left out, or broken, is refused in both dialects and stored nowhere', async () => {
    for (const [sender, reader] of [
      [ann, bob],
      [bob, ann],
    ] as const) {
      const tag = Math.random().toString(36).slice(2, 7);
      for (const [text, code] of [
        ['\u200b\u200b', 'text-missing'],
        [`a\ud800b ${tag}`, 'invalid-text'],
        [`a\u0000b ${tag}`, 'invalid-text'],
      ] as const) {
        const from = sender.events.length;
        await sender.send('sendMessage', { text, clientMessageId: `bad-${tag}` });
        const refused = await sender.waitFor(
          (e) => e.type === 'error' && e.payload.command === 'sendMessage',
          from,
        );
        expect(refused.payload, JSON.stringify(text)).toMatchObject({ code, clientMessageId: `bad-${tag}` });
      }
      // Line ends arrive as newlines; an edit follows the same rules.
      await sender.send('sendMessage', { text: `two\r\nlines ${tag}` });
      const sent = await reader.waitFor(isMessage(`two\nlines ${tag}`));
      const edit = { conversation: 'room', messageId: sent.payload.id };
      const from = sender.events.length;
      await sender.send('editMessage', { ...edit, text: '\u2060\ufeff' });
      const refused = await sender.waitFor(
        (e) => e.type === 'error' && e.payload.command === 'editMessage',
        from,
      );
      expect(refused.payload.code).toBe('text-missing');
      await barrier(sender, reader);
      const stored = JSON.stringify(await history(reader, 'room'));
      expect(stored).not.toContain(`b ${tag}`);
      expect(stored).not.toContain('\u2060');
    }
  });

  it('an upstream call with a forged signature gets 401 and stores nothing', async () => {
    const forged = computeSignature('ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvuts', 'forged-conn');
    expect(computeSignature(DEV_ACCESS_KEY, 'forged-conn')).not.toBe(forged);
    const headers = {
      'x-asrs-hub': 'chat',
      'x-asrs-category': 'messages',
      'x-asrs-connection-id': 'forged-conn',
      'x-asrs-user-id': 'ann',
      'x-asrs-signature': `sha256=${forged}`,
    };
    const ws = await fetch(`${chat.stack.functionsUrl}/api/messages?event=message`, {
      method: 'POST',
      headers: { ...headers, 'x-asrs-event': 'message', 'content-type': 'text/plain' },
      body: JSON.stringify({ type: 'sendMessage', text: 'forged websocket' }),
    });
    expect(ws.status).toBe(401);
    const sr = await fetch(`${chat.stack.functionsUrl}/api/messages?event=sendMessage`, {
      method: 'POST',
      headers: { ...headers, 'x-asrs-event': 'sendMessage', 'content-type': 'application/json' },
      body: JSON.stringify({ type: 1, target: 'sendMessage', arguments: [{ text: 'forged signalr' }] }),
    });
    expect(sr.status).toBe(401);
    const unsigned = await fetch(`${chat.stack.functionsUrl}/api/messages?event=message`, {
      method: 'POST',
      headers: {
        'x-asrs-hub': 'chat',
        'x-asrs-connection-id': 'c',
        'x-asrs-user-id': 'ann',
        'content-type': 'text/plain',
      },
      body: JSON.stringify({ type: 'sendMessage', text: 'forged unsigned' }),
    });
    expect(unsigned.status).toBe(401);

    const from = cat.events.length;
    await cat.send('loadHistory', { conversation: 'room', limit: 100 });
    const page = (await cat.waitFor((e) => e.type === 'history', from)).payload as {
      messages: { text: string }[];
    };
    expect(page.messages.map((m) => m.text).filter((t) => t.startsWith('forged'))).toEqual([]);
    expect(texts(cat).filter((t) => String(t).startsWith('forged'))).toEqual([]);
  });
});
