/**
 * What a message search matches (docs/architecture.md, "Message search"): every word of the query, found in a
 * message's text or its attachment's file name, whatever the case and the accents. The page's twin, which also
 * marks the words found, is static/state/search.js; test/unit/search-match.test.ts runs both on the same
 * known answers.
 */
import { MAX_TEXT_LENGTH } from '../../conversation.js';
import type { ChatMessage } from '../../history/index.js';

/**
 * UTF-16 units of a text's compatibility decomposition (NFKD) that a search folds and looks in; the rest of a longer
 * one is not searched. Three times the longest message: Hangul, whose syllables decompose to up to three letters,
 * is searched whole, while a text of characters that decompose to 18 (U+FDFA) costs no more to fold than the
 * longest Hangul one, not 18 times a plain one (the page's twin keeps the same bound).
 */
export const MAX_SEARCH_FOLD_UNITS = 3 * MAX_TEXT_LENGTH;

const MARKS = /\p{M}/gu;
const FINAL_SIGMA = /ς/g;
/**
 * Sentence punctuation taken off the ends of a query's words, so `hello,` finds `hello` wherever it stands; other
 * signs (`#`, `@`, `+`, `-`, `_`, `/`) are part of the word: `c#` looks for `c#`, not for every `c`.
 */
const EDGE_PUNCTUATION = /^[.,;:!?¡¿"'()[\]{}«»‹›“”„‘’‚…]+|[.,;:!?¡¿"'()[\]{}«»‹›“”„‘’‚…]+$/gu;

/**
 * `text` as a search compares it: compatibility-decomposed (NFKD: `ﬁ` is `fi`, `²` is `2`), combining marks left
 * out (`é` is `e`), lower case, a final sigma as any sigma (so lowering a word alone or in its sentence agrees).
 * Only the first {@link MAX_SEARCH_FOLD_UNITS} units of the decomposition are folded (cut between characters):
 * decomposing is cheap, lowering and taking marks out of an 18-fold longer text is not.
 */
export function foldForSearch(text: string): string {
  let decomposed = text.normalize('NFKD');
  if (decomposed.length > MAX_SEARCH_FOLD_UNITS) {
    const cut = isHighSurrogate(decomposed.charCodeAt(MAX_SEARCH_FOLD_UNITS - 1))
      ? MAX_SEARCH_FOLD_UNITS - 1
      : MAX_SEARCH_FOLD_UNITS;
    decomposed = decomposed.slice(0, cut);
  }
  return decomposed.toLowerCase().replace(MARKS, '').replace(FINAL_SIGMA, 'σ');
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

/**
 * The words of a query, folded, each once: split at whitespace, sentence punctuation taken off their ends (a
 * word of punctuation alone is kept as it is).
 */
export function queryWords(query: string): string[] {
  const words = foldForSearch(query)
    .split(/\s+/u)
    .filter((w) => w !== '')
    .map((w) => w.replace(EDGE_PUNCTUATION, '') || w);
  return [...new Set(words)];
}

/** Whether every word is in the text or the attachment's file name of `message` (words from {@link queryWords}). */
export function matchesWords(
  message: Pick<ChatMessage, 'text' | 'attachment'>,
  words: readonly string[],
): boolean {
  if (words.length === 0) return false;
  // A newline between them: a word never spans the text and the file name (words hold no whitespace). Folded
  // apart, so the bound on a long text never cuts the name off.
  const name = message.attachment?.name;
  const text = foldForSearch(message.text);
  const haystack = name === undefined ? text : `${text}\n${foldForSearch(name)}`;
  return words.every((word) => haystack.includes(word));
}
