import { describe, expect, it } from 'vitest';
import {
  appendChange,
  ConversationListStore,
  ListUpdates,
  PeopleDirectory,
} from '../../src/lib/conversations/index.js';
import { createHistoryStore, foldHistory, MessageChanges } from '../../src/lib/history/index.js';
import { useAzurite } from '../support/fixtures.js';
import { startRecordingProxy } from '../support/recording-proxy.js';

const blob = useAzurite();

const dm = (user: string, other: string) => ({
  conversation: `dm:${[user, other].sort().join(':')}`,
  kind: 'dm' as const,
  with: other,
  addedAt: new Date(0).toISOString(),
});

describe("a user's list of conversations (Blob, conditional writes)", () => {
  it('keeps every one of many concurrent changes from two instances', async () => {
    const container = blob.container();
    await container.create();
    // Two instances, each adding 12 conversations to zed's list at once: every write races the others. What is
    // checked is that no change is lost, not how many tries a loaded machine needs: each write may retry as often
    // as the 24 of them could make it.
    const options = { writeAttempts: 48 };
    const instances = [
      new ConversationListStore(container, options),
      new ConversationListStore(container, options),
    ];
    const others = Array.from({ length: 24 }, (_, i) => `p${String(i).padStart(2, '0')}`);
    await Promise.all(
      others.map((other, i) => (instances[i % 2] as ConversationListStore).add('zed', dm('zed', other))),
    );
    const list = await new ConversationListStore(container).read('zed');
    expect(list.entries.map((e) => e.with).sort()).toEqual(others);
    expect(list.version).toBe(24);
  });

  it('adds a conversation once, removes it, and drops the oldest private one past its size', async () => {
    const container = blob.container();
    await container.create();
    const lists = new ConversationListStore(container, { maxEntries: 2 });
    expect((await lists.add('ann', dm('ann', 'bob'))).changed).toBe(true);
    expect((await lists.add('ann', dm('ann', 'bob'))).changed).toBe(false);
    await lists.add('ann', { conversation: 'group:crew', kind: 'group', group: 'crew', addedAt: '' });
    await lists.add('ann', dm('ann', 'cat'));
    expect((await lists.read('ann')).entries.map((e) => e.conversation)).toEqual([
      'group:crew',
      'dm:ann:cat',
    ]);
    await lists.remove('ann', 'dm:ann:cat');
    await lists.add('ann', { conversation: 'group:two', kind: 'group', group: 'two', addedAt: '' });
    await expect(
      lists.add('ann', { conversation: 'group:three', kind: 'group', group: 'three', addedAt: '' }),
    ).rejects.toMatchObject({ code: 'list-full' });
  });
});

