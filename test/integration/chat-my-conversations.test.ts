import { BlobServiceClient } from '@azure/storage-blob';
import { describe, expect, it } from 'vitest';
import { type ChatMessage, foldHistory, MessageChanges } from '../../src/lib/history/index.js';
import { LIST_BLOB, userFolderPrefix } from '../../src/lib/user-folder.js';
import { type ChatClient, isGroupRecord, isMessage, welcomeOf } from '../support/chat-clients.js';
import { useChatStack } from '../support/fixtures.js';

const chat = useChatStack();
const { connect } = chat;

interface Entry {
  conversation: string;
  kind: string;
  with?: string;
  group?: string;
  title?: string;
  groupKind?: string;
}

/** The conversations of a client's welcome. */
function listed(client: ChatClient): Entry[] {
  return (welcomeOf(client) as unknown as { conversations: { entries: Entry[] } }).conversations.entries;
}

/** Sends a command and waits for the first event after it that `match`es. */
async function ask(
  client: ChatClient,
  command: string,
  payload: unknown,
  match: (e: { type: string }) => boolean,
) {
  const from = client.events.length;
  await client.send(command, payload);
  return client.waitFor(match, from);
}

/** One page of a conversation's history as `client` reads it. */
async function page(client: ChatClient, conversation: string, options: { limit: number; before?: string }) {
  const event = await ask(
    client,
    'loadHistory',
    { conversation, ...options },
    (e) => e.type === 'history' || e.type === 'error',
  );
  expect(event.type).toBe('history');
  return event.payload as { messages: ChatMessage[]; hasMore: boolean };
}

const ackOf = (text: string) => (e: { type: string; payload?: unknown }) =>
  e.type === 'ack' && (e.payload as { message: ChatMessage }).message.text === text;

