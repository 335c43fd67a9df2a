/**
 * The chat page's state rules (static/state/chat-state.js and the modules beside it) and its retry backoff
 * (static/link/connection.js), run in Node: they are plain ES modules with no browser or Vue dependency. The
 * page's copy of the server's name and conversation rules has its own test (page-conversation-parity.test.ts).
 */
import { describe, expect, it } from 'vitest';
import type { ChatEventName } from '../../src/lib/chat/index.js';

// The page is plain JavaScript without declarations; load it by URL and describe the parts used here.
interface Message {
  id: string;
  conversation: string;
  from: string;
  text: string;
  sentAt: string;
  group?: string;
  to?: string;
  clientMessageId?: string;
}
interface Conversation {
  id: string;
  messages: Message[];
  pending: { clientMessageId: string; text: string; status: string; error?: string }[];
  notes: { kind: string; user: string }[];
  hasMore: boolean;
  loaded: boolean;
  loadingOlder: boolean;
  unread: number;
  error: string | null;
  closed: boolean;
}
interface State {
  me: string;
  online: string[];
  onlineCount: number;
  onlineNext: string | null;
  onlineSyncing: boolean;
  onlineStopped: boolean;
  groups: string[];
  knownGroups: string[];
  names: Map<string, string>;
  conversations: Map<string, Conversation>;
  activeId: string;
  globalError: string | null;
  creating: { group: string; created: boolean; error: string | null } | null;
}
const page = (path: string) => import(new URL(`../../static/${path}`, import.meta.url).href);
const chat: {
  createChatState(me: string): State;
  mergeMessages(a: Message[], b: Message[]): Message[];
  applyWelcome(state: State, welcome: object): void;
  applyHistory(state: State, history: object): void;
  applyMessage(state: State, message: Message): { isNew: boolean; conversation: Conversation };
  applyPresence(state: State, presence: object): void;
  applyOnline(state: State, page: object): void;
  awaitOnline(state: State): void;
  forgetOnline(state: State): void;
  applySystem(state: State, event: object): void;
  applyError(state: State, error: object): void;
  noteCommand(state: State, command: string, conversation: string): void;
  applyOutboxChange(state: State, entry: object): void;
  openConversation(state: State, id: string): Conversation;
  displayName(state: State, id: string): string;
  directConversation(a: string, b: string): string;
  startJoining(state: State, group: string): void;
  conversationList(state: State): {
    groups: { name: string; member: boolean; joining: boolean }[];
    direct: { name: string; online: boolean }[];
  };
} = {
  ...(await page('state/chat-state.js')),
  ...(await page('state/chat-history.js')),
  ...(await page('state/chat-welcome.js')),
  ...(await page('state/online-list.js')),
  ...(await page('state/system-notes.js')),
  ...(await page('state/display-names.js')),
  ...(await page('conversation.js')),
};
const connection: {
  retryDelay(attempt: number): number;
  RETRY_BASE_MS: number;
  RETRY_MAX_MS: number;
  CHAT_EVENTS: readonly string[];
} = await page('link/connection.js');

/** Every event the server sends, by its protocol's type: the compiler refuses a name missing or extra here. */
const SERVER_EVENTS: Record<ChatEventName, true> = {
  welcome: true,
  message: true,
  ack: true,
  history: true,
  searchResults: true,
  presence: true,
  online: true,
  system: true,
  conversations: true,
  people: true,
  typing: true,
  group: true,
  channels: true,
  error: true,
  read: true,
  seen: true,
  readState: true,
  moderation: true,
  reports: true,
  report: true,
  reportResolved: true,
  audit: true,
  audited: true,
  sanctions: true,
};

describe('the events the page listens for', () => {
  it('are exactly the events the server sends', () => {
    expect([...connection.CHAT_EVENTS].sort()).toEqual(Object.keys(SERVER_EVENTS).sort());
  });
});

