/**
 * The page's fold of reactions and its quotes of replies (static/state/reactions.js, through chat-history.js),
 * run in Node, with the server's fold (src/lib/history/reactions.ts) as the reference.
 */
import { describe, expect, it } from 'vitest';
import {
  type ChatMessage,
  type FoldedMessage,
  foldHistory,
  MessageChanges,
  REACTION_DEFAULTS,
  REACTION_EMOJI,
} from '../../src/lib/history/index.js';

type Shown = ChatMessage & { reactions?: { emoji: string; users: string[] }[]; deleted?: true };
interface Conversation {
  messages: Shown[];
  loadingOlder: boolean;
}
interface State {
  conversations: Map<string, Conversation>;
  groups: string[];
}
const page = (path: string) => import(new URL(`../../static/${path}`, import.meta.url).href);
const chat: {
  createChatState(
    me: string,
    limits?: { maxReactionsPerMessage?: number; replyExcerptLength?: number },
  ): State;
  applyHistory(state: State, history: object): void;
  applyMessage(state: State, message: ChatMessage): { isNew: boolean };
  reactionToggle(me: string, message: Shown, emoji: string): { command: string; payload: object };
  REACTION_EMOJI: readonly string[];
  MAX_REACTIONS_PER_MESSAGE: number;
} = {
  ...(await page('state/chat-state.js')),
  ...(await page('state/chat-history.js')),
  ...(await page('state/reactions.js')),
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
const id = (n: number) => line(n).id;
const react = (n: number, from: string, target: number, emoji: string, kind: 'react' | 'unreact' = 'react') =>
  line(n, { from, kind, target: id(target), text: emoji });
const messagesOf = (state: State) => (state.conversations.get(C) as Conversation).messages;

const lines = [
  line(1),
  line(2),
  line(3, { from: 'bob', replyTo: id(2), quote: { from: 'ann', text: 'm2' } }),
  line(4, { from: 'cy', replyTo: id(1), quote: { from: 'ann', text: 'm1' } }),
  react(5, 'bob', 1, '👍'),
  react(6, '__proto__', 1, '👍'),
  react(7, 'bob', 1, '😂'),
  react(8, 'bob', 1, '👍', 'unreact'),
  react(9, 'cy', 2, '🎉'),
  line(10, { kind: 'delete', target: id(2), text: '' }),
  react(11, 'cy', 1, '🦄'),
  line(12, { kind: 'edit', target: id(1), text: 'm1\n\nedited' }),
];

describe("the page's fold of reactions", () => {
  it('offers the server’s emoji set and limit', () => {
    expect(chat.REACTION_EMOJI).toEqual(REACTION_EMOJI);
    expect(chat.MAX_REACTIONS_PER_MESSAGE).toBe(REACTION_DEFAULTS.maxReactionsPerMessage);
  });

  it('shows what the server fold shows when the records come on a newer page than their messages', () => {
    const state = chat.createChatState('ann');
    state.groups = ['crew'];
    chat.applyHistory(state, { conversation: C, messages: lines.slice(4), hasMore: true });
    (state.conversations.get(C) as Conversation).loadingOlder = true;
    chat.applyHistory(state, { conversation: C, messages: lines.slice(0, 4), hasMore: false });
    const changes = new MessageChanges();
    const reference = [...foldHistory(lines.slice(4), changes), ...foldHistory(lines.slice(0, 4), changes)];
    const shown = messagesOf(state);
    const seen = (m: Shown | FoldedMessage) => [m.id, m.text, m.reactions ?? [], m.quote ?? null];
    expect(shown.map(seen)).toEqual(reference.map(seen));
    expect(shown[0]?.reactions).toEqual([
      { emoji: '👍', users: ['__proto__'] },
      { emoji: '😂', users: ['bob'] },
    ]);
    // The reply to the deleted message keeps its place, its quote emptied.
    expect(shown[2]?.quote).toEqual({ from: 'ann', text: '', deleted: true });
    // The reply to the edited message quotes its new text.
    expect(shown[3]?.quote).toEqual({ from: 'ann', text: 'm1 edited' });
  });

  it('applies live records to shown messages in any order, never as new messages', () => {
    const state = chat.createChatState('bob');
    for (const m of lines.slice(0, 4)) chat.applyMessage(state, m);
    for (const record of [...lines.slice(4)].reverse())
      expect(chat.applyMessage(state, record).isNew).toBe(false);
    expect(messagesOf(state).map((m) => m.reactions ?? [])).toEqual([
      [
        { emoji: '👍', users: ['__proto__'] },
        { emoji: '😂', users: ['bob'] },
      ],
      [],
      [],
      [],
    ]);
    expect(messagesOf(state)[3]?.quote?.text).toBe('m1 edited');
    // A copy of a message delivered again keeps its reactions.
    chat.applyMessage(state, line(1));
    expect(messagesOf(state)[0]?.reactions).toHaveLength(2);
  });

  it('folds with the limits of the page configuration: fewer distinct reactions, shorter edited quotes', () => {
    const state = chat.createChatState('bob', { maxReactionsPerMessage: 1, replyExcerptLength: 4 });
    for (const m of lines) chat.applyMessage(state, m);
    const changes = new MessageChanges({ maxReactionsPerMessage: 1, excerptLength: 4 });
    const reference = foldHistory(lines, changes);
    const seen = (m: Shown | FoldedMessage) => [m.id, m.reactions ?? [], m.quote ?? null];
    expect(messagesOf(state).map(seen)).toEqual(reference.map(seen));
    // One of the two emoji on the first message (tied at one user each: the first of the set), and "m1 e…".
    expect(messagesOf(state)[0]?.reactions).toEqual([{ emoji: '👍', users: ['__proto__'] }]);
    expect(messagesOf(state)[3]?.quote?.text).toBe('m1…');
  });

  it('toggles: react when I have not, unreact when I have', () => {
    const state = chat.createChatState('bob');
    for (const m of lines.slice(0, 10)) chat.applyMessage(state, m);
    const first = messagesOf(state)[0] as Shown;
    expect(chat.reactionToggle('bob', first, '😂')).toMatchObject({
      command: 'unreact',
      payload: { conversation: C, messageId: id(1), emoji: '😂' },
    });
    expect(chat.reactionToggle('bob', first, '👍').command).toBe('react');
  });
});
