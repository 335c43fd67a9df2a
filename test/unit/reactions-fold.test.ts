import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/lib/chat/commands.js';
import {
  type ChatMessage,
  excerptOf,
  foldHistory,
  MessageChanges,
  REACTION_EMOJI,
  Reactions,
} from '../../src/lib/history/index.js';

// Fixed ids: they sort in the order of their last characters.
const id = (n: number) => `01JDZ5Q8W3C0M6T5V4P2N1K9${String(n).padStart(2, '0')}`;
const M1 = id(1);
const M2 = id(2);

const message = (n: number, from: string, text: string): ChatMessage => ({
  id: id(n),
  conversation: 'room',
  from,
  text,
  sentAt: '2026-12-07T03:00:00.000Z',
});
const record = (
  n: number,
  from: string,
  kind: 'react' | 'unreact',
  target: string,
  emoji: string,
): ChatMessage => ({ ...message(n, from, emoji), kind, target });

/** Every order of `items` (for the few records of a test). */
function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [items.slice()];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
  );
}

const reactionsOf = (lines: ChatMessage[], target: string) => {
  const reactions = new Reactions();
  reactions.add(lines);
  return reactions.of(target);
};

describe('folding reactions', () => {
  const records = [
    record(10, 'ann', 'react', M1, '👍'),
    record(11, 'bob', 'react', M1, '👍'),
    record(12, 'ann', 'react', M1, '🎉'),
    record(13, 'bob', 'unreact', M1, '👍'),
    record(14, 'cy', 'react', M2, '❤️'),
  ];

  it('counts who reacted with what, per message, in the order of the emoji set', () => {
    expect(reactionsOf(records, M1)).toEqual([
      { emoji: '👍', users: ['ann'] },
      { emoji: '🎉', users: ['ann'] },
    ]);
    expect(reactionsOf(records, M2)).toEqual([{ emoji: '❤️', users: ['cy'] }]);
    expect(reactionsOf(records, id(3))).toEqual([]);
  });

  it('gives the same answer whatever order the records arrive in (the newest record per user and emoji wins)', () => {
    const expected = reactionsOf(records.slice(0, 4), M1);
    for (const order of permutations(records.slice(0, 4))) expect(reactionsOf(order, M1)).toEqual(expected);
  });

  it('takes a reaction back with unreact, and gives it again with a later react', () => {
    const lines = [
      record(20, 'dee', 'react', M1, '😂'),
      record(21, 'dee', 'unreact', M1, '😂'),
      record(22, 'eli', 'react', M1, '😂'),
    ];
    expect(reactionsOf(lines, M1)).toEqual([{ emoji: '😂', users: ['eli'] }]);
    expect(reactionsOf([...lines, record(23, 'dee', 'react', M1, '😂')], M1)).toEqual([
      { emoji: '😂', users: ['eli', 'dee'] },
    ]);
  });

  it('counts one reaction per user and emoji, however often it is sent', () => {
    const lines = [1, 2, 3].map((n) => record(30 + n, 'fay', 'react', M1, '😮'));
    expect(reactionsOf(lines, M1)).toEqual([{ emoji: '😮', users: ['fay'] }]);
  });

  it('ignores an emoji outside the set, and keys users safely (a user called __proto__ counts)', () => {
    const lines = [record(40, '__proto__', 'react', M1, '😢'), record(41, 'gus', 'react', M1, '🦄')];
    expect(reactionsOf(lines, M1)).toEqual([{ emoji: '😢', users: ['__proto__'] }]);
  });

  it('keeps the most used emoji when a message has more distinct ones than the limit', () => {
    const reactions = new Reactions({ maxReactionsPerMessage: 2 });
    reactions.add([
      record(50, 'ann', 'react', M1, '👍'),
      record(51, 'ann', 'react', M1, '😢'),
      record(52, 'bob', 'react', M1, '😢'),
      record(53, 'bob', 'react', M1, '🎉'),
    ]);
    // 😢 has two; 👍 and 🎉 tie at one, and 👍 comes first in the set.
    expect(reactions.of(M1)).toEqual([
      { emoji: '👍', users: ['ann'] },
      { emoji: '😢', users: ['ann', 'bob'] },
    ]);
  });

  it('applies records of a newer page to messages of an older one, as a reload reads them', () => {
    const older = [message(1, 'ann', 'first'), message(2, 'bob', 'second')];
    const newer = [
      record(60, 'bob', 'react', M1, '👍'),
      message(61, 'cy', 'third'),
      record(62, 'cy', 'react', M1, '👍'),
      record(63, 'bob', 'unreact', M1, '👍'),
      record(64, 'ann', 'react', M2, '❤️'),
    ];
    const changes = new MessageChanges();
    const shownNewer = foldHistory(newer, changes);
    const shown = [...foldHistory(older, changes), ...shownNewer];
    expect(shown.map((m) => [m.text, m.reactions ?? []])).toEqual([
      ['first', [{ emoji: '👍', users: ['cy'] }]],
      ['second', [{ emoji: '❤️', users: ['ann'] }]],
      ['third', []],
    ]);
    // The same as folding the whole history in one page.
    expect(foldHistory([...older, ...newer])).toEqual(shown);
  });

  it('shows no reactions on a deleted message, and leaves edits and deletes as they were', () => {
    const lines = [
      message(1, 'ann', 'gone soon'),
      message(2, 'ann', 'typo'),
      record(70, 'bob', 'react', M1, '👍'),
      record(71, 'bob', 'react', M2, '👍'),
      { ...message(72, 'ann', ''), kind: 'delete' as const, target: M1 },
      { ...message(73, 'ann', 'typo fixed'), kind: 'edit' as const, target: M2 },
    ];
    expect(foldHistory(lines).map((m) => [m.text, m.deleted ?? false, m.reactions?.length ?? 0])).toEqual([
      ['', true, 0],
      ['typo fixed', false, 1],
    ]);
  });

  it("shows a reply's quote as its message reads now: edited, or deleted", () => {
    const reply = (n: number, target: string, text: string): ChatMessage => ({
      ...message(n, 'bob', `re ${n}`),
      replyTo: target,
      quote: { from: 'ann', text },
    });
    const lines = [
      message(1, 'ann', 'first'),
      message(2, 'ann', 'second'),
      reply(3, M1, 'first'),
      reply(4, M2, 'second'),
      { ...message(80, 'ann', 'first,  better'), kind: 'edit' as const, target: M1 },
      { ...message(81, 'ann', ''), kind: 'delete' as const, target: M2 },
      // Someone else's record changes nobody's quote.
      { ...message(82, 'eve', 'hijacked'), kind: 'edit' as const, target: M2 },
    ];
    expect(foldHistory(lines).map((m) => m.quote ?? null)).toEqual([
      null,
      null,
      { from: 'ann', text: 'first, better' },
      { from: 'ann', text: '', deleted: true },
    ]);
  });

  it('offers the fixed set of six', () => {
    expect(REACTION_EMOJI).toEqual(['👍', '❤️', '😂', '🎉', '😮', '😢']);
  });
});