const T0 = Date.parse('2026-11-27T10:00:00Z');
/** A message with a ULID-like id that sorts by `n`. */
function msg(n: number, from = 'bob', conversation = 'room', extra: Partial<Message> = {}): Message {
  return {
    id: `01J${String(n).padStart(10, '0')}`,
    conversation,
    from,
    text: `message ${n}`,
    sentAt: new Date(T0 + n * 1000).toISOString(),
    ...extra,
  };
}
const ids = (c: Conversation | undefined) => c?.messages.map((m) => m.text.replace('message ', '')).join(',');

describe('history merging', () => {
  it('merges by id and keeps id order, so a message seen twice is shown once', () => {
    const merged = chat.mergeMessages([msg(1), msg(3)], [msg(3), msg(2), msg(4)]);
    expect(merged.map((m) => m.id)).toEqual([msg(1), msg(2), msg(3), msg(4)].map((m) => m.id));
  });

  it('takes the welcome page, then extends it backwards with older pages until hasMore is false', () => {
    const state = chat.createChatState('ann');
    chat.applyWelcome(state, {
      user: 'ann',
      online: ['bob', 'ann'],
      groups: ['hikers'],
      history: { conversation: 'room', messages: [msg(3), msg(4)], hasMore: true },
    });
    const room = state.conversations.get('room');
    expect(ids(room)).toBe('3,4');
    expect(room?.hasMore).toBe(true);
    expect(state.online).toEqual(['ann', 'bob']);
    expect([...state.conversations.keys()]).toEqual(['room', 'group:hikers']);

    room!.loadingOlder = true;
    chat.applyHistory(state, { conversation: 'room', messages: [msg(2)], hasMore: true });
    expect(ids(room)).toBe('2,3,4');
    expect(room?.hasMore).toBe(true);
    expect(room?.loadingOlder).toBe(false);

    room!.loadingOlder = true;
    chat.applyHistory(state, { conversation: 'room', messages: [], hasMore: false });
    expect(room?.hasMore).toBe(false);
  });

  it('keeps "has more" of older pages when a fresh latest page overlaps what is shown (after a reconnect)', () => {
    const state = chat.createChatState('ann');
    chat.applyHistory(state, { conversation: 'room', messages: [msg(1), msg(2), msg(3)], hasMore: false });
    // The latest page (limit 2) after a reconnect: hasMore is true for it, but everything older is shown.
    chat.applyHistory(state, { conversation: 'room', messages: [msg(3), msg(4)], hasMore: true });
    expect(ids(state.conversations.get('room'))).toBe('1,2,3,4');
    expect(state.conversations.get('room')?.hasMore).toBe(false);
  });

  it('replaces what is shown when the latest page does not reach it, so no hole is hidden', () => {
    const state = chat.createChatState('ann');
    chat.applyHistory(state, { conversation: 'room', messages: [msg(1), msg(2)], hasMore: false });
    chat.applyHistory(state, { conversation: 'room', messages: [msg(8), msg(9)], hasMore: true });
    expect(ids(state.conversations.get('room'))).toBe('8,9');
    expect(state.conversations.get('room')?.hasMore).toBe(true);
  });
});

