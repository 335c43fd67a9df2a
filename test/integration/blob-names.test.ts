/**
 * Names ending in a dot in every blob layout of the chat's container, against Azurite: each makes a plain,
 * escaped segment and reads back as it was written. The stores also take `.` and `..` (never valid chat names)
 * without leaving their prefix.
 */
import type { ContainerClient } from '@azure/storage-blob';
import { describe, expect, it } from 'vitest';
import { blobNameSegment } from '../../src/lib/blob-names.js';
import { MembershipStore } from '../../src/lib/chat/groups/memberships.js';
import { UserDirectory } from '../../src/lib/chat/people/directory.js';
import { PresenceStore } from '../../src/lib/chat/presence/presence.js';
import { ReadPositionStore } from '../../src/lib/chat/reading/positions.js';
import { GroupCreationStore } from '../../src/lib/conversations/group-creations.js';
import { ConversationListStore } from '../../src/lib/conversations/list-store.js';
import { createHistoryStore } from '../../src/lib/history/index.js';
import { useAzurite } from '../support/fixtures.js';

const blob = useAzurite();

/** Valid chat names that end in a dot. */
const DOTTED = ['ann.', 'v2..', 'a. b.', 'Zoë.'];
/** What a URL would resolve as a relative path unless escaped. */
const DOT_SEGMENTS = ['.', '..'];

async function created(): Promise<ContainerClient> {
  const container = blob.container();
  await container.create();
  return container;
}

async function blobNames(container: ContainerClient): Promise<string[]> {
  const names: string[] = [];
  for await (const item of container.listBlobsFlat()) names.push(item.name);
  return names.sort();
}

/** No segment of any name ends in a dot. */
function expectNoDottedSegment(names: readonly string[]): void {
  for (const name of names) {
    for (const segment of name.split('/')) expect(segment.endsWith('.'), name).toBe(false);
  }
}

describe('blobNameSegment', () => {
  it.each([
    ['ann', 'ann'],
    ['ann.', 'ann%2E'],
    ['.', '%2E'],
    ['..', '.%2E'],
    ['a.b', 'a.b'],
    ["it's (ok)!*~", 'it%27s%20%28ok%29%21%2A%7E'],
    ['Zoë', 'Zo%C3%AB'],
  ])('encodes %j as %j, which decodeURIComponent reverses', (value, segment) => {
    expect(blobNameSegment(value)).toBe(segment);
    expect(decodeURIComponent(segment)).toBe(value);
  });
});