describe('the people directory', () => {
  it('finds people by the start of their name, case-insensitively, at most `limit` at a time', async () => {
    const container = blob.container();
    await container.create();
    const people = new PeopleDirectory(container);
    for (const name of ['Olga', 'olaf', 'Oleg', 'Ann', 'ann-marie']) await people.seen(name, name);
    const page = await people.find('OL', 2);
    expect(page.people.map((p) => p.user)).toEqual(['olaf', 'Oleg']);
    expect(page.more).toBe(true);
    expect((await people.find('ann', 10)).people.map((p) => p.user)).toEqual(['Ann', 'ann-marie']);
    expect((await people.find('x', 10)).people).toEqual([]);
    const [olga] = (await people.find('olg', 10)).people;
    expect(olga?.lastSeen).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('shows a signed-in user by display name, and a new name replaces the old one', async () => {
    const container = blob.container();
    await container.create();
    const people = new PeopleDirectory(container);
    await people.seen('0f8fad5b', 'Ann Lee');
    await people.seen('0f8fad5b', 'Ann Smith');
    expect((await people.find('ann', 10)).people).toEqual([
      expect.objectContaining({ user: '0f8fad5b', name: 'Ann Smith' }),
    ]);
  });
});

describe('edit and delete records in the history', () => {
  it('are folded into their message even when the message is on an older page than the record', async () => {
    const history = createHistoryStore({ containerClient: blob.container() });
    const conversation = 'group:fold';
    const base = { conversation, group: 'fold', from: 'ann' };
    const { message: first } = await history.append({ ...base, text: 'frist' });
    const { message: second } = await history.append({ ...base, text: 'oops' });
    for (const text of ['a', 'b', 'c']) await history.append({ ...base, text });
    await history.append({ ...base, text: 'first', kind: 'edit', target: first.id });
    await history.append({ ...base, text: '', kind: 'delete', target: second.id });
    // Someone else's record names ann's message: readers ignore it.
    await history.append({ ...base, from: 'eve', text: 'pwned', kind: 'edit', target: first.id });

    const changes = new MessageChanges();
    const newest = await history.read(conversation, { limit: 4 });
    expect(foldHistory(newest.messages, changes).map((m) => m.text)).toEqual(['c']);
    const older = await history.read(conversation, { limit: 10, before: newest.messages[0]?.id as string });
    const folded = foldHistory(older.messages, changes);
    expect(folded.map((m) => [m.text, m.editedAt !== undefined, m.deleted === true])).toEqual([
      ['first', true, false],
      ['', false, true],
      ['a', false, false],
      ['b', false, false],
    ]);
    await expect(history.find(conversation, first.id)).resolves.toMatchObject({ text: 'frist' });
  });

  it('refuses a record without a target, or a delete that carries text', async () => {
    const history = createHistoryStore({ containerClient: blob.container() });
    const base = { conversation: 'room', from: 'ann' };
    await expect(history.append({ ...base, text: 'x', kind: 'edit' })).rejects.toMatchObject({
      code: 'invalid-message',
    });
    const { message } = await history.append({ ...base, text: 'hello' });
    await expect(
      history.append({ ...base, text: 'x', kind: 'delete', target: message.id }),
    ).rejects.toMatchObject({ code: 'invalid-message' });
  });
});

describe('what the new work costs in Blob requests', () => {
  it('lists a private conversation once per instance, then costs nothing per message', async () => {
    const proxy = await startRecordingProxy(`http://127.0.0.1:${blob.azurite.port}`);
    try {
      const container = blob.container(undefined, connectionThrough(proxy.url));
      await container.create();
      const sent: string[] = [];
      const updates = new ListUpdates(new ConversationListStore(container), async (user) => {
        sent.push(user);
      });
      const before = proxy.exchanges.length;
      await updates.direct({ user: 'ann' }, { user: 'bob' }, 'dm:ann:bob', '');
      const first = proxy.exchanges.length - before;
      await updates.direct({ user: 'ann' }, { user: 'bob' }, 'dm:ann:bob', '');
      const again = proxy.exchanges.length - before - first;
      // Per person: one read (404) and one conditional create; and once per instance, the one-result listing
      // that finds no list left at its old name (user-folder.ts).
      expect({ first, again, told: sent.sort() }).toEqual({ first: 5, again: 0, told: ['ann', 'bob'] });
    } finally {
      await proxy.close();
    }
  });

  it('finds a message to edit with a bounded number of requests, however long the history', async () => {
    const proxy = await startRecordingProxy(`http://127.0.0.1:${blob.azurite.port}`);
    try {
      const counts: number[] = [];
      for (const length of [20, 2000]) {
        const container = blob.container(undefined, connectionThrough(proxy.url));
        const history = createHistoryStore({ containerClient: container, segmentBlockLimit: 100 });
        const base = { conversation: 'group:long', group: 'long', from: 'ann' };
        const { message: first } = await history.append({ ...base, text: 'the first' });
        // Seeded in blocks of 50 lines: fast, and the same format the store writes.
        await seedLines(history, base, length);
        const before = proxy.exchanges.length;
        const outcome = await appendChange(history, {
          kind: 'edit',
          conversation: base.conversation,
          target: first.id,
          from: 'ann',
          text: 'the very first',
        });
        expect(outcome.ok).toBe(true);
        counts.push(proxy.exchanges.length - before);
      }
      const [short, long] = counts as [number, number];
      expect(long).toBeLessThanOrEqual(short + 12);
    } finally {
      await proxy.close();
    }
  });
});

/** The Azurite connection string with its Blob endpoint moved to `url` (a recording proxy). */
function connectionThrough(url: string): string {
  return blob.azurite.connectionString.replace(/BlobEndpoint=[^;]+/, `BlobEndpoint=${url}/devstoreaccount1`);
}

/** Appends `count` messages after a short pause, so their ids are well after the first one's. */
async function seedLines(
  history: ReturnType<typeof createHistoryStore>,
  base: { conversation: string; group: string; from: string },
  count: number,
): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 50));
  for (let i = 0; i < count; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, count - i) }, (_, j) =>
        history.append({ ...base, text: `m${i + j}` }),
      ),
    );
  }
}
