/**
 * Message search's matching (src/lib/chat/reading/search-match.ts) and its page twin (static/state/search.js) on
 * the same known answers; the page's marking of the words found; the command's bounds and its cost.
 */
import { describe, expect, it } from 'vitest';
import {
  commandCost,
  DEFAULT_SEARCH_LIMIT,
  DEFAULT_SEARCH_SCAN_BYTES,
  DEFAULT_SEARCH_SCAN_MESSAGES,
  foldForSearch,
  MAX_SEARCH_FOLD_UNITS,
  MAX_SEARCH_LIMIT,
  MAX_SEARCH_QUERY_LENGTH,
  MIN_SEARCH_QUERY_LENGTH,
  matchesWords,
  parseCommand,
  queryWords,
} from '../../src/lib/chat/index.js';
import { SETTINGS } from '../../src/lib/settings.js';

interface Matcher {
  foldForSearch(text: string): string;
  queryWords(query: string): string[];
  matchesWords(message: { text: string; attachment?: { name: string } }, words: readonly string[]): boolean;
}
const page = (await import(new URL('../../static/state/search.js', import.meta.url).href)) as Matcher & {
  MAX_SEARCH_FOLD_UNITS: number;
  MIN_SEARCH_QUERY_LENGTH: number;
  MAX_SEARCH_QUERY_LENGTH: number;
  markedParts(text: string, words: readonly string[]): { text: string; marked: boolean }[];
  queryProblem(query: string): string | null;
};
const server: Matcher = { foldForSearch, queryWords, matchesWords };

/** [query, message text, attachment file name or undefined, matches?] */
const KNOWN: [string, string, string | undefined, boolean][] = [
  // Case
  ['hello', 'Hello there', undefined, true],
  ['HELLO', 'well, hello', undefined, true],
  // Accents, both ways, precomposed or combining
  ['cafe', 'Le Café est ouvert', undefined, true],
  ['café', 'the cafe is open', undefined, true],
  ['creme', 'cre\u0300me brûlée', undefined, true],
  ['brulee', 'crème BRÛLÉE', undefined, true],
  ['Zurich', 'Zürich tomorrow', undefined, true],
  // Compatibility forms
  ['file', 'the ﬁle is here', undefined, true],
  // Greek final sigma, alone or inside a sentence
  ['ΟΔΟΣ', 'η οδος εδώ', undefined, true],
  ['οδος', 'ΟΔΟΣ ΚΛΕΙΣΤΗ', undefined, true],
  // Every word, in any order, anywhere
  ['deploy friday', 'Friday we deploy', undefined, true],
  ['deploy friday', 'we deploy on Monday', undefined, false],
  ['deploy  friday ', 'friday: deploy!', undefined, true],
  // Parts of words
  ['deplo', 'redeployed', undefined, true],
  // Sentence punctuation off the query's word ends; other signs are part of the word
  ['hello,', 'hello world', undefined, true],
  ['"release?"', 'the release is out', undefined, true],
  ['(notes)', 'release notes', undefined, true],
  ['c#', 'I write C# daily', undefined, true],
  ['c#', 'I write C daily', undefined, false],
  ['node.js', 'nodejs', undefined, false],
  ['?!', 'really?!', undefined, true],
  // The attachment's file name counts; a word never spans text and name
  ['budget xlsx', 'the numbers', 'Budget-2026.xlsx', true],
  ['numbers budget', 'the numbers', 'Budget.xlsx', true],
  ['numbersbudget', 'the numbers', 'budget.xlsx', false],
  ['budget', 'nothing here', undefined, false],
];

