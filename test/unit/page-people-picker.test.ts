import { describe, expect, it } from 'vitest';

// The page is plain JavaScript without declarations: loaded by URL, the parts used here described.
interface Person {
  user: string;
  name?: string;
  lastSeen: string;
}
interface Chip {
  user: string;
  name: string;
}
interface Suggestions {
  query: string;
  people: Person[];
  more: boolean;
}
const picker = (await import(new URL('../../static/state/people-picker.js', import.meta.url).href)) as {
  DEFAULT_MAX_SUGGESTIONS: number;
  DEFAULT_SUGGEST_DEBOUNCE_MS: number;
  MAX_PENDING_SUGGESTIONS: number;
  suggestionsFor(answer: Suggestions | null, typed: string, exclude: Set<string>, max?: number): Person[];
  idHints(people: { user: string; name?: string }[]): Map<string, string>;
  withChip(chips: Chip[], person: Person | Chip): Chip[];
  splitTyped(text: string, signIn: boolean): { typed: string[]; rest: string };
  membersToSend(chips: Chip[], text: string, signIn: boolean): { members: string[]; problem: string | null };
  takeSuggestionAnswer(pending: Set<string>, page: { query: string; after?: string }): boolean;
  notePendingSuggestion(pending: Set<string>, query: string): void;
};

const at = '2024-05-01T10:00:00.000Z';
const bob1 = { user: 'a1b2c3d4e5f6a7b8', name: 'Bob', lastSeen: at };
const bob2 = { user: 'a1b2c3ffffffffff', name: 'bob', lastSeen: at };
const bea = { user: '99990000', name: 'Bea', lastSeen: at };

describe('the people picker (static/state/people-picker.js)', () => {
  it('names its debounce and its cap', () => {
    expect(picker.DEFAULT_SUGGEST_DEBOUNCE_MS).toBeGreaterThan(0);
    expect(picker.DEFAULT_MAX_SUGGESTIONS).toBeGreaterThan(0);
  });

  it('suggests the answer to what is typed, letter case aside, without excluded people, at most the cap', () => {
    const answer = { query: 'b', people: [bob1, bob2, bea], more: false };
    expect(picker.suggestionsFor(answer, 'B ', new Set())).toEqual([bob1, bob2, bea]);
    expect(picker.suggestionsFor(answer, 'b', new Set([bob2.user]))).toEqual([bob1, bea]);
    expect(picker.suggestionsFor(answer, 'b', new Set(), 2)).toEqual([bob1, bob2]);
    expect(picker.suggestionsFor(answer, '', new Set())).toEqual([]);
    expect(picker.suggestionsFor(null, 'b', new Set())).toEqual([]);
  });

  it('narrows a complete answer to a shorter start while the longer one is on its way, and nothing else', () => {
    const answer = { query: 'b', people: [bob1, bob2, bea], more: false };
    expect(picker.suggestionsFor(answer, 'BO', new Set())).toEqual([bob1, bob2]);
    // An answer cut at its limit may miss people the longer query finds: wait for that one.
    expect(picker.suggestionsFor({ ...answer, more: true }, 'bo', new Set())).toEqual([]);
    // An answer to another start says nothing about what is typed.
    expect(picker.suggestionsFor({ ...answer, query: 'c' }, 'bo', new Set())).toEqual([]);
  });

  it('tells apart people of the same name by the shortest distinct start of their ids', () => {
    const hints = picker.idHints([bob1, bob2, bea]);
    expect(hints.get(bob1.user)).toBe('a1b2c3d');
    expect(hints.get(bob2.user)).toBe('a1b2c3f');
    expect(hints.has(bea.user)).toBe(false);
    // Without sign-in the names are ids: "ann" and "Ann" are two people.
    expect(picker.idHints([{ user: 'ann' }, { user: 'Ann' }])).toEqual(
      new Map([
        ['ann', 'ann'],
        ['Ann', 'Ann'],
      ]),
    );
  });

  it('adds a chosen person once, by id, with the name shown', () => {
    const chips = picker.withChip([], bob1);
    expect(chips).toEqual([{ user: bob1.user, name: 'Bob' }]);
    expect(picker.withChip(chips, bob1)).toEqual(chips);
    expect(picker.withChip(chips, { user: 'cy', lastSeen: at })).toEqual([
      ...chips,
      { user: 'cy', name: 'cy' },
    ]);
  });

  it('makes chips of typed names at each comma without sign-in, and never with it', () => {
    expect(picker.splitTyped('ann, bob ,, cy', false)).toEqual({ typed: ['ann', 'bob'], rest: 'cy' });
    expect(picker.splitTyped('ann,', false)).toEqual({ typed: ['ann'], rest: '' });
    expect(picker.splitTyped('ann', false)).toEqual({ typed: [], rest: 'ann' });
    expect(picker.splitTyped('Bob, Cy', true)).toEqual({ typed: [], rest: 'Bob, Cy' });
  });

  it('sends the chosen ids; typed names too without sign-in; refuses typed text with sign-in, naming it', () => {
    const chips = [{ user: bob1.user, name: 'Bob' }];
    expect(picker.membersToSend(chips, '  ', true)).toEqual({ members: [bob1.user], problem: null });
    expect(picker.membersToSend([{ user: 'ann', name: 'ann' }], 'cy, ann', false)).toEqual({
      members: ['ann', 'cy'],
      problem: null,
    });
    const refused = picker.membersToSend(chips, 'Cy', true);
    expect(refused.problem).toContain('Choose "Cy" from the suggestions');
  });

  it("takes the picker's answers apart from the people search's, and forgets the oldest pending queries", () => {
    const pending = new Set<string>();
    picker.notePendingSuggestion(pending, 'bo');
    expect(picker.takeSuggestionAnswer(pending, { query: 'bo', after: 'x' })).toBe(false);
    expect(picker.takeSuggestionAnswer(pending, { query: 'bob' })).toBe(false);
    expect(picker.takeSuggestionAnswer(pending, { query: 'bo' })).toBe(true);
    // Answered once: the next answer to "bo" is the search's.
    expect(picker.takeSuggestionAnswer(pending, { query: 'bo' })).toBe(false);
    for (let i = 0; i <= picker.MAX_PENDING_SUGGESTIONS; i++) picker.notePendingSuggestion(pending, `q${i}`);
    expect(pending.size).toBe(picker.MAX_PENDING_SUGGESTIONS);
    expect(pending.has('q0')).toBe(false);
  });
});