describe('live events', () => {
  it('counts unread messages of others in conversations that are not open, once per message', () => {
    const state = chat.createChatState('ann');
    const dm = 'dm:ann:bob';
    expect(chat.applyMessage(state, msg(1, 'bob', dm, { to: 'ann' })).isNew).toBe(true);
    expect(chat.applyMessage(state, msg(1, 'bob', dm, { to: 'ann' })).isNew).toBe(false);
    chat.applyMessage(state, msg(2, 'ann', dm, { to: 'bob' }));
    chat.applyMessage(state, msg(3, 'bob', 'room'));
    expect(state.conversations.get(dm)?.unread).toBe(1);
    expect(state.conversations.get('room')?.unread).toBe(0);
    expect(chat.openConversation(state, dm).unread).toBe(0);
  });

  it('shows outbox entries as pending until sent, then the stored message in their place', () => {
    const state = chat.createChatState('ann');
    const entry = (id: string, status: string, extra: object = {}) => ({
      clientMessageId: id,
      conversation: 'room',
      payload: { text: `text ${id}`, clientMessageId: id },
      status,
      attempts: 1,
      error: null,
      message: null,
      ...extra,
    });
    chat.applyOutboxChange(state, entry('c-1', 'sending'));
    chat.applyOutboxChange(state, entry('c-2', 'sending'));
    expect(state.conversations.get('room')?.pending.map((p) => [p.clientMessageId, p.status])).toEqual([
      ['c-1', 'sending'],
      ['c-2', 'sending'],
    ]);
    const stored = msg(1, 'ann', 'room', { clientMessageId: 'c-1' });
    chat.applyOutboxChange(state, entry('c-1', 'sent', { message: stored }));
    chat.applyOutboxChange(state, entry('c-2', 'failed', { error: 'Join the group first' }));
    expect(state.conversations.get('room')?.messages).toEqual([stored]);
    expect(state.conversations.get('room')?.pending).toEqual([
      {
        clientMessageId: 'c-2',
        text: 'text c-2',
        status: 'failed',
        error: 'Join the group first',
        attempts: 1,
      },
    ]);
    chat.applyOutboxChange(state, entry('c-2', 'discarded'));
    expect(state.conversations.get('room')?.pending).toEqual([]);
  });

  it('shows an error where the failing command came from', () => {
    const state = chat.createChatState('ann');
    chat.openConversation(state, 'group:hikers');
    chat.noteCommand(state, 'loadHistory', 'group:hikers');
    chat.applyError(state, {
      code: 'not-a-member',
      message: 'Join group "hikers" first',
      command: 'loadHistory',
    });
    expect(state.conversations.get('group:hikers')?.error).toBe('Join group "hikers" first');

    chat.applyError(state, { code: 'invalidPayload', message: 'Unknown command' });
    expect(state.globalError).toBe('Unknown command');
  });

  it('marks a private group that refused me closed, so the page stops offering to join it', () => {
    const state = chat.createChatState('eve');
    chat.openConversation(state, 'group:team');
    chat.openConversation(state, 'group:crew');
    chat.applyError(state, {
      code: 'private-group',
      message: 'This group is private: only its owners can add you: "team"',
      command: 'joinGroup',
      conversation: 'group:team',
    });
    expect(state.conversations.get('group:team')?.closed).toBe(true);
    // Another refusal, or one that names no conversation, closes nothing.
    chat.applyError(state, {
      code: 'invalid-group',
      message: 'The group name is not valid',
      command: 'joinGroup',
    });
    chat.noteCommand(state, 'joinGroup', 'group:crew');
    chat.applyError(state, { code: 'private-group', message: 'private', command: 'joinGroup' });
    expect(state.conversations.get('group:crew')?.closed).toBe(false);
  });

  it('follows my own group joins and leaves, and notes everyone else’s', () => {
    const state = chat.createChatState('ann');
    chat.applySystem(state, {
      kind: 'groupJoined',
      user: 'ann',
      group: 'hikers',
      at: '2026-11-27T10:00:00Z',
    });
    chat.applySystem(state, {
      kind: 'groupJoined',
      user: 'bob',
      group: 'hikers',
      at: '2026-11-27T10:00:01Z',
    });
    chat.applySystem(state, {
      kind: 'groupJoined',
      user: 'bob',
      group: 'hikers',
      at: '2026-11-27T10:00:01Z',
    });
    expect(state.groups).toEqual(['hikers']);
    expect(state.conversations.get('group:hikers')?.notes.map((n) => n.user)).toEqual(['ann', 'bob']);
    chat.applySystem(state, { kind: 'groupLeft', user: 'ann', group: 'hikers', at: '2026-11-27T10:00:02Z' });
    expect(state.groups).toEqual([]);
    expect(state.knownGroups).toEqual(['hikers']);
    // The chat's own joins and leaves are not noted in the room (the online list shows them).
    chat.applySystem(state, { kind: 'joined', user: 'carol', at: '2026-11-27T10:00:03Z' });
    expect(state.conversations.get('room')?.notes).toEqual([]);
    chat.applyPresence(state, { online: ['carol', 'ann'] });
    expect(state.online).toEqual(['ann', 'carol']);
  });
});

