import { describe, expect, it } from 'vitest';
import { GroupHandlers, MembershipStore } from '../../src/lib/chat/index.js';
import {
  ChannelDirectory,
  ConversationListStore,
  GroupCreationStore,
  type GroupLimits,
  GroupRecordStore,
  ListUpdates,
} from '../../src/lib/conversations/index.js';
import { createHistoryStore } from '../../src/lib/history/index.js';
import { useAzurite } from '../support/fixtures.js';

const blob = useAzurite();

describe('group records (Blob, ETag-conditional writes)', () => {
  it('keeps every one of many concurrent member changes made by two owners on two instances', async () => {
    const container = blob.container();
    await container.create();
    const [one, two] = [
      new GroupRecordStore(container),
      new GroupRecordStore(container, { writeAttempts: 50 }),
    ];
    await one.create({
      group: 'g',
      kind: 'private',
      title: 'g',
      owners: ['ann', 'bob'],
      members: ['ann', 'bob'],
    });
    const added = Array.from({ length: 16 }, (_, i) => `m${String(i).padStart(2, '0')}`);
    await Promise.all(
      added.map((user, i) =>
        (i % 2 === 0 ? one : two).change('g', (r) => ({ ...r, members: [...r.members, user] })),
      ),
    );
    const record = await one.read('g');
    expect([...(record?.members ?? [])].sort()).toEqual(['ann', 'bob', ...added]);
    expect(record?.version).toBe(1 + added.length);
  });

  it('refuses a second creation of one name and a change of a group without a record', async () => {
    const container = blob.container();
    await container.create();
    const store = new GroupRecordStore(container);
    await store.create({ group: 'x', kind: 'channel', title: 'x', owners: ['ann'], members: [] });
    await expect(
      store.create({ group: 'x', kind: 'private', title: 'x', owners: ['eve'], members: ['eve'] }),
    ).rejects.toMatchObject({ code: 'group-exists' });
    await expect(store.change('nothing', (r) => r)).rejects.toMatchObject({ code: 'unknown-group' });
    expect((await store.read('x'))?.owners).toEqual(['ann']);
  });

  it('pages the channel directory by name with a cursor', async () => {
    const container = blob.container();
    await container.create();
    const channels = new ChannelDirectory(container);
    for (const group of ['c', 'a', 'b'])
      await channels.put({
        group,
        kind: 'channel',
        title: group.toUpperCase(),
        owners: [],
        members: [],
        version: 1,
      });
    const first = await channels.page(2);
    expect(first.channels.map((c) => c.group)).toEqual(['a', 'b']);
    const second = await channels.page(2, first.next);
    expect(second).toEqual({ channels: [{ group: 'c', title: 'C' }] });
  });
});

