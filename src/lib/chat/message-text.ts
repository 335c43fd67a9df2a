/**
 * The rules of a message's text (docs/architecture.md, "The chat protocol"), for `sendMessage` and
 * `editMessage` alike: well-formed Unicode without control characters (newline and tab are text; a carriage
 * return ends a line as a newline does, so `\r\n` and `\r` become `\n`), something visible in it, and at most
 * {@link MAX_TEXT_LENGTH} characters.
 */
import { MAX_TEXT_LENGTH } from '../conversation.js';

/** What is left out when deciding whether a text is blank: spaces, line ends, and characters that show nothing. */
const INVISIBLE = /[\s\p{Cf}\p{Default_Ignorable_Code_Point}]/gu;
/** A control character other than newline and tab, or half of a surrogate pair standing alone. */
const BROKEN = /[^\P{Cc}\n\t]|\p{Cs}/u;

export type MessageTextCheck =
  | { readonly ok: true; readonly text: string }
  | {
      readonly ok: false;
      readonly code: 'text-missing' | 'invalid-text' | 'text-too-long';
      readonly detail?: string;
    };

/**
 * Checks a message's text and returns it with its line ends made `\n`. `blankAllowed`: a `sendMessage` with an
 * attachment may have no text (or only spaces).
 */
export function checkMessageText(raw: unknown, blankAllowed = false): MessageTextCheck {
  if (typeof raw !== 'string') return { ok: false, code: 'text-missing' };
  const text = raw.replace(/\r\n?/g, '\n');
  const broken = BROKEN.exec(text);
  if (broken !== null) {
    const unit = text.charCodeAt(broken.index);
    const code = `U+${unit.toString(16).toUpperCase().padStart(4, '0')}`;
    const what = unit >= 0xd800 && unit <= 0xdfff ? 'half of a surrogate pair, alone' : 'a control character';
    const at = [...text.slice(0, broken.index)].length + 1;
    return { ok: false, code: 'invalid-text', detail: `${code} (${what}) at character ${at}` };
  }
  if (!blankAllowed && text.replace(INVISIBLE, '') === '') {
    if (text === '') return { ok: false, code: 'text-missing' };
    const detail = 'it has only spaces or invisible characters (zero-width spaces, joiners, format marks)';
    return { ok: false, code: 'text-missing', detail };
  }
  if ([...text].length > MAX_TEXT_LENGTH) {
    return { ok: false, code: 'text-too-long', detail: `at most ${MAX_TEXT_LENGTH} characters` };
  }
  return { ok: true, text };
}
