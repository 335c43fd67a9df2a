/**
 * Mentions (docs/architecture.md, "The page", "Mentions"): `@name` in a message's stored text, found by the
 * page alone (the server keeps no mention state). A mention of me is `@` followed by my id or my display name
 * (letter case aside) and then anything but a name character; every `@word` is shown as a mention. The
 * markdown-it rule below tries at most two names at each `@` of the text; whether a message mentions me is read
 * from its rendering (markdown.js, `mentionsMeIn`), so a mention in code is none.
 */

/** What a name may contain besides spaces (src/lib/conversation.ts, "Names"): letters, digits, `_`, `-`, `.`. */
const NAME_CHAR = /[\p{L}\p{N}_.-]/u;
/** A mention's word when it is not one of mine: name characters without spaces, not ending in `.` or `-`. */
const MENTION_WORD = /^@([\p{L}\p{N}_](?:[\p{L}\p{N}_.-]*[\p{L}\p{N}_])?)/u;
/** The most characters one completion list offers names for. */
export const MAX_MENTION_SUGGESTIONS = 8;

/**
 * The length of the mention starting at `at` (which holds `@`), or 0 when there is none: one of `mine`
 * (longest first, letter case aside) followed by a non-name character or the end, else an `@word`. A `@`
 * right after a name character (an e-mail address) starts none.
 * @param {string} text @param {number} at @param {readonly string[]} mine
 * @returns {{ length: number, isMine: boolean }}
 */
export function mentionAt(text, at, mine) {
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
 * @param {any} md @param {() => readonly string[]} mine
 */
export function mentionPlugin(md, mine) {
  md.inline.ruler.before('emphasis', 'mention', (/** @type {any} */ state, /** @type {boolean} */ silent) => {
    const { length, isMine } = mentionAt(state.src, state.pos, mine());
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