describe('the quote of a reply', () => {
  it('keeps short text as it is, whitespace made single spaces', () => {
    expect(excerptOf('  see\n\nyou  there ', 20)).toBe('see you there');
  });

  it('cuts long text to the excerpt length in code points, with an ellipsis', () => {
    expect(excerptOf('abcdefghij', 5)).toBe('abcd…');
    expect([...excerptOf('😀'.repeat(10), 4)]).toHaveLength(4);
  });
});

describe('react, unreact and replyTo at the edge', () => {
  const at = { conversation: 'group:crew', messageId: M1 };

  it('accepts a reaction to a message id in a valid conversation', () => {
    expect(parseCommand('react', { ...at, emoji: '👍', clientMessageId: 'r1' })).toEqual({
      ok: true,
      command: { type: 'react', ...at, emoji: '👍', clientMessageId: 'r1' },
    });
    expect(parseCommand('unreact', { ...at, emoji: '👍' })).toEqual({
      ok: true,
      command: { type: 'unreact', ...at, emoji: '👍' },
    });
  });

  it.each([
    ['no emoji', { ...at }, 'invalid-emoji'],
    ['an emoji that is no string', { ...at, emoji: 1 }, 'invalid-emoji'],
    ['a bad message id', { ...at, messageId: 'nope', emoji: '👍' }, 'invalid-message-id'],
    ['a bad conversation', { ...at, conversation: 'x', emoji: '👍' }, 'invalid-conversation'],
  ])('refuses a reaction with %s', (_, payload, code) => {
    expect(parseCommand('react', { ...payload, clientMessageId: 'r2' })).toMatchObject({
      ok: false,
      error: { code, command: 'react', clientMessageId: 'r2' },
    });
  });

  it('takes a replyTo that is a message id, and refuses anything else', () => {
    expect(parseCommand('sendMessage', { text: 'yes', replyTo: M1 })).toEqual({
      ok: true,
      command: { type: 'sendMessage', text: 'yes', replyTo: M1 },
    });
    expect(parseCommand('sendMessage', { text: 'yes', replyTo: 'M1', clientMessageId: 'c' })).toMatchObject({
      ok: false,
      error: { code: 'invalid-reply-to', clientMessageId: 'c' },
    });
  });
});