describe.each([
  ['the server', server],
  ['the page', page],
])('message search matching on %s', (_, m) => {
  it.each(KNOWN)('query %j in %j (file %j): %s', (query, text, name, expected) => {
    const message = name === undefined ? { text } : { text, attachment: { name } };
    expect(m.matchesWords(message, m.queryWords(query))).toBe(expected);
  });

  it('folds as the other side does', () => {
    for (const text of ['Ærøskøbing', 'İstanbul', 'ΣΟΦΟΣ', 'ﬀ ²', 'Ǆ', 'e\u0301']) {
      expect(m.foldForSearch(text)).toBe(server.foldForSearch(text));
    }
  });

  it('matches nothing with no words', () => {
    expect(m.matchesWords({ text: 'anything' }, [])).toBe(false);
  });

  it('folds at most the first MAX_SEARCH_FOLD_UNITS units of the decomposition, cut between characters', () => {
    expect(m).toHaveProperty('foldForSearch');
    // U+FDFA decomposes to 18 units: the longest text would fold to 72 000.
    const long = '\uFDFA'.repeat(4000);
    expect(m.foldForSearch(long).length).toBeLessThanOrEqual(MAX_SEARCH_FOLD_UNITS);
    expect(m.matchesWords({ text: `${long} needle` }, ['needle'])).toBe(false);
    // The file name is folded apart: a long text never cuts it off.
    expect(m.matchesWords({ text: long, attachment: { name: 'Budget.xlsx' } }, ['budget'])).toBe(true);
    // The longest Hangul text (three letters a syllable) is searched whole.
    expect(m.matchesWords({ text: `${'가'.repeat(3999)}나` }, m.queryWords('나'))).toBe(true);
    // A character of two units is not cut in half.
    const folded = m.foldForSearch(`${'x'.repeat(MAX_SEARCH_FOLD_UNITS - 1)}😀`);
    expect(folded).toBe('x'.repeat(MAX_SEARCH_FOLD_UNITS - 1));
  });
});

describe('marking the words found (the page)', () => {
  const parts = (text: string, query: string) =>
    page
      .markedParts(text, page.queryWords(query))
      .map((p) => (p.marked ? `[${p.text}]` : p.text))
      .join('');

  it('marks every occurrence of every word, in the original text', () => {
    expect(parts('Le Café, le CAFÉ et le cafe', 'cafe')).toBe('Le [Café], le [CAFÉ] et le [cafe]');
    expect(parts('Friday we deploy, friday!', 'deploy friday')).toBe('[Friday] we [deploy], [friday]!');
  });

  it('keeps combining marks and compatibility forms whole', () => {
    expect(parts('cre\u0300me', 'creme')).toBe('[cre\u0300me]');
    expect(parts('the ﬁle', 'file')).toBe('the [ﬁle]');
    // "il" starts inside the ligature: the whole ligature is marked.
    expect(parts('a ﬁle', 'il')).toBe('a [ﬁl]e');
  });

  it('merges overlapping words and leaves a text without them whole', () => {
    expect(parts('redeployed', 'deploy plo')).toBe('re[deploy]ed');
    expect(parts('nothing here', 'cafe')).toBe('nothing here');
    expect(parts('👍 ok 👍', 'ok')).toBe('👍 [ok] 👍');
  });
});