describe('a join under way', () => {
  const listed = (state: State) =>
    chat.conversationList(state).groups.map(({ name, member, joining }) => ({ name, member, joining }));

  it('lists the group as joining, not as left, until my join arrives', () => {
    const state = chat.createChatState('ann');
    chat.startJoining(state, 'hikers');
    chat.openConversation(state, 'group:hikers');
    expect(listed(state)).toEqual([{ name: 'hikers', member: false, joining: true }]);
    chat.applySystem(state, {
      kind: 'groupJoined',
      user: 'ann',
      group: 'hikers',
      at: '2026-12-07T10:00:00Z',
    });
    expect(listed(state)).toEqual([{ name: 'hikers', member: true, joining: false }]);
    // Leaving afterwards shows the group as left, not as a join still under way.
    chat.applySystem(state, { kind: 'groupLeft', user: 'ann', group: 'hikers', at: '2026-12-07T10:00:01Z' });
    expect(listed(state)).toEqual([{ name: 'hikers', member: false, joining: false }]);
  });

  it('ends with a refusal, which shows as the group’s error', () => {
    const state = chat.createChatState('ann');
    chat.startJoining(state, 'secret');
    chat.noteCommand(state, 'joinGroup', 'group:secret');
    chat.openConversation(state, 'group:secret');
    chat.applyError(state, { command: 'joinGroup', code: 'forbidden', message: 'This group is private.' });
    expect(listed(state)).toEqual([{ name: 'secret', member: false, joining: false }]);
    expect(state.conversations.get('group:secret')?.error).toBe('This group is private.');
  });

  it('keeps a refused creation for the form that sent it, saying in local time when the next is possible', () => {
    const state = chat.createChatState('ann');
    state.creating = { group: 'spam21', created: false, error: null };
    const until = '2026-12-09T10:00:00.000Z';
    chat.applyError(state, {
      command: 'createGroup',
      code: 'too-many-groups-created',
      message: `You have created as many groups …: the next one is possible at ${until}`,
      conversation: 'group:spam21',
      until,
    });
    const shown = state.creating?.error ?? '';
    expect(shown).toContain('as many groups and channels as allowed in 24 hours');
    expect(shown).toContain(`from ${new Date(until).toLocaleString()}`);
    // Nothing was opened for it, and nothing else shows the refusal.
    expect(state.conversations.has('group:spam21')).toBe(false);
    expect(state.globalError).toBeNull();
    // Any other refusal of a creation is kept as the server says it.
    chat.applyError(state, {
      command: 'createGroup',
      code: 'group-exists',
      message: 'Taken',
      conversation: 'group:spam21',
    });
    expect(state.creating?.error).toBe('Taken');
  });

  it('with two joins under way, a refusal of the first shows on the first, and the second is still joining', () => {
    const state = chat.createChatState('ann');
    for (const group of ['hikers', 'climbers']) {
      chat.startJoining(state, group);
      chat.openConversation(state, `group:${group}`);
      chat.noteCommand(state, 'joinGroup', `group:${group}`);
    }
    chat.applyError(state, {
      command: 'joinGroup',
      code: 'private-group',
      message: 'This group is private.',
      conversation: 'group:hikers',
    });
    expect(state.conversations.get('group:hikers')?.error).toBe('This group is private.');
    expect(state.conversations.get('group:climbers')?.error).toBeNull();
    expect(listed(state)).toEqual([
      { name: 'climbers', member: false, joining: true },
      { name: 'hikers', member: false, joining: false },
    ]);
    // An error about another command in a group being joined leaves the join under way.
    chat.noteCommand(state, 'listMembers', 'group:hikers');
    chat.applyError(state, {
      command: 'listMembers',
      code: 'not-a-member',
      message: 'Join first.',
      conversation: 'group:climbers',
    });
    expect(state.conversations.get('group:climbers')?.error).toBe('Join first.');
    expect(listed(state)).toContainEqual({ name: 'climbers', member: false, joining: true });
  });

  it('falls back to the conversation that issued the command when it does not have the one named', () => {
    const state = chat.createChatState('ann');
    chat.openConversation(state, 'group:hikers');
    chat.noteCommand(state, 'sendMessage', 'group:hikers');
    chat.applyError(state, { command: 'sendMessage', message: 'refused', conversation: 'dm:ann:zed' });
    expect(state.conversations.get('group:hikers')?.error).toBe('refused');
    expect(state.conversations.has('dm:ann:zed')).toBe(false);
    expect(state.globalError).toBeNull();
  });

  it('ends with a welcome, whose groups hold: a join lost with the link can be asked for again', () => {
    const state = chat.createChatState('ann');
    chat.startJoining(state, 'hikers');
    chat.startJoining(state, 'climbers');
    chat.openConversation(state, 'group:hikers');
    chat.openConversation(state, 'group:climbers');
    chat.applyWelcome(state, {
      user: 'ann',
      groups: ['climbers'],
      online: ['ann'],
      onlineCount: 1,
      onlineAt: 1,
    });
    expect(listed(state)).toEqual([
      { name: 'climbers', member: true, joining: false },
      { name: 'hikers', member: false, joining: false },
    ]);
  });
});

