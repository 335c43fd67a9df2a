/**
 * The people picker of the group forms (components/people-picker.js; docs/architecture.md, "The page"): what a
 * typed name suggests from the people search's answers (`people`, "People"), the chosen people as chips, and
 * what the form sends. With sign-in a member is a person chosen from the suggestions (user ids are object ids
 * that nobody types); without it the name is the id, so typed text and a comma make a chip as well.
 */

import { typedMembers } from './group-records.js';

/** How long typing must pause before the picker asks `findPeople` (ms): one request per pause, not per key. */
export const DEFAULT_SUGGEST_DEBOUNCE_MS = 250;
/** The most people one suggestion list shows: the `limit` of the picker's `findPeople`. */
export const DEFAULT_MAX_SUGGESTIONS = 8;
/** The most queries whose answers are awaited for the picker at once (older ones go to the people search). */
export const MAX_PENDING_SUGGESTIONS = 8;
/** The longest query `findPeople` takes (docs/architecture.md, "The chat protocol"). */
export const MAX_PEOPLE_QUERY_LENGTH = 32;
/** The fewest characters of a user id shown to tell apart two people of the same name. */
export const MIN_ID_HINT_LENGTH = 6;

/**
 * @typedef {import('./people.js').Person} Person
 * @typedef {{ user: string, name: string }} Chip A chosen person: the id sent, the name shown.
 * @typedef {{ query: string, people: Person[], more: boolean }} Suggestions An answer to the picker's query.
 */

/** The name a person is shown by: the display name, else the id (which is the name without sign-in). @param {{ user: string, name?: string }} p */
export const shownName = (p) => p.name ?? p.user;

/**
 * Whether an answer is the picker's (asked with {@link notePendingSuggestion}), taking it off the pending list.
 * A page of the people search (`after`) never is.
 * @param {Set<string>} pending @param {{ query: string, after?: string }} page
 */
export function takeSuggestionAnswer(pending, page) {
  if (typeof page.after === 'string' || !pending.has(page.query)) return false;
  pending.delete(page.query);
  return true;
}

/**
 * Remembers that the picker asked for `query`, forgetting the oldest past {@link MAX_PENDING_SUGGESTIONS}.
 * @param {Set<string>} pending @param {string} query
 */
export function notePendingSuggestion(pending, query) {
  pending.delete(query);
  pending.add(query);
  while (pending.size > MAX_PENDING_SUGGESTIONS) pending.delete(pending.values().next().value ?? '');
}

/**
 * The people to suggest for `typed`: the answer to that query, or, while it is on its way, the answer to a
 * shorter start of it (complete: `more` false) narrowed to the names that start with what is typed, so the
 * list does not blink at each key. Letter case aside, as the server matches. Without `exclude`d ids.
 * @param {Suggestions | null} answer @param {string} typed @param {ReadonlySet<string>} exclude
 * @param {number} [max]
 * @returns {Person[]}
 */
export function suggestionsFor(answer, typed, exclude, max = DEFAULT_MAX_SUGGESTIONS) {
  const q = typed.trim().toLocaleLowerCase();
  if (!answer || q === '') return [];
  const asked = answer.query.toLocaleLowerCase();
  const exact = asked === q;
  if (!exact && (answer.more || !q.startsWith(asked))) return [];
  return answer.people
    .filter((p) => !exclude.has(p.user))
    .filter((p) => exact || shownName(p).toLocaleLowerCase().startsWith(q))
    .slice(0, max);
}

/**
 * What tells apart people of the same name (letter case aside) in one list: for each of them the shortest start
 * of the id, at least {@link MIN_ID_HINT_LENGTH} characters, that no other of that name shares. People whose
 * name is theirs alone get none. As the rest of the page names them (display-names.js: "Dee (214db2)").
 * @param {readonly { user: string, name?: string }[]} people
 * @returns {Map<string, string>} user id to its hint
 */
export function idHints(people) {
  /** @type {Map<string, string[]>} */
  const byName = new Map();
  for (const p of people) {
    const key = (p.name ?? p.user).toLocaleLowerCase();
    byName.set(key, [...(byName.get(key) ?? []), p.user]);
  }
  /** @type {Map<string, string>} */
  const hints = new Map();
  for (const ids of byName.values()) {
    const distinct = [...new Set(ids)];
    if (distinct.length < 2) continue;
    for (const id of distinct) {
      let length = Math.min(MIN_ID_HINT_LENGTH, id.length);
      while (length < id.length && distinct.some((o) => o !== id && o.startsWith(id.slice(0, length))))
        length++;
      hints.set(id, id.slice(0, length));
    }
  }
  return hints;
}

/**
 * The chips once `person` is chosen: added at the end, unless already there.
 * @param {readonly Chip[]} chips @param {Person | Chip} person @returns {Chip[]}
 */
export function withChip(chips, person) {
  if (chips.some((c) => c.user === person.user)) return [...chips];
  return [...chips, { user: person.user, name: shownName(person) }];
}

/**
 * Without sign-in, typed text turned into chips at each comma: every finished part (trimmed, not blank) makes
 * a chip, what follows the last comma stays typed. With sign-in the text stays as it is (a name is not an id).
 * @param {string} text @param {boolean} signIn
 * @returns {{ typed: string[], rest: string }}
 */
export function splitTyped(text, signIn) {
  if (signIn || !/[,\n]/.test(text)) return { typed: [], rest: text };
  const parts = text.split(/[,\n]/);
  const rest = parts.pop() ?? '';
  return { typed: parts.map((s) => s.trim()).filter((s) => s !== ''), rest: rest.trimStart() };
}

/**
 * The ids to send: the chips', and without sign-in what is still typed (a name is an id there); with sign-in
 * text not chosen from the suggestions is a problem, as the server would take it for the id of nobody.
 * @param {readonly Chip[]} chips @param {string} text @param {boolean} signIn
 * @returns {{ members: string[], problem: string | null }}
 */
export function membersToSend(chips, text, signIn) {
  const typed = text.trim();
  const ids = chips.map((c) => c.user);
  if (typed === '') return { members: [...new Set(ids)], problem: null };
  if (signIn) {
    return {
      members: [...new Set(ids)],
      problem: `Choose "${typed}" from the suggestions: with sign-in a member is a person picked by name, not typed text.`,
    };
  }
  return { members: [...new Set([...ids, ...typedMembers(typed)])], problem: null };
}