describe('names ending in a dot in every layout (Azurite)', () => {
  it('memberships: _members/<user>/<group> with escaped segments, listed and removed by name', async () => {
    const container = await created();
    const store = new MembershipStore(container);
    const all = [...DOTTED, ...DOT_SEGMENTS];
    for (const user of all) for (const group of all) await store.add(user, group);
    const names = await blobNames(container);
    expect(names).toHaveLength(all.length * all.length);
    expect(names.every((name) => name.startsWith('_members/'))).toBe(true);
    expectNoDottedSegment(names);
    for (const user of all) {
      expect(await store.groupsOf(user)).toEqual([...all].sort());
      expect(await store.isMember(user, 'ann.')).toBe(true);
      expect(await store.isMember(user, 'ann')).toBe(false);
    }
    // Removing one membership leaves the others of the same user, and every other user's.
    await store.remove('..', '.');
    await store.remove('ann.', 'v2..');
    expect(await store.groupsOf('..')).toEqual([...all].filter((g) => g !== '.').sort());
    expect(await store.groupsOf('ann.')).toEqual([...all].filter((g) => g !== 'v2..').sort());
    expect(await store.groupsOf('.')).toEqual([...all].sort());
    expect(await blobNames(container)).toHaveLength(all.length * all.length - 2);
  });

  it('memberships written before trailing dots were escaped stay readable, and move when changed', async () => {
    const container = await created();
    // As the store wrote them before: encodeURIComponent alone.
    await container.getBlockBlobClient('_members/ann./team.').upload('', 0);
    await container.getBlockBlobClient('_members/bob/team.').upload('', 0);
    const store = new MembershipStore(container);
    expect(await store.groupsOf('ann.')).toEqual(['team.']);
    expect(await store.isMember('ann.', 'team.')).toBe(true);
    expect(await store.groupsOf('bob')).toEqual(['team.']);
    expect(await store.isMember('bob', 'team.')).toBe(true);
    await store.add('ann.', 'team.');
    expect(await blobNames(container)).toEqual(['_members/ann%2E/team%2E', '_members/bob/team.']);
    expect(await store.groupsOf('ann.')).toEqual(['team.']);
    await store.remove('bob', 'team.');
    expect(await store.isMember('bob', 'team.')).toBe(false);
    expect(await blobNames(container)).toEqual(['_members/ann%2E/team%2E']);
  });

  it("the user's folder: $list and $reads beside the memberships, never a group's name", async () => {
    const container = await created();
    const store = new MembershipStore(container);
    // A group's segment never starts with `$`, whatever the group is called.
    for (const group of ['$list', '$reads', '$', 'a$b'])
      expect(blobNameSegment(group).includes('$')).toBe(false);
    const users = ['ann', ...DOTTED, ...DOT_SEGMENTS];
    for (const user of users) {
      await store.add(user, '$list');
      await store.add(user, 'team.');
      await new ConversationListStore(container).add(user, {
        conversation: 'group:team.',
        kind: 'group',
        addedAt: '2024-01-01T00:00:00.000Z',
      });
      const reads = new ReadPositionStore(container);
      await reads.mark(user, 'room', '01HZZZZZZZZZZZZZZZZZZZZZZZ');
      await reads.flush(user);
    }
    const names = await blobNames(container);
    expect(names).toHaveLength(users.length * 4);
    expect(names.every((name) => name.startsWith('_members/'))).toBe(true);
    expectNoDottedSegment(names);
    expect(names.filter((name) => name.startsWith('_members/ann%2E/'))).toEqual([
      '_members/ann%2E/$list',
      '_members/ann%2E/$reads',
      '_members/ann%2E/%24list',
      '_members/ann%2E/team%2E',
    ]);
    for (const user of users) {
      expect(await store.groupsOf(user)).toEqual(['$list', 'team.']);
      const folder = await store.folderOf(user);
      expect(folder.groups).toEqual(['$list', 'team.']);
      expect(folder.list?.etag).toBeTruthy();
      expect(folder.reads?.etag).toBeTruthy();
      const list = await new ConversationListStore(container).read(user, folder);
      expect(list.entries.map((e) => e.conversation)).toEqual(['group:team.']);
      const positions = await new ReadPositionStore(container).positions(user, folder);
      expect(positions.get('room')).toBe('01HZZZZZZZZZZZZZZZZZZZZZZZ');
    }
  });

  it('presence: _presence/<user>/<connection> with escaped segments, and the online page names the user', async () => {
    const container = await created();
    const store = new PresenceStore(container);
    for (const user of DOTTED) await store.enter(user, `${user}c.`);
    await store.enter('ann.', '..');
    const names = await blobNames(container);
    expect(names).toHaveLength(DOTTED.length + 1);
    expect(names.every((name) => name.startsWith('_presence/'))).toBe(true);
    expectNoDottedSegment(names);
    const page = await new PresenceStore(container).page(async () => true, { limit: 10 });
    expect(page.users).toEqual([...DOTTED].sort());
    expect(await store.leave('v2..', 'v2..c.')).toEqual({ lastConnection: true });
    expect(await store.leave('ann.', '..')).toEqual({ lastConnection: false });
    expect(await blobNames(container)).toHaveLength(DOTTED.length - 1);
  });

  it('directory: _users/<id> with an escaped segment', async () => {
    const container = await created();
    const ids = [...DOTTED, ...DOT_SEGMENTS];
    for (const id of ids) await new UserDirectory(container).record(id, `Name of ${id}`);
    const names = await blobNames(container);
    expect(names).toHaveLength(ids.length);
    expect(names.every((name) => name.startsWith('_users/'))).toBe(true);
    expectNoDottedSegment(names);
    const reader = new UserDirectory(container);
    for (const id of ids) expect(await reader.nameOf(id)).toBe(`Name of ${id}`);
  });

  it('creations: _creations/<user> with an escaped segment, one count per user', async () => {
    const container = await created();
    const users = [...DOTTED, ...DOT_SEGMENTS];
    const at = Date.parse('2026-12-08T10:00:00.000Z');
    for (const [i, user] of users.entries()) {
      for (let k = 0; k <= i; k++) await new GroupCreationStore(container).take(user, at + k, 20);
    }
    const names = await blobNames(container);
    expect(names).toHaveLength(users.length);
    expect(names.every((name) => name.startsWith('_creations/'))).toBe(true);
    expectNoDottedSegment(names);
    const reader = new GroupCreationStore(container);
    for (const [i, user] of users.entries()) expect(await reader.created(user, at)).toHaveLength(i + 1);
  });

  it('history: conversation folders and client-id markers with escaped segments', async () => {
    const container = await created();
    const store = createHistoryStore({ containerClient: container });
    for (const group of DOTTED) {
      const conversation = `group:${group}`;
      await store.append({ conversation, group, from: 'ann.', text: `to ${group}`, clientMessageId: 'c1' });
    }
    const names = await blobNames(container);
    expectNoDottedSegment(names);
    for (const group of DOTTED) {
      const page = await store.read(`group:${group}`);
      expect(page.messages.map((m) => m.text)).toEqual([`to ${group}`]);
    }
  });
});