describe('the online list', () => {
  const notes = (state: State) => state.conversations.get('room')?.notes.map((n) => `${n.kind} ${n.user}`);

  it('takes the welcome page and count, keeps deltas that arrive before it, and applies them on top', () => {
    const state = chat.createChatState('ann');
    // The joiner's own delta (and others') can overtake the welcome.
    chat.applyPresence(state, { joined: ['ann', 'dan'], left: [], count: 3, at: 20 });
    expect(state.online).toEqual([]);
    chat.applyWelcome(state, { user: 'ann', online: ['ann', 'bob'], onlineCount: 2, onlineAt: 10 });
    expect(state.online).toEqual(['ann', 'bob', 'dan']);
    expect(state.onlineCount).toBe(3); // the delta's count is newer than the welcome's
    expect(notes(state)).toEqual([]); // the room notes no joins: the online list shows them
  });

  it('applies joins and leaves as set operations, and only to the part of the list loaded so far', () => {
    const state = chat.createChatState('ann');
    chat.applyWelcome(state, {
      user: 'ann',
      online: ['ann', 'bob', 'cat'],
      onlineCount: 5,
      onlineNext: 'cat',
      onlineAt: 10,
    });
    chat.applyPresence(state, { joined: ['bea', 'zed'], left: ['cat', 'nobody'], count: 6, at: 11 });
    // zed sorts after the cursor: the page that holds it brings it.
    expect(state.online).toEqual(['ann', 'bea', 'bob']);
    expect(state.onlineCount).toBe(6);
    // The same delta again (an overlap with a snapshot) changes nothing; an older count is ignored.
    chat.applyPresence(state, { joined: ['bea'], left: ['cat'], count: 4, at: 9 });
    expect(state.online).toEqual(['ann', 'bea', 'bob']);
    expect(state.onlineCount).toBe(6);
    expect(notes(state)).toEqual([]);
  });

  it('pages further on demand and keeps deltas that arrive while a page is on its way', () => {
    const state = chat.createChatState('ann');
    chat.applyWelcome(state, {
      user: 'ann',
      online: ['ann', 'bob'],
      onlineCount: 4,
      onlineNext: 'bob',
      onlineAt: 1,
    });
    chat.awaitOnline(state); // listOnline { after: 'bob' } sent
    chat.applyPresence(state, { joined: ['eve'], left: ['cat'], count: 4, at: 3 });
    chat.applyOnline(state, { users: ['cat', 'dan'], count: 4, after: 'bob', at: 2 });
    expect(state.online).toEqual(['ann', 'bob', 'dan', 'eve']);
    expect(state.onlineNext).toBeNull();
    expect(state.onlineSyncing).toBe(false);
    // An answer for a cursor the list no longer waits for is dropped.
    chat.applyOnline(state, { users: ['old'], count: 9, after: 'x', at: 9 });
    expect(state.online).toEqual(['ann', 'bob', 'dan', 'eve']);
    // A snapshot (no `after`) replaces the list: a resync after a reconnect.
    chat.awaitOnline(state);
    chat.applyOnline(state, { users: ['ann', 'fay'], count: 2, at: 5 });
    expect(state).toMatchObject({ online: ['ann', 'fay'], onlineCount: 2, onlineNext: null });
  });

  it("keeps each user's latest change when deltas from two instances arrive out of order", () => {
    const state = chat.createChatState('ann');
    chat.applyWelcome(state, { user: 'ann', online: ['ann', 'bob'], onlineCount: 2, onlineAt: 10 });
    // bob left (instance B, at 30); the join instance A sent earlier (at 20) arrives after it.
    chat.applyPresence(state, { joined: [], left: ['bob'], count: 1, at: 30 });
    chat.applyPresence(state, { joined: ['bob', 'cat'], left: [], count: 3, at: 20 });
    expect(state.online).toEqual(['ann', 'cat']);
    expect(state.onlineCount).toBe(2); // the newer count stands, raised only to the people listed
    // A delta older than a snapshot is in the snapshot already.
    chat.awaitOnline(state);
    chat.applyOnline(state, { users: ['ann', 'cat'], count: 2, at: 40 });
    chat.applyPresence(state, { joined: ['dan'], left: ['cat'], count: 2, at: 35 });
    expect(state.online).toEqual(['ann', 'cat']);
    chat.applyPresence(state, { joined: ['dan'], left: [], count: 3, at: 45 });
    expect(state.online).toEqual(['ann', 'cat', 'dan']);
  });

  it('forgets the list once the link has stopped for good, ignoring deltas, until a welcome takes it again', () => {
    const state = chat.createChatState('ann');
    chat.applyWelcome(state, {
      user: 'ann',
      online: ['ann', 'bob'],
      onlineCount: 2,
      onlineNext: 'bob',
      onlineAt: 5,
    });
    chat.forgetOnline(state);
    expect(state).toMatchObject({ online: [], onlineCount: 0, onlineNext: null, onlineStopped: true });
    chat.applyPresence(state, { joined: ['cat'], left: [], count: 3, at: 6 });
    expect(state.online).toEqual([]);
    chat.applyWelcome(state, { user: 'ann', online: ['ann', 'dan'], onlineCount: 2, onlineAt: 9 });
    expect(state).toMatchObject({ online: ['ann', 'dan'], onlineCount: 2, onlineStopped: false });
  });

  it('never counts fewer than it lists', () => {
    const state = chat.createChatState('ann');
    chat.applyWelcome(state, { user: 'ann', online: ['ann', 'bob'], onlineCount: 2, onlineAt: 5 });
    chat.applyPresence(state, { joined: ['cat'], left: [], count: 1, at: 6 });
    expect(state.onlineCount).toBe(3);
  });
});

