/**
 * Message search on the page (docs/architecture.md, "Message search"): the query's bounds, the server's matching
 * rules (twin of src/lib/chat/reading/search-match.ts; test/unit/search-match.test.ts holds them equal), the words
 * found marked in a result's text, and the panel's state as answers arrive.
 */
import { MAX_TEXT_LENGTH } from '../conversation.js';

/** Shortest query, in characters once trimmed (the server's `MIN_SEARCH_QUERY_LENGTH`). */
export const MIN_SEARCH_QUERY_LENGTH = 2;
/** Longest query, in characters once trimmed (the server's `MAX_SEARCH_QUERY_LENGTH`). */
export const MAX_SEARCH_QUERY_LENGTH = 100;

/** UTF-16 units of a text's NFKD form that are folded and searched (the server's `MAX_SEARCH_FOLD_UNITS`). */
export const MAX_SEARCH_FOLD_UNITS = 3 * MAX_TEXT_LENGTH;

const MARKS = /\p{M}/gu;
const FINAL_SIGMA = /ς/g;
const EDGE_PUNCTUATION = /^[.,;:!?¡¿"'()[\]{}«»‹›“”„‘’‚…]+|[.,;:!?¡¿"'()[\]{}«»‹›“”„‘’‚…]+$/gu;

/**
 * `text` as a search compares it: NFKD (its first `MAX_SEARCH_FOLD_UNITS` units, cut between characters),
 * combining marks left out, lower case, a final sigma as any sigma.
 * @param {string} text
 */
export function foldForSearch(text) {
  let decomposed = text.normalize('NFKD');
  if (decomposed.length > MAX_SEARCH_FOLD_UNITS) {
    const unit = decomposed.charCodeAt(MAX_SEARCH_FOLD_UNITS - 1);
    const highSurrogate = unit >= 0xd800 && unit <= 0xdbff;
    decomposed = decomposed.slice(0, highSurrogate ? MAX_SEARCH_FOLD_UNITS - 1 : MAX_SEARCH_FOLD_UNITS);
  }
  return decomposed.toLowerCase().replace(MARKS, '').replace(FINAL_SIGMA, 'σ');
}

/**
 * The words of a query, folded, each once (sentence punctuation off their ends).
 * @param {string} query
 * @returns {string[]}
 */
export function queryWords(query) {
  const words = foldForSearch(query)
    .split(/\s+/u)
    .filter((w) => w !== '')
    .map((w) => w.replace(EDGE_PUNCTUATION, '') || w);
  return [...new Set(words)];
}

/**
 * Whether every word is in the message's text or its attachment's file name.
 * @param {{ text: string, attachment?: { name: string } }} message
 * @param {readonly string[]} words
 */
export function matchesWords(message, words) {
  if (words.length === 0) return false;
  const name = message.attachment?.name;
  const text = foldForSearch(message.text);
  const haystack = name === undefined ? text : `${text}\n${foldForSearch(name)}`;
  return words.every((word) => haystack.includes(word));
}

/**
 * Why a query cannot be searched, or `null` when it can.
 * @param {string} query
 */
export function queryProblem(query) {
  // Counted as the server counts it: folded, in words (a lone combining mark or punctuation is nothing to look for).
  const length = [...queryWords(query.trim()).join(' ')].length;
  if (length < MIN_SEARCH_QUERY_LENGTH) return `Type at least ${MIN_SEARCH_QUERY_LENGTH} characters.`;
  if (length > MAX_SEARCH_QUERY_LENGTH) return `At most ${MAX_SEARCH_QUERY_LENGTH} characters.`;
  return null;
}

/**
 * `text` cut in parts, those where a word of the query was found marked: the page renders each part as text (a
 * `<mark>` for the marked ones), never as HTML. Each character is folded alone, so a part always starts and ends
 * on a character of `text`, whatever folding did to its length.
 * @param {string} text
 * @param {readonly string[]} words from {@link queryWords}
 * @returns {{ text: string, marked: boolean }[]}
 */
export function markedParts(text, words) {
  let folded = '';
  /** For each UTF-16 unit of `folded`, the start and end in `text` of the character it came from. */
  const starts = [];
  const ends = [];
  let at = 0;
  for (const char of text) {
    const f = foldForSearch(char);
    for (let i = 0; i < f.length; i++) {
      starts.push(at);
      ends.push(at + char.length);
    }
    folded += f;
    at += char.length;
  }
  /** @type {boolean[]} */
  const marked = new Array(text.length).fill(false);
  for (const word of words) {
    if (word === '') continue;
    for (let i = folded.indexOf(word); i !== -1; i = folded.indexOf(word, i + 1)) {
      const from = /** @type {number} */ (starts[i]);
      const to = /** @type {number} */ (ends[i + word.length - 1]);
      for (let j = from; j < to; j++) marked[j] = true;
    }
  }
  /** @type {{ text: string, marked: boolean }[]} */
  const parts = [];
  for (let i = 0; i < text.length; ) {
    let j = i;
    while (j < text.length && marked[j] === marked[i]) j++;
    parts.push({ text: text.slice(i, j), marked: Boolean(marked[i]) });
    i = j;
  }
  return parts;
}

/**
 * @typedef {{
 *   conversation: string,
 *   query: string,
 *   messages: any[],
 *   before: string | null,
 *   complete: boolean,
 *   scanned: number,
 *   pending: 'new' | 'older' | null,
 * }} SearchState
 */

/**
 * A new search of `query` in `conversation`, waiting for its first answer.
 * @param {string} conversation
 * @param {string} query
 * @returns {SearchState}
 */
export function startSearch(conversation, query) {
  return {
    conversation,
    query: query.trim(),
    messages: [],
    before: null,
    complete: false,
    scanned: 0,
    pending: 'new',
  };
}

/**
 * The search after a `searchResults` answer: a first answer's messages, or an older one's added after those shown.
 * An answer to another conversation or query (one the reader has since replaced) changes nothing.
 * @param {SearchState | null} search
 * @param {any} payload
 * @returns {SearchState | null}
 */
export function withSearchResults(search, payload) {
  if (!search || payload.conversation !== search.conversation || payload.query !== search.query)
    return search;
  const messages = Array.isArray(payload.messages) ? payload.messages : [];
  const known = new Set(
    search.pending === 'older' ? search.messages.map((/** @type {any} */ m) => m.id) : [],
  );
  return {
    ...search,
    messages: [
      ...(search.pending === 'older' ? search.messages : []),
      ...messages.filter((/** @type {any} */ m) => !known.has(m.id)),
    ],
    before: typeof payload.before === 'string' ? payload.before : null,
    complete: payload.complete === true,
    scanned: (search.pending === 'older' ? search.scanned : 0) + (Number(payload.scanned) || 0),
    pending: null,
  };
}

/**
 * What the panel says of its results: "1 result", "12 results" once the whole conversation was searched, else
 * "20+ results, search older for more" (the scan stopped at its bound or at the answer's limit).
 * @param {number} count the results shown @param {boolean} complete
 */
export function resultCountText(count, complete) {
  if (complete) return `${count} ${count === 1 ? 'result' : 'results'}`;
  return `${count}+ results, search older for more`;
}
