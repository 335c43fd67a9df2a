/**
 * The page's fold of edit and delete records (static/state/message-changes.js, through chat-history.js) and its
 * list of my conversations, run in Node, with the server's fold (src/lib/history/fold.ts) as the reference.
 */
import { describe, expect, it } from 'vitest';
import { type ChatMessage, foldHistory, MessageChanges } from '../../src/lib/history/index.js';

interface Conversation {
  id: string;
  messages: (ChatMessage & { editedAt?: string; deleted?: true })[];
  hasMore: boolean;
  loadingOlder: boolean;
}
interface State {
  conversations: Map<string, Conversation>;
  groups: string[];
  joining: string[];
  listVersion: number;
}
const page = (path: string) => import(new URL(`../../static/${path}`, import.meta.url).href);
const chat: {
  createChatState(me: string): State;
  applyHistory(state: State, history: object): void;
  applyMessage(state: State, message: ChatMessage): { isNew: boolean };
  applyConversationList(state: State, list: object): string[];
  applyWelcome(state: State, welcome: object): void;
} = {
  ...(await page('state/chat-state.js')),
  ...(await page('state/chat-history.js')),
  ...(await page('state/message-changes.js')),
  ...(await page('state/chat-welcome.js')),
};

const C = 'group:crew';
const line = (n: number, extra: Partial<ChatMessage> = {}): ChatMessage => ({
  id: `01J${String(n).padStart(23, '0')}`,
  conversation: C,
  group: 'crew',
  from: 'ann',
  text: `m${n}`,
  sentAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
  ...extra,
});
const target = (n: number) => line(n).id;

describe("the page's fold of edits and deletes", () => {
  const lines = [
    line(1),
    line(2),
    line(3),
    line(4, { kind: 'edit', target: target(1), text: 'm1 fixed' }),
    line(5, { kind: 'edit', target: target(1), text: 'm1 fixed again' }),
    line(6, { kind: 'delete', target: target(2), text: '' }),
    line(7, { kind: 'edit', target: target(3), text: 'not yours', from: 'eve' }),
  ];

  it('shows what the server fold shows when the records come on a newer page than their messages', () => {
    const state = chat.createChatState('ann');
    state.groups = ['crew'];
    chat.applyHistory(state, { conversation: C, messages: lines.slice(3), hasMore: true });
    (state.conversations.get(C) as Conversation).loadingOlder = true;
    chat.applyHistory(state, { conversation: C, messages: lines.slice(0, 3), hasMore: false });
    const shown = (state.conversations.get(C) as Conversation).messages;
    const changes = new MessageChanges();
    const reference = [...foldHistory(lines.slice(3), changes), ...foldHistory(lines.slice(0, 3), changes)];
    expect(shown.map((m) => [m.id, m.text, m.deleted ?? false, m.editedAt ?? null])).toEqual(
      reference.map((m) => [m.id, m.text, m.deleted ?? false, m.editedAt ?? null]),
    );
    expect(shown.map((m) => m.text)).toEqual(['m1 fixed again', '', 'm3']);
    expect((state.conversations.get(C) as Conversation).hasMore).toBe(false);
  });

  it('applies live records to shown messages, in any order, and never counts them as new messages', () => {
    const state = chat.createChatState('bob');
    for (const m of lines.slice(0, 3)) chat.applyMessage(state, m);
    for (const record of [...lines.slice(3)].reverse())
      expect(chat.applyMessage(state, record).isNew).toBe(false);
    expect((state.conversations.get(C) as Conversation).messages.map((m) => m.text)).toEqual([
      'm1 fixed again',
      '',
      'm3',
    ]);
  });

  it('keeps a page of records alone from ending the history', () => {
    const state = chat.createChatState('ann');
    chat.applyHistory(state, { conversation: C, messages: lines.slice(5), hasMore: true });
    expect((state.conversations.get(C) as Conversation).hasMore).toBe(true);
  });
});

describe("the page's list of my conversations", () => {
  it('adds each listed conversation and ignores a list older than the one applied', () => {
    const state = chat.createChatState('ann');
    const dm = { conversation: 'dm:ann:bob', kind: 'dm', with: 'bob' };
    chat.applyConversationList(state, { version: 2, entries: [dm] });
    chat.applyConversationList(state, {
      version: 1,
      entries: [{ conversation: 'dm:ann:cy', kind: 'dm', with: 'cy' }],
    });
    expect([...state.conversations.keys()].sort()).toEqual(['dm:ann:bob', 'room']);
    expect(state.listVersion).toBe(2);
  });

  it('makes me a member of a group new to a live list, not of one the welcome listed without me in it', () => {
    const state = chat.createChatState('bob');
    const group = (name: string) => ({ conversation: `group:${name}`, kind: 'group', group: name });
    // The welcome: the list still holds "old" (a membership that failed half-way), the memberships do not.
    chat.applyWelcome(state, {
      user: 'bob',
      groups: ['crew'],
      conversations: { version: 3, entries: [group('crew'), group('old')] },
    });
    expect(state.groups).toEqual(['crew']);
    state.joining = ['news'];
    // Added to "plans", joined "news" elsewhere: their list comes before their records and notes.
    const admitted = chat.applyConversationList(state, {
      version: 5,
      entries: [group('crew'), group('old'), group('plans'), group('news')],
    });
    expect(admitted).toEqual(['plans', 'news']);
    expect(state.groups).toEqual(['crew', 'news', 'plans']);
    expect(state.joining).toEqual([]);
    // A list that changes something else leaves "old" as it was; one that takes "plans" off and puts it back
    // (removed, then added again) makes me a member again.
    chat.applyConversationList(state, { version: 6, entries: [group('crew'), group('old'), group('news')] });
    state.groups = state.groups.filter((g) => g !== 'plans');
    expect(
      chat.applyConversationList(state, { version: 7, entries: [group('old'), group('plans')] }),
    ).toEqual(['plans']);
    expect(state.groups).toEqual(['crew', 'news', 'plans']);
  });
});
