import { randomUUID } from 'node:crypto';
import { DefaultAzureCredential } from '@azure/identity';
import type { ContainerClient } from '@azure/storage-blob';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type ChatMessage,
  createHistoryStore,
  createHistoryStoreFromSettings,
  HistoryError,
  type HistoryStore,
  type NewMessage,
  segmentBlobName,
} from '../../src/lib/history/index.js';
import { azuriteConnectionString } from '../../src/local/dev-constants.js';
import { useAzurite } from '../support/fixtures.js';
import { startRecordingProxy } from '../support/recording-proxy.js';

const blob = useAzurite();
/** A message id, for records that name a target. */
const ID = '01J00000000000000000000001';
const freshContainer = (connectionString?: string): ContainerClient =>
  blob.container(undefined, connectionString);

async function appendTexts(
  store: HistoryStore,
  conversation: string,
  texts: string[],
): Promise<ChatMessage[]> {
  const stored: ChatMessage[] = [];
  const group = conversation.startsWith('group:') ? conversation.slice('group:'.length) : undefined;
  for (const text of texts) {
    const { message } = await store.append({ conversation, from: 'ann', text, ...(group ? { group } : {}) });
    stored.push(message);
  }
  return stored;
}

const numbered = (count: number, prefix = 'm') =>
  Array.from({ length: count }, (_, i) => `${prefix}${i + 1}`);