describe('display names (with sign-in, users are ids)', () => {
  const ann1 = '0f8fad5bd9cb469fa16570867728950e';
  const ann2 = '7c9e6679742540de944be07fc1f90ae7';
  const bob = '16fd2706-8baf-433b-82eb-8c7fada847da'.replaceAll('-', '');
  const notes = (state: State) =>
    state.conversations.get('room')?.notes.map((n) => `${n.kind} ${chat.displayName(state, n.user)}`);

  it('learns names from welcome, online pages, presence deltas, messages, history and group notes, and shows ids as they are without one', () => {
    const state = chat.createChatState(ann1);
    chat.applyWelcome(state, {
      user: ann1,
      name: 'Ann',
      online: [ann1, bob],
      names: { [bob]: 'Bob' },
      onlineCount: 4,
      onlineNext: bob,
      onlineAt: 1,
    });
    expect(chat.displayName(state, ann1)).toBe('Ann');
    expect(chat.displayName(state, bob)).toBe('Bob');
    expect(chat.displayName(state, 'carol')).toBe('carol');
    chat.awaitOnline(state);
    chat.applyOnline(state, {
      users: ['c0de', 'd00d'],
      names: { c0de: 'Cody' },
      count: 4,
      after: bob,
      at: 2,
    });
    expect(chat.displayName(state, 'c0de')).toBe('Cody');
    expect(chat.displayName(state, 'd00d')).toBe('d00d');
    chat.applyMessage(state, msg(1, 'f00d', 'room', { fromName: 'Finn' } as Partial<Message>));
    expect(chat.displayName(state, 'f00d')).toBe('Finn');
    chat.applyHistory(state, {
      conversation: 'room',
      messages: [msg(2, 'beef', 'room', { fromName: 'Bea' } as Partial<Message>)],
      hasMore: false,
    });
    expect(chat.displayName(state, 'beef')).toBe('Bea');
    chat.applySystem(state, {
      kind: 'groupJoined',
      user: 'cafe',
      name: 'Cat',
      group: 'ops',
      at: '2026-11-27T10:00:00Z',
    });
    expect(chat.displayName(state, 'cafe')).toBe('Cat');
    chat.applyPresence(state, {
      joined: ['dead', 'x'],
      left: [],
      names: { dead: 'Dee', x: 42 as unknown as string },
      count: 6,
      at: 3,
    });
    expect(chat.displayName(state, 'dead')).toBe('Dee');
    expect(chat.displayName(state, 'x')).toBe('x');
  });

  it('learns names from presence deltas and notes none of their joins and leaves in the room', () => {
    const state = chat.createChatState(ann1);
    chat.applyWelcome(state, {
      user: ann1,
      name: 'Ann',
      online: [ann1, bob],
      names: { [bob]: 'Bob' },
      onlineCount: 2,
      onlineAt: 1,
    });
    chat.applyPresence(state, { joined: ['c0de'], left: [bob], names: { c0de: 'Cody' }, count: 2, at: 2 });
    expect(state.online).toEqual([ann1, 'c0de'].sort());
    expect(notes(state)).toEqual([]);
    expect([chat.displayName(state, 'c0de'), chat.displayName(state, bob)]).toEqual(['Cody', 'Bob']);
  });

  it('tells two people with the same name apart by the start of their ids', () => {
    const state = chat.createChatState(ann1);
    chat.applyWelcome(state, { user: ann1, name: 'Ann', online: [ann1], onlineCount: 1, onlineAt: 1 });
    expect(chat.displayName(state, ann1)).toBe('Ann');
    chat.applyPresence(state, { joined: [ann2], left: [], names: { [ann2]: 'Ann' }, count: 2, at: 2 });
    expect(state.online).toEqual([ann1, ann2]);
    expect(chat.displayName(state, ann1)).toBe('Ann (0f8fad)');
    expect(chat.displayName(state, ann2)).toBe('Ann (7c9e66)');
    expect(notes(state)).toEqual([]);
  });
});

