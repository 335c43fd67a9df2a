/**
 * A group new to a user's list reaches their connections only once they are its member (docs/architecture.md,
 * "My conversations"): the page takes it as joined at once. Real stores on Azurite; only the realtime service is
 * stood in for, and it notes, as each list is sent, what the membership was then.
 */
import { describe, expect, it } from 'vitest';
import { joinGroup } from '../../src/lib/chat/groups/joins.js';
import { GroupHandlers, MembershipStore } from '../../src/lib/chat/index.js';
import type { ChatEvent } from '../../src/lib/chat/wire/protocol.js';
import {
  ChannelDirectory,
  type ConversationList,
  ConversationListStore,
  GroupCreationStore,
  GroupRecordStore,
  ListUpdates,
} from '../../src/lib/conversations/index.js';
import { createHistoryStore } from '../../src/lib/history/index.js';
import { useAzurite } from '../support/fixtures.js';

const blob = useAzurite();

/** What held, for one group of a sent list, when the list was sent. */
interface ListedState {
  user: string;
  group: string;
  member: boolean;
  inRealtimeGroup: boolean;
}

async function chatWithLists() {
  const container = blob.container();
  await container.create();
  const members = new MembershipStore(container);
  const records = new GroupRecordStore(container);
  const inRealtimeGroup = new Set<string>();
  const listed: ListedState[] = [];
  const sendList = async (user: string, list: ConversationList) => {
    for (const entry of list.entries) {
      if (entry.kind !== 'group' || entry.group === undefined) continue;
      const { group } = entry;
      const member = await members.isMember(user, group);
      listed.push({ user, group, member, inRealtimeGroup: inRealtimeGroup.has(`${group}/${user}`) });
    }
  };
  const fanout = {
    addUserToGroup: async (group: string, user: string) => void inRealtimeGroup.add(`${group}/${user}`),
    removeUserFromGroup: async (group: string, user: string) =>
      void inRealtimeGroup.delete(`${group}/${user}`),
    toGroup: async () => undefined,
    toUser: async (user: string, event: ChatEvent) => {
      if (event.event === 'conversations') await sendList(user, event.payload as ConversationList);
    },
  };
  const lists = new ListUpdates(new ConversationListStore(container), (user, list) =>
    fanout.toUser(user, { event: 'conversations', payload: list }),
  );
  const at = () => new Date(0).toISOString();
  const groups = new GroupHandlers({
    records,
    channels: new ChannelDirectory(container),
    creations: new GroupCreationStore(container),
    members,
    fanout,
    lists,
    history: createHistoryStore({ containerClient: container }),
    at,
  });
  const join = (user: string, group: string) =>
    joinGroup(
      { members, fanout, records, groups, lists, at },
      { user, connectionId: `${user}-1`, dialect: 'signalr' },
      group,
    );
  return { groups, join, listed };
}

describe('a group new to my list', () => {
  it('is sent to my connections only once I am its member, whether I joined, was named or was added', async () => {
    const { groups, join, listed } = await chatWithLists();
    expect(
      await groups.run('ann', { type: 'createGroup', group: 'news', kind: 'channel', members: [] }),
    ).toBeUndefined();
    expect(await join('bob', 'news')).toBeUndefined();
    expect(
      await groups.run('ann', { type: 'createGroup', group: 'plans', kind: 'private', members: ['cy'] }),
    ).toBeUndefined();
    expect(
      await groups.run('ann', { type: 'addMember', group: 'plans', user: 'dee', owner: false }),
    ).toBeUndefined();

    const firstListing = (user: string, group: string) =>
      listed.find((s) => s.user === user && s.group === group);
    for (const [user, group] of [
      ['bob', 'news'],
      ['cy', 'plans'],
      ['dee', 'plans'],
    ] as const) {
      expect(firstListing(user, group)).toEqual({ user, group, member: true, inRealtimeGroup: true });
    }
  });
});
