/**
 * What a message search matches (docs/architecture.md, "Message search"): every word of the query, found in a
 * message's text or its attachment's file name, whatever the case and the accents. The page's twin, which also
 * marks the words found, is static/state/search.js; test/unit/search-match.test.ts runs both on the same
 * known answers.
 */
import type { ChatMessage } from '../../history/index.js';

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
 */
export function foldForSearch(text: string): string {
  return text.normalize('NFKD').toLowerCase().replace(MARKS, '').replace(FINAL_SIGMA, 'σ');
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
  // A newline between them: a word never spans the text and the file name (words hold no whitespace).
  const name = message.attachment?.name;
  const haystack = foldForSearch(name === undefined ? message.text : `${message.text}\n${name}`);
  return words.every((word) => haystack.includes(word));
}