describe('my conversations, over SignalR and Web PubSub', () => {
  it('stores a private message to someone who never came, who finds it in their list and history on arrival', async () => {
    const ann = await connect('ann', 'signalr');
    await ann.send('sendMessage', { text: 'welcome aboard', to: 'olga' });
    await ann.waitFor(isMessage('welcome aboard'));
    // Ann's own list gains the conversation live.
    const update = await ann.waitFor((e) => e.type === 'conversations');
    expect(update.payload).toMatchObject({
      entries: [{ conversation: 'dm:ann:olga', kind: 'dm', with: 'olga' }],
    });

    const olga = await connect('olga', 'webpubsub');
    expect(listed(olga)).toEqual([
      expect.objectContaining({ conversation: 'dm:ann:olga', kind: 'dm', with: 'ann' }),
    ]);
    const { messages } = await page(olga, 'dm:ann:olga', { limit: 10 });
    expect(messages.map((m) => [m.from, m.text])).toEqual([['ann', 'welcome aboard']]);

    // And she is in the people directory, found by the start of her name.
    const found = await ask(ann, 'findPeople', { query: 'OL' }, (e) => e.type === 'people');
    expect(found.payload).toMatchObject({ query: 'OL', people: [{ user: 'olga' }], more: false });
    await Promise.all([ann.close(), olga.close()]);
  });

  it('keeps my private conversations and groups across a reload, and tells every connection of mine', async () => {
    const bea = await connect('bea', 'signalr');
    const beaPhone = await connect('bea', 'webpubsub');
    await bea.send('joinGroup', { group: 'crew' });
    await beaPhone.waitFor(
      (e) => e.type === 'conversations' && JSON.stringify(e.payload).includes('group:crew'),
    );
    await bea.send('sendMessage', { text: 'hi cy', to: 'cy' });
    await beaPhone.waitFor(
      (e) => e.type === 'conversations' && JSON.stringify(e.payload).includes('dm:bea:cy'),
    );
    await Promise.all([bea.close(), beaPhone.close()]);

    const again = await connect('bea', 'webpubsub');
    expect(
      listed(again)
        .map((e) => e.conversation)
        .sort(),
    ).toEqual(['dm:bea:cy', 'group:crew']);
    // Leaving the group takes it off the list, live.
    await again.send('leaveGroup', { group: 'crew' });
    const left = await again.waitFor(
      (e) => e.type === 'conversations' && !JSON.stringify(e.payload).includes('group:crew'),
    );
    expect((left.payload as { entries: Entry[] }).entries.map((e) => e.conversation)).toEqual(['dm:bea:cy']);
    await again.close();
  });

  it('says in the welcome which of my groups are private, also of a list kept before entries said so', async () => {
    const [kit, lou] = await Promise.all([connect('kit', 'signalr'), connect('lou', 'webpubsub')]);
    await kit.send('createGroup', { group: 'vault', members: ['lou'], title: 'The vault' });
    await kit.waitFor(isGroupRecord('vault'));
    await lou.send('joinGroup', { group: 'square' });
    await lou.waitFor(
      (e) => e.type === 'conversations' && JSON.stringify(e.payload).includes('group:square'),
    );
    await lou.close();
    const kinds = (client: ChatClient) =>
      Object.fromEntries(listed(client).map((e) => [e.conversation, [e.groupKind, e.title]]));

    const back = await connect('lou', 'webpubsub');
    expect(kinds(back)).toEqual({
      'group:vault': ['private', 'The vault'],
      'group:square': ['channel', 'square'],
    });
    await back.close();

    // A list written before entries kept kinds: a private group's entry has its title, a channel's nothing.
    const container = BlobServiceClient.fromConnectionString(
      chat.stack.blob.connectionString,
    ).getContainerClient('chat-history');
    const name = `${userFolderPrefix('lou')}${LIST_BLOB}`;
    const stored = JSON.parse((await container.getBlockBlobClient(name).downloadToBuffer()).toString()) as {
      version: number;
      entries: Entry[];
    };
    const older = { ...stored, entries: stored.entries.map(({ groupKind: _kind, ...entry }) => entry) };
    const body = JSON.stringify(older);
    await container.getBlockBlobClient(name).upload(body, Buffer.byteLength(body));
    const again = await connect('lou', 'signalr');
    expect(kinds(again)).toEqual({
      'group:vault': ['private', 'The vault'],
      'group:square': ['channel', 'square'],
    });
    await Promise.all([kit.close(), again.close()]);
  });

  it('lists a conversation two people start with one user at once, losing neither', async () => {
    const [dee, eli] = await Promise.all([connect('dee', 'signalr'), connect('eli', 'webpubsub')]);
    await Promise.all([
      dee.send('sendMessage', { text: 'from dee', to: 'fay' }),
      eli.send('sendMessage', { text: 'from eli', to: 'fay' }),
    ]);
    await Promise.all([dee.waitFor(isMessage('from dee')), eli.waitFor(isMessage('from eli'))]);
    const fay = await connect('fay', 'signalr');
    expect(
      listed(fay)
        .map((e) => e.with)
        .sort(),
    ).toEqual(['dee', 'eli']);
    await Promise.all([dee.close(), eli.close(), fay.close()]);
  });

  it('delivers edits and deletes live to everyone, and a reload shows them folded, across pages', async () => {
    const [gus, hal] = await Promise.all([connect('gus', 'signalr'), connect('hal', 'webpubsub')]);
    for (const user of [gus, hal]) {
      await user.send('joinGroup', { group: 'edits' });
      await user.waitFor(
        (e) => e.type === 'system' && e.payload.user === user.user && e.payload.group === 'edits',
      );
    }
    const conversation = 'group:edits';
    await gus.send('sendMessage', { text: 'teh plan', group: 'edits' });
    const original = (await gus.waitFor(ackOf('teh plan'))).payload as { message: ChatMessage };
    await gus.send('sendMessage', { text: 'secret', group: 'edits' });
    const secret = (await gus.waitFor(ackOf('secret'))).payload as { message: ChatMessage };
    for (const text of ['one', 'two', 'three']) await gus.send('sendMessage', { text, group: 'edits' });
    await hal.waitFor(isMessage('three'));

    const edit = { conversation, messageId: original.message.id, text: 'the plan', clientMessageId: 'e-1' };
    await gus.send('editMessage', edit);
    await gus.send('editMessage', edit); // a retry: stored once
    await gus.send('deleteMessage', { conversation, messageId: secret.message.id });
    const liveEdit = await hal.waitFor((e) => e.type === 'message' && e.payload.kind === 'edit');
    expect(liveEdit.payload).toMatchObject({ target: original.message.id, text: 'the plan', from: 'gus' });
    const liveDelete = await hal.waitFor((e) => e.type === 'message' && e.payload.kind === 'delete');
    expect(liveDelete.payload).toMatchObject({ target: secret.message.id, text: '' });
    const acks = gus.events.filter(
      (e) => e.type === 'ack' && (e.payload as { clientMessageId?: string }).clientMessageId === 'e-1',
    );
    await gus.waitFor(
      (e) => e.type === 'ack' && (e.payload as { message: ChatMessage }).message.kind === 'delete',
    );
    expect(new Set(acks.map((a) => (a.payload as { message: ChatMessage }).message.id)).size).toBe(1);

    // A reload that reads the newest page first: the records are there, their targets on the older page.
    const reader = await connect('hal', 'signalr');
    const changes = new MessageChanges();
    const newest = await page(reader, conversation, { limit: 5 });
    expect(newest.messages.filter((m) => m.kind !== undefined)).toHaveLength(2);
    const shownNewest = foldHistory(newest.messages, changes);
    const older = await page(reader, conversation, { limit: 10, before: newest.messages[0]?.id as string });
    const shown = [...foldHistory(older.messages, changes), ...shownNewest];
    expect(shown.map((m) => [m.text, m.editedAt !== undefined, m.deleted === true])).toEqual([
      ['the plan', true, false],
      ['', false, true],
      ['one', false, false],
      ['two', false, false],
      ['three', false, false],
    ]);
    await Promise.all([gus.close(), hal.close(), reader.close()]);
  });

  it('refuses to let anyone but the author edit or delete a message', async () => {
    const [ivy, jon] = await Promise.all([connect('ivy', 'signalr'), connect('jon', 'webpubsub')]);
    // A private message's ack is the Completion of its invocation (the fan-out already carried it).
    const mine = (await ivy.invoke('sendMessage', { text: 'mine', to: 'jon' })) as { message: ChatMessage };
    const target = { conversation: 'dm:ivy:jon', messageId: mine.message.id };
    const edit = await ask(
      jon,
      'editMessage',
      { ...target, text: 'yours', clientMessageId: 'x' },
      (e) => e.type === 'error',
    );
    expect(edit.payload).toMatchObject({ code: 'not-author', command: 'editMessage', clientMessageId: 'x' });
    const del = await ask(jon, 'deleteMessage', target, (e) => e.type === 'error');
    expect(del.payload).toMatchObject({ code: 'not-author', command: 'deleteMessage' });
    // Someone outside the conversation cannot even reach it; an unknown id is not found.
    const kim = await connect('kim', 'signalr');
    const outside = await ask(kim, 'deleteMessage', target, (e) => e.type === 'error');
    expect(outside.payload).toMatchObject({ code: 'forbidden-conversation' });
    const unknown = await ask(
      ivy,
      'deleteMessage',
      { ...target, messageId: '01ARZ3NDEKTSV4RRFFQ69G5FAV' },
      (e) => e.type === 'error',
    );
    expect(unknown.payload).toMatchObject({ code: 'message-not-found' });
    const { messages } = await page(ivy, 'dm:ivy:jon', { limit: 10 });
    expect(messages.map((m) => m.text)).toEqual(['mine']);
    await Promise.all([ivy.close(), jon.close(), kim.close()]);
  });
});
