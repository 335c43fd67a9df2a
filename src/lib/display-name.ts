/**
 * Display names: what the page shows for a user, apart from the user id the chat keys on, cleaned of controls
 * and invisible format characters and cut to {@link MAX_DISPLAY_NAME_LENGTH} (docs/architecture.md, "Tokens and
 * identity").
 */

/** Longest display name, in characters (code points). */
export const MAX_DISPLAY_NAME_LENGTH = 64;

/**
 * The token claim that carries the display name to the service, which hands it back upstream in
 * `X-ASRS-User-Claims`. That header is `type: value, type: value` in ASCII, so the value is percent-encoded.
 */
export const DISPLAY_NAME_CLAIM = 'chat.name';

/**
 * Combining marks kept in a row after one character: enough for the accents, vowel signs and tone marks of
 * written languages (Vietnamese stacks two, Devanagari three), not for marks piled up to spill over the lines
 * around a name.
 */
export const MAX_COMBINING_MARKS_IN_A_ROW = 4;

const MARK_PILE = new RegExp(`(\\p{M}{${MAX_COMBINING_MARKS_IN_A_ROW}})\\p{M}+`, 'gu');

/**
 * One line of text to show as a name (a display name, a group's title or topic, a moderator's reason): NFC,
 * every run of white space one space, controls, invisible format characters (bidirectional overrides,
 * zero-width ones), private-use and unassigned code points removed, combining marks beyond
 * {@link MAX_COMBINING_MARKS_IN_A_ROW} in a row removed, trimmed. Possibly empty; not cut to any length.
 */
export function cleanLine(raw: string): string {
  return raw
    .normalize('NFC')
    .replace(/\s+/gu, ' ')
    .replace(/[\p{Cc}\p{Cf}\p{Co}\p{Cn}]/gu, '')
    .replace(MARK_PILE, '$1')
    .replace(/ {2,}/g, ' ')
    .trim();
}

/** The display name cleaned as described above; `undefined` when nothing printable is left. */
export function cleanDisplayName(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined;
  const cleaned = cleanLine(raw);
  if (cleaned === '') return undefined;
  const chars = [...cleaned];
  return chars.length > MAX_DISPLAY_NAME_LENGTH
    ? chars.slice(0, MAX_DISPLAY_NAME_LENGTH).join('').trimEnd()
    : cleaned;
}

/** The claim value for a display name (ASCII, no `,`). */
export function encodeDisplayNameClaim(name: string): string {
  return encodeURIComponent(name);
}

/** The display name in a claim value, or `undefined` when it is absent or not one this app wrote. */
export function decodeDisplayNameClaim(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  let decoded: string;
  try {
    decoded = decodeURIComponent(value);
  } catch {
    return undefined;
  }
  const name = cleanDisplayName(decoded);
  return name === decoded ? name : undefined;
}
