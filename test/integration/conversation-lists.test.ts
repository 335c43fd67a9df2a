import { describe, expect, it } from 'vitest';
import { ConversationListStore, PeopleDirectory } from '../../src/lib/conversations/index.js';
import { createHistoryStore, foldHistory, MessageChanges } from '../../src/lib/history/index.js';
import { useAzurite } from '../support/fixtures.js';

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
    // Two instances, each adding 12 conversations to zed's list at once: every write races the others.
    const instances = [new ConversationListStore(container), new ConversationListStore(container)];
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