describe('history store', () => {
  it('stores a message and reads it back with a server-assigned ULID id and ISO sentAt', async () => {
    const store = createHistoryStore({
      storage: blob.azurite.connectionString,
      container: `t-${randomUUID()}`,
    });
    const { message, duplicate } = await store.append({
      conversation: 'room',
      from: 'ann',
      text: 'hello <b>x</b>',
    });
    expect(duplicate).toBe(false);
    expect(message).toMatchObject({ conversation: 'room', from: 'ann', text: 'hello <b>x</b>' });
    expect(message.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(new Date(message.sentAt).toISOString()).toBe(message.sentAt);

    const page = await store.read('room');
    expect(page).toEqual({ conversation: 'room', messages: [message], hasMore: false });
  });

  it('keeps conversations apart and stores group and private messages with their addressing', async () => {
    const store = createHistoryStore({ containerClient: freshContainer() });
    const room = await store.append({ conversation: 'room', from: 'ann', text: 'to all' });
    const group = await store.append({
      conversation: 'group:team a',
      from: 'bob',
      group: 'team a',
      text: 'team',
    });
    const dm = await store.append({ conversation: 'dm:ann:bob', from: 'bob', to: 'ann', text: 'psst' });

    expect((await store.read('room')).messages).toEqual([room.message]);
    expect((await store.read('group:team a')).messages).toEqual([group.message]);
    expect((await store.read('dm:ann:bob')).messages).toEqual([dm.message]);
    expect((await store.read('group:team')).messages).toEqual([]);
  });

  it('writes one JSON line per message into <encoded conversation>/<zero-padded segment>.jsonl', async () => {
    const container = freshContainer();
    const store = createHistoryStore({ containerClient: container });
    const stored = await appendTexts(store, 'group:team a', ['one', 'two']);

    const names: string[] = [];
    for await (const blob of container.listBlobsFlat()) names.push(blob.name);
    expect(names).toEqual(['group%3Ateam%20a/0000000001.jsonl']);
    expect(segmentBlobName('group:team a', 1)).toBe('group%3Ateam%20a/0000000001.jsonl');

    const properties = await container.getBlobClient(names[0] as string).getProperties();
    expect(properties.blobType).toBe('AppendBlob');
    expect(properties.blobCommittedBlockCount).toBe(2);
    const text = (await container.getBlobClient(names[0] as string).downloadToBuffer()).toString('utf8');
    expect(text).toBe(`${stored.map((m) => JSON.stringify(m)).join('\n')}\n`);
  });

  it('returns the newest `limit` messages oldest first, with hasMore, default 50', async () => {
    const store = createHistoryStore({ containerClient: freshContainer() });
    const stored = await appendTexts(store, 'room', numbered(60));

    const latest = await store.read('room', { limit: 5 });
    expect(latest.messages.map((m) => m.text)).toEqual(['m56', 'm57', 'm58', 'm59', 'm60']);
    expect(latest.hasMore).toBe(true);

    const byDefault = await store.read('room');
    expect(byDefault.messages).toEqual(stored.slice(10));
    expect(byDefault.hasMore).toBe(true);

    const all = await store.read('room', { limit: 60 });
    expect(all.messages).toEqual(stored);
    expect(all.hasMore).toBe(false);
  });

  it('reads the latest page of a long history with ranged downloads of the tail only', async () => {
    const proxy = await startRecordingProxy(`http://127.0.0.1:${blob.azurite.port}`);
    try {
      const container = freshContainer(azuriteConnectionString(`${proxy.url}/devstoreaccount1`));
      const store = createHistoryStore({ containerClient: container, readChunkBytes: 4096 });
      // ~ 2 000 messages of ~ 230 bytes: a segment of about 460 KB.
      const filler = 'x'.repeat(120);
      await Promise.all(
        Array.from({ length: 8 }, (_, worker) =>
          appendTexts(
            store,
            'room',
            numbered(250, `w${worker}-`).map((t) => `${t} ${filler}`),
          ),
        ),
      );
      const segment = await container.getBlobClient(segmentBlobName('room', 1)).getProperties();
      const blobBytes = segment.contentLength ?? 0;
      expect(blobBytes).toBeGreaterThan(400_000);

      proxy.exchanges.length = 0;
      const page = await store.read('room', { limit: 10 });
      expect(page.messages).toHaveLength(10);
      expect(page.hasMore).toBe(true);

      const downloads = proxy.exchanges.filter((e) => e.method === 'GET' && e.url.includes('.jsonl'));
      const downloaded = downloads.reduce((sum, e) => sum + e.responseBytes, 0);
      // Every download is ranged, and together they are a small tail of the blob (10 lines ≈ 2.3 KB; one chunk).
      expect(downloads.length).toBeGreaterThan(0);
      for (const download of downloads) expect(download.range).toMatch(/^bytes=\d+-\d+$/);
      expect(downloaded).toBeLessThanOrEqual(2 * 4096);
      expect(downloaded).toBeLessThan(blobBytes / 50);
    } finally {
      await proxy.close();
    }
  });

  it('pages backwards with `before` across segment boundaries until hasMore is false', async () => {
    const store = createHistoryStore({
      containerClient: freshContainer(),
      segmentBlockLimit: 10,
      readChunkBytes: 200,
    });
    const stored = await appendTexts(store, 'group:g', numbered(35));

    const seen: ChatMessage[] = [];
    let page = await store.read('group:g', { limit: 7 });
    seen.unshift(...page.messages);
    while (page.hasMore) {
      const oldest = page.messages[0] as ChatMessage;
      page = await store.read('group:g', { limit: 7, before: oldest.id });
      seen.unshift(...page.messages);
    }
    expect(seen).toEqual(stored);

    const middle = stored[20] as ChatMessage;
    const before = await store.read('group:g', { before: middle.id, limit: 12 });
    expect(before.messages).toEqual(stored.slice(8, 20));
    expect(before.hasMore).toBe(true);
    const first = await store.read('group:g', { before: (stored[0] as ChatMessage).id });
    expect(first).toEqual({ conversation: 'group:g', messages: [], hasMore: false });
  });

  it('reads lines longer than one download chunk and text with any characters', async () => {
    const store = createHistoryStore({ containerClient: freshContainer(), readChunkBytes: 16 });
    const texts = ['é€😀 "quotes" \\ back\nslash', 'a'.repeat(4000), '\u2028\u0000</script>'];
    const stored = await appendTexts(store, 'room', texts);
    expect((await store.read('room')).messages).toEqual(stored);
    expect((await store.read('room', { limit: 1 })).messages.map((m) => m.text)).toEqual([texts[2]]);
  });

  it('stores a repeated clientMessageId from the same sender once and returns the original', async () => {
    const store = createHistoryStore({ containerClient: freshContainer() });
    const send = (changes: Partial<NewMessage> = {}) =>
      store.append({ conversation: 'room', from: 'ann', text: 'hi', clientMessageId: 'c-1', ...changes });
    const first = await send();
    const again = await send();
    const otherUser = await send({ from: 'bob' });
    const otherRoom = await send({ conversation: 'group:g', group: 'g' });

    expect(first.duplicate).toBe(false);
    expect(again).toEqual({ message: first.message, duplicate: true });
    expect(otherUser.duplicate).toBe(false);
    expect(otherRoom.duplicate).toBe(false);
    expect((await store.read('room')).messages).toEqual([first.message, otherUser.message]);
  });

  it('builds the store from the app settings', async () => {
    const container = `t-${randomUUID()}`;
    const store = createHistoryStoreFromSettings({
      CHAT_HISTORY_STORAGE: blob.azurite.connectionString,
      CHAT_HISTORY_CONTAINER: container,
    });
    expect(store.containerClient.containerName).toBe(container);
    await store.append({ conversation: 'room', from: 'ann', text: 'x' });
    expect(await store.containerClient.exists()).toBe(true);
    expect(() => createHistoryStoreFromSettings({})).toThrow(/CHAT_HISTORY_STORAGE is not set/);
    expect(() =>
      createHistoryStoreFromSettings({
        CHAT_HISTORY_STORAGE: blob.azurite.connectionString,
        CHAT_HISTORY_SEGMENT_BLOCK_LIMIT: '60000',
      }),
    ).toThrow(/CHAT_HISTORY_SEGMENT_BLOCK_LIMIT must be a whole number from 1 to 50000, not "60000"/);
    const identity = createHistoryStoreFromSettings({
      CHAT_HISTORY_STORAGE: 'https://account.blob.core.windows.net',
      AZURE_CLIENT_ID: '00000000-0000-0000-0000-000000000000',
    });
    expect(identity.containerClient.url).toBe('https://account.blob.core.windows.net/chat-history');
    // A service URI means identity-based access: no account key, a Microsoft Entra credential.
    expect(identity.containerClient.credential).toBeInstanceOf(DefaultAzureCredential);
  });
});

describe('history store input checks', () => {
  let store: HistoryStore;
  beforeAll(() => {
    store = createHistoryStore({ containerClient: freshContainer() });
  });

  const rejects = async (promise: Promise<unknown>, code: string, message: RegExp) => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(HistoryError);
    expect(error).toMatchObject({ code });
    expect((error as Error).message).toMatch(message);
  };

  it.each([
    'rooms',
    '',
    'group:',
    'group:a/b',
    `group:${'x'.repeat(33)}`,
    'dm:bob:ann',
    'dm:ann',
    'dm:ann:bob:carl',
    'Room',
  ])('rejects the conversation id %j', async (conversation) => {
    await rejects(
      store.read(conversation),
      'invalid-conversation',
      /is not one of room, group:<name>, dm:<a>:<b>/,
    );
    await rejects(
      store.append({ conversation, from: 'ann', text: 'x' }),
      'invalid-conversation',
      /is not one of room/,
    );
  });

  it.each([0, 101, 1.5, -1, Number.NaN, '10'])('rejects the limit %j', async (limit) => {
    await rejects(
      store.read('room', { limit: limit as number }),
      'invalid-limit',
      /whole number from 1 to 100/,
    );
  });

  it('accepts limits 1 and 100', async () => {
    await expect(store.read('room', { limit: 1 })).resolves.toMatchObject({ messages: [] });
    await expect(store.read('room', { limit: 100 })).resolves.toMatchObject({ messages: [] });
  });

  it('rejects a `before` that is not a message id, or not one of this conversation', async () => {
    await rejects(store.read('room', { before: 'nope' }), 'invalid-before', /not a message id/);
    const { message } = await store.append({ conversation: 'group:g', group: 'g', from: 'ann', text: 'x' });
    await rejects(
      store.read('room', { before: message.id }),
      'invalid-before',
      /no message .* in conversation room/,
    );
  });

  it.each([
    [{ conversation: 'room', from: 'ann', text: '' }, /text is empty/],
    [{ conversation: 'room', from: 'ann', text: 'x'.repeat(4001) }, /longer than 4000/],
    [{ conversation: 'room', from: '', text: 'x' }, /from: The user name is empty/],
    [{ conversation: 'room', from: 'ann', text: 'x', to: 'bob' }, /room message has neither/],
    [{ conversation: 'group:g', from: 'ann', text: 'x' }, /has group "g"/],
    [{ conversation: 'dm:ann:bob', from: 'carl', to: 'ann', text: 'x' }, /goes from one of its two users/],
    // A remove record is addressed as the lines of its conversation too, and names its moderator.
    [
      {
        conversation: 'dm:ann:bob',
        from: 'mona',
        to: 'ann',
        text: '',
        kind: 'remove',
        target: ID,
        by: 'mona',
      },
      /goes from one of its two users/,
    ],
    [
      { conversation: 'dm:ann:bob', from: 'ann', to: 'bob', text: '', kind: 'remove', target: ID },
      /names its moderator in `by`/,
    ],
    [{ conversation: 'room', from: 'ann', text: 'x', by: 'mona' }, /nothing else has `by`/],
    [
      { conversation: 'room', from: 'ann', text: '', kind: 'delete', target: ID, by: 'mona' },
      /nothing else has `by`/,
    ],
    [
      { conversation: 'room', from: 'ann', text: 'x', clientMessageId: '' },
      /clientMessageId must be a string of 1–100/,
    ],
    [{ conversation: 'room', from: 'ann', fromName: ' Ann', text: 'x' }, /fromName must be a display name/],
    [
      { conversation: 'room', from: 'ann', fromName: 'A\u202eB', text: 'x' },
      /fromName must be a display name/,
    ],
  ] as [NewMessage, RegExp][])('rejects the message %j', async (input, message) => {
    await rejects(store.append(input), 'invalid-message', message);
  });

  it("stores a moderator's remove record in a private conversation of two others, addressed as its lines", async () => {
    const store = createHistoryStore({ containerClient: freshContainer() });
    const conversation = 'dm:ann:bob';
    const { message } = await store.append({ conversation, from: 'ann', to: 'bob', text: 'rude' });
    const record = { conversation, from: 'ann', to: 'bob', text: '', kind: 'remove', target: message.id };
    const { message: stored } = await store.append({ ...record, kind: 'remove', by: 'mona' });
    expect(stored).toMatchObject({ ...record, by: 'mona' });
    expect((await store.read(conversation)).messages).toEqual([message, stored]);
  });

  it('rejects out-of-range options when the store is created', () => {
    expect(() =>
      createHistoryStore({ containerClient: freshContainer(), segmentBlockLimit: 50_001 }),
    ).toThrow(/segmentBlockLimit must be a whole number from 1 to 50000/);
    expect(() =>
      createHistoryStore({ containerClient: freshContainer(), maxBlockBytes: 4 * 1024 * 1024 + 1 }),
    ).toThrow(/maxBlockBytes must be a whole number from 1 to 4194304/);
    expect(() => createHistoryStore({ containerClient: freshContainer(), maxMessagesPerBlock: 0 })).toThrow(
      /maxMessagesPerBlock must be a whole number from 1/,
    );
    expect(() => createHistoryStore({ containerClient: freshContainer(), maxQueuedAppends: 1.5 })).toThrow(
      /maxQueuedAppends must be a whole number from 1/,
    );
    expect(() => createHistoryStore({})).toThrow(/needs `storage`/);
  });
});