describe('group limits (the rules over real stores; the realtime service left out)', () => {
  async function groupsWith(limits: GroupLimits) {
    const container = blob.container();
    await container.create();
    const members = new MembershipStore(container);
    const inRealtimeGroup = new Set<string>();
    // Only the realtime service is stood in for: it records who is in which group.
    const fanout = {
      addUserToGroup: async (group: string, user: string) => void inRealtimeGroup.add(`${group}/${user}`),
      removeUserFromGroup: async (group: string, user: string) =>
        void inRealtimeGroup.delete(`${group}/${user}`),
      toGroup: async () => undefined,
      toUser: async () => undefined,
    };
    const handlers = new GroupHandlers({
      records: new GroupRecordStore(container),
      channels: new ChannelDirectory(container),
      creations: new GroupCreationStore(container),
      members,
      fanout,
      lists: new ListUpdates(new ConversationListStore(container), async () => undefined),
      history: createHistoryStore({ containerClient: container }),
      at: () => new Date(0).toISOString(),
      ...limits,
    });
    return { handlers, members, inRealtimeGroup };
  }

  it('refuses a member past the group size and a group past the user limit, with their codes', async () => {
    const { handlers, members, inRealtimeGroup } = await groupsWith({ maxMembers: 3, maxGroupsPerUser: 2 });
    expect(
      await handlers.run('ann', { type: 'createGroup', group: 'g', kind: 'private', members: ['bob', 'cy'] }),
    ).toBeUndefined();
    const full = await handlers.run('ann', { type: 'addMember', group: 'g', user: 'dee', owner: false });
    expect(full).toMatchObject({ event: 'error', payload: { code: 'group-full', command: 'addMember' } });
    expect(await members.isMember('dee', 'g')).toBe(false);
    expect(
      await handlers.run('ann', { type: 'createGroup', group: 'h', kind: 'channel', members: [] }),
    ).toBeUndefined();
    const many = await handlers.run('ann', { type: 'createGroup', group: 'i', kind: 'private', members: [] });
    expect(many).toMatchObject({ event: 'error', payload: { code: 'too-many-groups' } });
    expect(await handlers.joinRefusal('ann', 'j')).toMatchObject({ code: 'too-many-groups' });
    // Removing a member undoes every part of the membership.
    expect(await handlers.run('ann', { type: 'removeMember', group: 'g', user: 'bob' })).toBeUndefined();
    expect(await members.isMember('bob', 'g')).toBe(false);
    expect([...inRealtimeGroup].sort()).toEqual(['g/ann', 'g/cy', 'h/ann']);
  });

  it('counts the groups others added a user to apart from their own, and keeps who added them', async () => {
    const { handlers, members } = await groupsWith({
      maxGroupsPerUser: 2,
      maxAddedGroupsPerUser: 2,
      maxGroupsAddedByOneUser: 1,
    });
    const create = (by: string, group: string, invited: string[] = []) =>
      handlers.run(by, { type: 'createGroup', group, kind: 'private', members: invited });
    const add = (by: string, group: string, user: string, owner = false) =>
      handlers.run(by, { type: 'addMember', group, user, owner });
    const code = (code: string) => ({ event: 'error', payload: { code } });
    // One adder adds a given user to one group (the setting), by createGroup or addMember.
    expect(await create('eve', 'e1', ['vic'])).toBeUndefined();
    expect(await create('eve', 'e2', ['vic'])).toMatchObject(code('too-many-adds'));
    expect(await create('eve', 'e2')).toBeUndefined();
    expect(await add('eve', 'e2', 'vic')).toMatchObject(code('too-many-adds'));
    // Others added the user to two groups: a third adder is refused, and the refused group was not created.
    expect(await create('max', 'm1', ['vic'])).toBeUndefined();
    expect(await create('ozz', 'o1', ['vic'])).toMatchObject(code('too-many-added-groups'));
    expect(await handlers.run('ozz', { type: 'listMembers', group: 'o1' })).toMatchObject({
      payload: { group: 'o1', kind: 'channel', owners: [] },
    });
    // The user's own room is whole: two groups of their own.
    expect(await create('vic', 'v1')).toBeUndefined();
    expect(await handlers.joinRefusal('vic', 'c1')).toBeUndefined();
    expect(await members.origins('vic')).toEqual(
      new Map([
        ['e1', 'eve'],
        ['m1', 'max'],
        ['v1', undefined],
      ]),
    );
    // Making a member an owner writes the membership again: it keeps who added them.
    expect(await add('eve', 'e1', 'vic', true)).toBeUndefined();
    expect((await members.origins('vic')).get('e1')).toBe('eve');
    // Only an owner learns how many groups the member is in.
    expect(await create('ozz', 'o2')).toBeUndefined();
    expect(await add('max', 'o2', 'vic')).toMatchObject(code('not-an-owner'));
    // A removal frees the adder's count for that user.
    expect(await handlers.run('eve', { type: 'removeMember', group: 'e1', user: 'vic' })).toBeUndefined();
    expect(await add('eve', 'e2', 'vic')).toBeUndefined();
  });
});
