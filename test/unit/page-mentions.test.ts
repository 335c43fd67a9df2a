/** The page's mention finding and completion (static/text/mentions.js) and its typing throttle (static/state/typing.js). */
import { describe, expect, it } from 'vitest';

const page = (path: string) => import(new URL(`../../static/${path}`, import.meta.url).href);
const mentions: {
  myMentionNames(me: string, myName?: string): string[];
  mentionAt(
    text: string,
    at: number,
    mine: readonly string[],
    known?: readonly string[],
  ): { length: number; isMine: boolean };
  MAX_MENTION_NAME_CHARS: number;
  mentionQuery(text: string, caret: number): { start: number; query: string } | null;
  mentionSuggestions(people: readonly string[], query: string, nameOf: (id: string) => string): string[];
} = await page('text/mentions.js');
const typing: {
  createTypingSender(
    send: (id: string) => void,
    now: () => number,
  ): { typed(id: string): void; sent(id: string): void };
  typingText(names: readonly string[]): string;
  TYPING_SEND_INTERVAL_MS: number;
} = await page('state/typing.js');

describe('mentions', () => {
  const mine = mentions.myMentionNames('u-1', 'Ann Lee');
  /** Whether any `@` of the text starts a mention of me (as the markdown-it rule sees them outside code). */
  const mentionsMe = (text: string) =>
    text.split('').some((_, at) => text[at] === '@' && mentions.mentionAt(text, at, mine).isMine);

  it('finds my id or display name after @, letter case aside, ending at a non-name character', () => {
    expect(mentionsMe('hi @ann lee, look')).toBe(true);
    expect(mentionsMe('@U-1!')).toBe(true);
    expect(mentionsMe('hi @Ann Leewood')).toBe(false);
    expect(mentionsMe('mail ann@Ann Lee')).toBe(false);
    expect(mentionsMe('Ann Lee without the sign')).toBe(false);
  });

  it('marks any other @word as a mention, not ending in punctuation', () => {
    expect(mentions.mentionAt('@bob.', 0, mine)).toEqual({ length: 4, isMine: false });
    expect(mentions.mentionAt('@ann lee', 0, mine)).toEqual({ length: 8, isMine: true });
    expect(mentions.mentionAt('@ alone', 0, mine)).toEqual({ length: 0, isMine: false });
  });

  it('looks at a bounded stretch after each @, whatever follows', () => {
    expect(mentions.mentionAt(`@${'a'.repeat(100_000)}`, 0, mine)).toEqual({ length: 40, isMine: false });
  });

  it('shows the longest known name after @ whole, spaces and all, letter case aside', () => {
    const known = ['Mary', 'Mary Jane', 'Mary Jane Smith', 'bob'];
    const at = (text: string, names: readonly string[] = known) => mentions.mentionAt(text, 0, mine, names);
    expect(at('@Mary Jane see this')).toEqual({ length: 10, isMine: false });
    expect(at('@mary jane smith!')).toEqual({ length: 16, isMine: false });
    expect(at('@Mary Jane.')).toEqual({ length: 10, isMine: false });
    // "Mary Janet" is nobody: the longest name that is someone, else the word.
    expect(at('@Mary Janet')).toEqual({ length: 5, isMine: false });
    expect(at('@Mary Janet', ['Mary Jane'])).toEqual({ length: 5, isMine: false });
    expect(at('@Mary Jane', [])).toEqual({ length: 5, isMine: false });
    // A name ends where a name character does not follow.
    expect(at('@Mary Janes', ['Mary Jane'])).toEqual({ length: 5, isMine: false });
    // Mine first.
    expect(mentions.mentionAt('@Ann Lee', 0, mine, ['Ann'])).toEqual({ length: 8, isMine: true });
  });

  it('reads a bounded stretch after each @ however many names are known: linear in the text', () => {
    const known = Array.from({ length: 1000 }, (_, i) => `a ${'a '.repeat(i % 20)}x${i}`);
    const text = `@${'a '.repeat(100_000)}`;
    // The walk stops after MAX_MENTION_NAME_CHARS characters: it returns the word it had.
    expect(mentions.mentionAt(text, 0, mine, known)).toEqual({ length: 2, isMine: false });
    const names = ['Mary Jane'];
    const many = '@Mary Jane, '.repeat(10_000);
    let found = 0;
    for (let i = 0; i < many.length; i++) {
      const { length } = mentions.mentionAt(many, i, mine, names);
      if (length > 0) found++;
      if (length === 10) i += length - 1;
    }
    expect(found).toBe(10_000);
    expect(mentions.MAX_MENTION_NAME_CHARS).toBeGreaterThanOrEqual(32);
  });

  it('knows the @prefix before the caret, only at the start of a word', () => {
    expect(mentions.mentionQuery('hi @an', 6)).toEqual({ start: 3, query: 'an' });
    expect(mentions.mentionQuery('@', 1)).toEqual({ start: 0, query: '' });
    expect(mentions.mentionQuery('mail a@b', 8)).toBeNull();
    expect(mentions.mentionQuery('hi @an x', 8)).toBeNull();
  });

  it('suggests names that start with the query first, then those that contain it', () => {
    const names: Record<string, string> = { x1: 'Cat', x2: 'Anna', x3: 'Bob' };
    const nameOf = (id: string) => names[id] ?? id;
    expect(mentions.mentionSuggestions(['x1', 'x2', 'x3'], 'a', nameOf)).toEqual(['x2', 'x1']);
    expect(mentions.mentionSuggestions(['x1', 'x2', 'x3'], '', nameOf)).toEqual(['x1', 'x2', 'x3']);
  });
});

describe('typing on the page', () => {
  it('sends at most one typing per conversation per interval, and again at once after a message', () => {
    let now = 0;
    const sent: string[] = [];
    const sender = typing.createTypingSender(
      (id) => sent.push(id),
      () => now,
    );
    sender.typed('room');
    sender.typed('room');
    sender.typed('dm:a:b');
    now += typing.TYPING_SEND_INTERVAL_MS - 1;
    sender.typed('room');
    now += 1;
    sender.typed('room');
    sender.sent('room');
    sender.typed('room');
    expect(sent).toEqual(['room', 'dm:a:b', 'room', 'room']);
  });

  it('says who is typing', () => {
    expect(typing.typingText([])).toBe('');
    expect(typing.typingText(['bob'])).toBe('bob is typing…');
    expect(typing.typingText(['bob', 'cat'])).toBe('bob and cat are typing…');
    expect(typing.typingText(['a', 'b', 'c'])).toBe('3 people are typing…');
  });
});
