/**
 * Mentions (docs/architecture.md, "The page", "Mentions"): `@name` in a message's stored text, found by the
 * page alone (the server keeps no mention state). A mention of me is `@` followed by my id or my display name
 * (letter case aside) and then anything but a name character; a known name (someone the page knows, spaces and
 * all) is shown whole, and any other `@word` as a mention. The markdown-it rule below tries at most two names
 * of mine and a bounded stretch of known names at each `@` of the text; whether a message mentions me is read
 * from its rendering (markdown.js, `mentionsMeIn`), so a mention in code is none.
 */

/** What a name may contain besides spaces (src/lib/conversation.ts, "Names"): letters, digits, `_`, `-`, `.`. */
const NAME_CHAR = /[\p{L}\p{N}_.-]/u;
/** A mention's word when it is not one of mine: name characters without spaces, not ending in `.` or `-`. */
const MENTION_WORD = /^@([\p{L}\p{N}_](?:[\p{L}\p{N}_.-]*[\p{L}\p{N}_])?)/u;
/** The most characters one completion list offers names for. */
export const MAX_MENTION_SUGGESTIONS = 8;

/** The most characters after `@` a known name is looked for in: each `@` costs at most this much. */
export const MAX_MENTION_NAME_CHARS = 64;

/**
 * Known names (lowercased) for a lookup word by word: each name, and each of its starts that ends before a
 * space ("mary jane smith" gives "mary" and "mary jane"), so the walk stops as soon as no name goes on.
 * @typedef {{ names: Set<string>, starts: Set<string> }} NameIndex
 */
/** @type {WeakMap<readonly string[], NameIndex>} */
const indexes = new WeakMap();

/** @param {readonly string[]} known @returns {NameIndex} */
function indexOf(known) {
  let index = indexes.get(known);
  if (index) return index;
  index = { names: new Set(), starts: new Set() };
  for (const name of known) {
    const lower = name.toLocaleLowerCase();
    if (lower === '' || lower.length > MAX_MENTION_NAME_CHARS) continue;
    index.names.add(lower);
    for (let space = lower.indexOf(' '); space > 0; space = lower.indexOf(' ', space + 1))
      index.starts.add(lower.slice(0, space));
  }
  indexes.set(known, index);
  return index;
}

/**
 * Where the longest of the `known` names that follows the `@` at `at` ends (word by word, letter case aside,
 * then a non-name character or the end), or -1. Reads at most {@link MAX_MENTION_NAME_CHARS} characters.
 * @param {string} text @param {number} at @param {readonly string[]} known
 */
function knownNameEnd(text, at, known) {
  if (known.length === 0) return -1;
  const { names, starts } = indexOf(known);
  const limit = Math.min(text.length, at + 1 + MAX_MENTION_NAME_CHARS);
  let best = -1;
  let i = at + 1;
  for (;;) {
    while (i < limit && NAME_CHAR.test(text[i] ?? '')) i++;
    if (i === limit && i < text.length && NAME_CHAR.test(text[i] ?? '')) return best;
    const words = text.slice(at + 1, i).toLocaleLowerCase();
    // A sentence's `.` (or a dash) right after a name ends it, as it ends an `@word`.
    const name = words.replace(/[.-]+$/u, '');
    if (names.has(name)) best = at + 1 + name.length;
    if (text[i] !== ' ' || !starts.has(words)) return best;
    i++;
  }
}

/**
 * The length of the mention starting at `at` (which holds `@`), or 0 when there is none: one of `mine`
 * (longest first, letter case aside) followed by a non-name character or the end, else the longest of the
 * `known` names (people the page knows: "Mary Jane" whole, not "@Mary" and " Jane"), else an `@word`. A `@`
 * right after a name character (an e-mail address) starts none. Bounded work at each `@`: linear in the text.
 * @param {string} text @param {number} at @param {readonly string[]} mine
 * @param {readonly string[]} [known]
 * @returns {{ length: number, isMine: boolean }}
 */
export function mentionAt(text, at, mine, known = []) {
  if (text[at] !== '@') return { length: 0, isMine: false };
  if (at > 0 && NAME_CHAR.test(text[at - 1] ?? '')) return { length: 0, isMine: false };
  for (const name of mine) {
    const end = at + 1 + name.length;
    if (
      name !== '' &&
      text.slice(at + 1, end).toLocaleLowerCase() === name.toLocaleLowerCase() &&
      !NAME_CHAR.test(text[end] ?? ' ')
    ) {
      return { length: 1 + name.length, isMine: true };
    }
  }
  const end = knownNameEnd(text, at, known);
  if (end > at + 1) return { length: end - at, isMine: false };
  const word = MENTION_WORD.exec(text.slice(at, at + 40));
  return { length: word ? word[0].length : 0, isMine: false };
}

/**
 * The names I answer to, longest first (so "Ann Lee" wins over "Ann").
 * @param {string} me @param {string | undefined} myName
 */
export function myMentionNames(me, myName) {
  return [...new Set([me, myName ?? ''].filter((n) => n !== ''))].sort((a, b) => b.length - a.length);
}

/**
 * The `@prefix` being typed just before the caret, or null: an `@` at the start or after a space, then name
 * characters without spaces.
 * @param {string} text @param {number} caret
 * @returns {{ start: number, query: string } | null}
 */
export function mentionQuery(text, caret) {
  let start = caret;
  while (start > 0 && NAME_CHAR.test(text[start - 1] ?? '')) start--;
  if (start === 0 || text[start - 1] !== '@') return null;
  const at = start - 1;
  if (at > 0 && !/\s/.test(text[at - 1] ?? '')) return null;
  return { start: at, query: text.slice(start, caret) };
}

/**
 * The people to offer for `query`: those whose shown name or id starts with it (letter case aside), then
 * those that contain it, at most {@link MAX_MENTION_SUGGESTIONS}.
 * @param {readonly string[]} people ids @param {string} query @param {(id: string) => string} nameOf
 */
export function mentionSuggestions(people, query, nameOf) {
  const q = query.toLocaleLowerCase();
  const starts = [];
  const contains = [];
  for (const id of people) {
    const name = nameOf(id).toLocaleLowerCase();
    if (name.startsWith(q) || id.toLocaleLowerCase().startsWith(q)) starts.push(id);
    else if (q !== '' && name.includes(q)) contains.push(id);
  }
  return [...starts, ...contains].slice(0, MAX_MENTION_SUGGESTIONS);
}

/**
 * A markdown-it inline rule that turns mentions into `<span class="mention">` (`mention mention-me` for mine).
 * Code spans and blocks never reach inline rules, so `@x` in code stays code.
 * @param {any} md @param {() => readonly string[]} mine @param {() => readonly string[]} [known]
 */
export function mentionPlugin(md, mine, known = () => []) {
  md.inline.ruler.before('emphasis', 'mention', (/** @type {any} */ state, /** @type {boolean} */ silent) => {
    const { length, isMine } = mentionAt(state.src, state.pos, mine(), known());
    if (length === 0) return false;
    if (!silent) {
      const open = state.push('mention_open', 'span', 1);
      open.attrSet('class', isMine ? 'mention mention-me' : 'mention');
      const text = state.push('text', '', 0);
      text.content = state.src.slice(state.pos, state.pos + length);
      state.push('mention_close', 'span', -1);
    }
    state.pos += length;
    return true;
  });
}
