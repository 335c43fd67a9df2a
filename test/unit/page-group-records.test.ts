import { describe, expect, it } from 'vitest';

// The page is plain JavaScript without declarations: loaded by URL, the parts used here described.
interface Record_ {
  group: string;
  kind: string;
  title: string;
  owners: string[];
  members: string[];
  version: number;
}
interface State {
  groups: string[];
  groupRecords: Map<string, Record_>;
  channels: { channels: { group: string; title: string }[]; next?: string } | null;
  conversations: Map<string, { notes: { kind: string }[] }>;
}
const page = (path: string) => import(new URL(`../../static/${path}`, import.meta.url).href);
const { createChatState } = (await page('state/chat-state.js')) as { createChatState(me: string): State };
const { applySystem } = (await page('state/system-notes.js')) as {
  applySystem(state: State, event: object): void;
};
const { applyChannels, applyGroupRecord, forgetGroupRecord, typedMembers } = (await page(
  'state/group-records.js',
)) as {
  applyGroupRecord(state: State, record: Record_): boolean;
  applyChannels(state: State, page: object, more: boolean): void;
  forgetGroupRecord(state: State, group: string): void;
  typedMembers(text: string): string[];
};

const record = (version: number, members: string[], kind: 'private' | 'channel' = 'private') => ({
  group: 'team',
  kind,
  title: 'Team',
  owners: ['ann'],
  members,
  version,
});

describe("the page's group records", () => {
  it('keeps the newest version and makes me a member when a private record lists me', () => {
    const state = createChatState('bob');
    expect(applyGroupRecord(state, record(2, ['ann', 'bob']))).toBe(true);
    expect(state.groups).toEqual(['team']);
    expect(applyGroupRecord(state, record(1, ['ann']))).toBe(false);
    expect(state.groupRecords.get('team')?.version).toBe(2);
    // A channel's record says nothing of who joined it.
    const eve = createChatState('eve');
    expect(applyGroupRecord(eve, { ...record(1, [], 'channel'), group: 'lobby' })).toBe(false);
    expect(eve.groups).toEqual([]);
  });

  it('takes the group away when I am removed, with a note in the group', () => {
    const state = createChatState('bob');
    applyGroupRecord(state, record(2, ['ann', 'bob']));
    applySystem(state, { kind: 'memberRemoved', user: 'bob', group: 'team', at: '2026-01-01T00:00:00Z' });
    forgetGroupRecord(state, 'team');
    expect(state.groups).toEqual([]);
    expect(state.groupRecords.has('team')).toBe(false);
    expect(state.conversations.get('group:team')?.notes.map((n: { kind: string }) => n.kind)).toEqual([
      'memberRemoved',
    ]);
  });

  it('adds a further page of channels to the first, and starts again with a first page', () => {
    const state = createChatState('bob');
    applyChannels(state, { channels: [{ group: 'a', title: 'a' }], next: 'x' }, false);
    applyChannels(state, { channels: [{ group: 'b', title: 'b' }] }, true);
    expect(state.channels).toEqual({
      channels: [
        { group: 'a', title: 'a' },
        { group: 'b', title: 'b' },
      ],
      next: undefined,
    });
    applyChannels(state, { channels: [] }, false);
    expect(state.channels?.channels).toEqual([]);
  });

  it('shows a listed channel with the title and topic of its newest record', () => {
    const state = createChatState('ann');
    applyChannels(
      state,
      {
        channels: [
          { group: 'team', title: 'Team' },
          { group: 'b', title: 'b' },
        ],
      },
      false,
    );
    applyGroupRecord(state, {
      ...record(3, [], 'channel'),
      title: 'The team',
      topic: 'Standup at 9',
    } as Record_);
    expect(state.channels?.channels).toEqual([
      { group: 'team', title: 'The team', topic: 'Standup at 9' },
      { group: 'b', title: 'b' },
    ]);
  });

  it('closes a private group I leave: its messages go, and it is not offered to join again', () => {
    const state = createChatState('bob');
    type Shown = { messages: unknown[]; closed: boolean; loaded: boolean };
    applyGroupRecord(state, record(2, ['ann', 'bob']));
    applySystem(state, { kind: 'memberAdded', user: 'bob', group: 'team', at: '2025-12-31T00:00:00Z' });
    const group = state.conversations.get('group:team') as Shown | undefined;
    if (!group) throw new Error('no conversation for the group');
    group.messages = [{ id: '01', text: 'secret' }];
    group.loaded = true;
    applySystem(state, { kind: 'groupLeft', user: 'bob', group: 'team', at: '2026-01-01T00:00:00Z' });
    expect(group).toMatchObject({ messages: [], loaded: false, closed: true });
    // A channel I leave stays readable.
    applyGroupRecord(state, { ...record(1, [], 'channel'), group: 'lobby' });
    applySystem(state, { kind: 'groupJoined', user: 'bob', group: 'lobby', at: '2026-01-01T00:00:01Z' });
    const lobby = state.conversations.get('group:lobby') as Shown | undefined;
    if (!lobby) throw new Error('no conversation for the channel');
    lobby.messages = [{ id: '02', text: 'open' }];
    applySystem(state, { kind: 'groupLeft', user: 'bob', group: 'lobby', at: '2026-01-01T00:00:02Z' });
    expect(lobby).toMatchObject({ messages: [{ id: '02', text: 'open' }], closed: false });
  });

  it('reads typed members separated by commas or lines, without blanks or repeats', () => {
    expect(typedMembers(' ann, bob ,,\ncy\nann ')).toEqual(['ann', 'bob', 'cy']);
  });
});

describe('the people search pages (state/people.js)', async () => {
  interface Page {
    query: string;
    people: { user: string }[];
    more: boolean;
    next?: string;
    after?: string;
  }
  const { withPeoplePage } = (await page('state/people.js')) as {
    withPeoplePage(shown: Page | null, page: Page): Page;
  };
  const person = (user: string) => ({ user, lastSeen: '2026-01-01T00:00:00.000Z' });

  it('adds a next page to the people shown for the same query, and starts over for another', () => {
    const first = withPeoplePage(null, {
      query: 'an',
      people: [person('ann'), person('anna')],
      more: true,
      next: 'n1',
    });
    const second = withPeoplePage(first, {
      query: 'an',
      people: [person('anna'), person('anne')],
      more: false,
      after: 'n1',
    });
    expect(second.people.map((p) => p.user)).toEqual(['ann', 'anna', 'anne']);
    expect(second.next).toBeUndefined();
    const other = withPeoplePage(second, { query: 'bo', people: [person('bob')], more: false });
    expect(other.people.map((p) => p.user)).toEqual(['bob']);
    // A later page of another query does not join the shown one.
    const stray = withPeoplePage(first, { query: 'x', people: [person('xi')], more: false, after: 'n9' });
    expect(stray.people.map((p) => p.user)).toEqual(['xi']);
  });
});