describe('names an object prototype knows', () => {
  /** Every property of `Object.prototype`, `__proto__` and `constructor` among them. */
  const PROTO_NAMES = Object.getOwnPropertyNames(Object.prototype);

  it('covers the names that broke the page', () => {
    expect(PROTO_NAMES).toEqual(
      expect.arrayContaining(['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty']),
    );
  });

  it.each(PROTO_NAMES)('keeps %j as a user id, a display name and a group name like any other', (name) => {
    const state = chat.createChatState('ann');
    // Wire objects come from JSON.parse, which makes `__proto__` an own property like any other key.
    const names = JSON.parse(
      JSON.stringify({ ann: 'Ann' }).replace('}', `,${JSON.stringify(name)}:"${name}"}`),
    );
    chat.applyWelcome(state, {
      user: 'ann',
      name: 'Ann',
      online: ['ann', name],
      names,
      onlineCount: 2,
      onlineAt: 1,
      groups: [name],
      history: {
        conversation: 'room',
        messages: [msg(1, name, 'room', { fromName: name } as Partial<Message>)],
        hasMore: false,
      },
    });
    expect(state.online).toEqual(['ann', name].sort((a, b) => a.localeCompare(b)));
    expect(state.onlineCount).toBe(2);
    expect(chat.displayName(state, name)).toBe(name);
    expect(chat.displayName(state, 'ann')).toBe('Ann');
    expect(ids(state.conversations.get('room'))).toBe('1');

    // A display name that is a prototype name, for a user whose id is not.
    chat.applyPresence(state, {
      joined: ['c0de'],
      left: [],
      names: JSON.parse(`{"c0de":${JSON.stringify(name)}}`),
      count: 3,
      at: 2,
    });
    // Two people now show the same name, so both get the start of their id.
    expect(chat.displayName(state, 'c0de')).toBe(`${name} (c0de)`);
    expect(chat.displayName(state, name)).toBe(`${name} (${name.slice(0, 6)})`);
    expect(typeof chat.displayName(state, 'carol')).toBe('string');

    // Messages from, to and in a group of that name.
    const dm = chat.directConversation('ann', name);
    const group = `group:${name}`;
    chat.applyMessage(state, msg(2, name, dm, { to: 'ann' }));
    chat.applyMessage(state, msg(3, name, group, { group: name }));
    chat.applySystem(state, {
      kind: 'groupJoined',
      user: name,
      name,
      group: name,
      at: '2026-11-27T10:00:03Z',
    });
    expect(ids(state.conversations.get(dm))).toBe('2');
    expect(ids(state.conversations.get(group))).toBe('3');
    expect(state.conversations.get(group)?.notes.map((n) => n.user)).toEqual([name]);
    expect(state.groups).toEqual([name]);
    expect(state.knownGroups).toEqual([name]);

    // The conversation list, with prototype names parsed like any other name.
    const list = chat.conversationList(state);
    expect(list.groups.map((g) => [g.name, g.member])).toEqual([[name, true]]);
    expect(list.direct.map((d) => [d.name, d.online])).toEqual([[name, true]]);

    // An error for a command named like a prototype property lands page-wide, not in a made-up conversation.
    chat.applyError(state, { command: name, message: 'refused' });
    expect(state.globalError).toBe('refused');
    chat.noteCommand(state, name, dm);
    chat.applyError(state, { command: name, message: 'refused here' });
    expect(state.conversations.get(dm)?.error).toBe('refused here');

    // The user leaves; the list and the names of everyone else are intact, and the room still has its message.
    chat.applyPresence(state, { joined: [], left: [name], count: 2, at: 4 });
    expect(state.online).toEqual(['ann', 'c0de']);
    expect(chat.displayName(state, 'ann')).toBe('Ann');
    expect(ids(state.conversations.get('room'))).toBe('1');
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
    expect(Object.prototype.toString.call({})).toBe('[object Object]');
  });
});

describe('reconnect backoff', () => {
  it('doubles from the base, is capped, and stays within ±25% jitter', () => {
    const { retryDelay, RETRY_BASE_MS, RETRY_MAX_MS } = connection;
    for (let attempt = 1; attempt <= 12; attempt++) {
      const nominal = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (attempt - 1));
      for (let i = 0; i < 20; i++) {
        const delay = retryDelay(attempt);
        expect(delay).toBeGreaterThanOrEqual(Math.floor(nominal * 0.75));
        expect(delay).toBeLessThanOrEqual(Math.ceil(nominal * 1.25));
      }
    }
  });
});