describe('searchMessages, as commands.ts validates it', () => {
  const parse = (payload: object) => parseCommand('searchMessages', payload);

  it('takes a query of 2–100 characters once trimmed, a limit of at most 50 and a message id as before', () => {
    const ok = parse({ conversation: 'room', query: '  hello  ' });
    expect(ok).toEqual({
      ok: true,
      command: { type: 'searchMessages', conversation: 'room', query: 'hello', limit: DEFAULT_SEARCH_LIMIT },
    });
    const before = '01J0000000000000000000000A';
    expect(parse({ conversation: 'group:crew', query: 'ab', limit: MAX_SEARCH_LIMIT, before })).toMatchObject(
      {
        ok: true,
        command: { before, limit: MAX_SEARCH_LIMIT },
      },
    );
    expect(parse({ conversation: 'room', query: 'é'.repeat(MAX_SEARCH_QUERY_LENGTH) }).ok).toBe(true);
  });

  it.each([
    [{ conversation: 'room', query: ' a ' }, 'invalid-query'],
    // Counted once folded: the letter "a" with a combining accent, marks alone, a letter and punctuation.
    [{ conversation: 'room', query: 'a\u0301' }, 'invalid-query'],
    [{ conversation: 'room', query: '\u0301\u0301' }, 'invalid-query'],
    [{ conversation: 'room', query: 'a,' }, 'invalid-query'],
    // 34 characters that fold to 102 ("ﬃ" is "ffi").
    [{ conversation: 'room', query: 'ﬃ'.repeat(34) }, 'invalid-query'],
    [{ conversation: 'room', query: 'x'.repeat(MAX_SEARCH_QUERY_LENGTH + 1) }, 'invalid-query'],
    [{ conversation: 'room', query: 42 }, 'invalid-query'],
    [{ conversation: 'room' }, 'invalid-query'],
    [{ conversation: 'nowhere', query: 'hello' }, 'invalid-conversation'],
    [{ conversation: 'room', query: 'hello', limit: MAX_SEARCH_LIMIT + 1 }, 'invalid-limit'],
    [{ conversation: 'room', query: 'hello', limit: 0 }, 'invalid-limit'],
    [{ conversation: 'room', query: 'hello', before: 'not-an-id' }, 'invalid-before'],
  ])('refuses %j with %s, saying what to fix', (payload, code) => {
    const parsed = parse(payload);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.error.code).toBe(code);
    expect(parsed.error.command).toBe('searchMessages');
    if (code === 'invalid-query') expect(parsed.error.message).toContain('2–100 characters once trimmed');
    if (code === 'invalid-before') expect(parsed.error.message).toContain('"not-an-id" is not a message id');
  });

  it('accepts a query of two letters once folded, however it was typed', () => {
    expect(parse({ conversation: 'room', query: 'e\u0301t\u0301' }).ok).toBe(true);
    expect(parse({ conversation: 'room', query: 'ﬁ' }).ok).toBe(true);
  });

  it('holds the page bounds equal to the server ones', () => {
    expect(page.MIN_SEARCH_QUERY_LENGTH).toBe(MIN_SEARCH_QUERY_LENGTH);
    expect(page.MAX_SEARCH_QUERY_LENGTH).toBe(MAX_SEARCH_QUERY_LENGTH);
    expect(page.MAX_SEARCH_FOLD_UNITS).toBe(MAX_SEARCH_FOLD_UNITS);
    expect(page.queryProblem(' a ')).not.toBeNull();
    expect(page.queryProblem('a\u0301')).not.toBeNull();
    expect(page.queryProblem('\u0301\u0301')).not.toBeNull();
    expect(page.queryProblem('ab')).toBeNull();
    expect(page.queryProblem('e\u0301t')).toBeNull();
  });

  it('costs one command per started 500 lines or MiB of its scan bounds, whichever makes more, whatever it finds', () => {
    const parsed = parse({ conversation: 'room', query: 'hello' });
    if (!parsed.ok) throw new Error('refused');
    expect(Number(SETTINGS.searchScanMessages.default)).toBe(DEFAULT_SEARCH_SCAN_MESSAGES);
    expect(Number(SETTINGS.searchScanBytes.default)).toBe(DEFAULT_SEARCH_SCAN_BYTES);
    expect(commandCost(parsed.command, 'ann')).toBe(4);
    const MiB = 1024 * 1024;
    expect(commandCost(parsed.command, 'ann', 10, { scanMessages: 100, scanBytes: MiB })).toBe(1);
    expect(commandCost(parsed.command, 'ann', 10, { scanMessages: 501, scanBytes: MiB })).toBe(2);
    // Long lines reach the byte bound first: it sets the price.
    expect(commandCost(parsed.command, 'ann', 10, { scanMessages: 100, scanBytes: 2 * MiB + 1 })).toBe(3);
  });
});
