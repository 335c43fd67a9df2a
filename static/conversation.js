/**
 * The page's twin of src/lib/conversation.ts, export for export, so a name is judged and a conversation id is
 * written the same way in the browser as on the server (test/unit/page-conversation-parity.test.ts keeps the
 * two equal). User and group names (1–32 characters from letters, digits, space, `_`, `-`, `.`, with the
 * further rules of {@link nameProblem}), conversation ids (`room`, `group:<name>`, `dm:<a>:<b>` with the two
 * user names sorted) and the limits of a message and of a history page. See docs/architecture.md, "The chat
 * protocol".
 */

/** Longest message text, in characters (code points). */
export const MAX_TEXT_LENGTH = 4000;
/** Messages per `loadHistory` when `limit` is absent, and the largest `limit` accepted. */
export const DEFAULT_HISTORY_LIMIT = 50;
export const MAX_HISTORY_LIMIT = 100;
/** Longest `clientMessageId`, in characters. */
export const MAX_CLIENT_MESSAGE_ID_LENGTH = 100;
/** Longest `before` message id accepted (ULIDs are 26). */
export const MAX_MESSAGE_ID_LENGTH = 64;

/** Longest user or group name, in characters (code points). */
export const MAX_NAME_LENGTH = 32;

// Letters and digits of any script (`\p{L}`, `\p{N}`); `u` makes `{1,32}` count code points, not UTF-16 units.
// Format, control and bidi characters (`\p{Cf}`, `\p{Cc}`) and combining marks are not in it.
const NAME_PATTERN = /^[\p{L}\p{N} _.-]{1,32}$/u;

/**
 * Characters that show as nothing or reorder what is around them: default-ignorable code points (zero-width
 * spaces and joiners, Hangul fillers, variation selectors, …), format characters (bidi controls among them)
 * and control characters.
 */
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\p{Cf}\p{Cc}]/u;

/** The path segments a URL parser resolves instead of keeping (WHATWG URL: `.` and `..`). */
const DOT_SEGMENTS = ['.', '..'];

/**
 * The scripts a name's letters are sorted into. A letter of none of them counts as its own script "Other"
 * (so two such scripts together are not told apart); letters of the Common and Inherited scripts go with any.
 */
const SCRIPTS = [
  'Latin',
  'Greek',
  'Cyrillic',
  'Armenian',
  'Hebrew',
  'Arabic',
  'Syriac',
  'Thaana',
  'Nko',
  'Devanagari',
  'Bengali',
  'Gurmukhi',
  'Gujarati',
  'Oriya',
  'Tamil',
  'Telugu',
  'Kannada',
  'Malayalam',
  'Sinhala',
  'Thai',
  'Lao',
  'Tibetan',
  'Myanmar',
  'Georgian',
  'Hangul',
  'Ethiopic',
  'Cherokee',
  'Canadian_Aboriginal',
  'Ogham',
  'Runic',
  'Khmer',
  'Mongolian',
  'Hiragana',
  'Katakana',
  'Bopomofo',
  'Han',
  'Yi',
  'Coptic',
  'Tifinagh',
  'Vai',
];
const SCRIPT_TESTS = SCRIPTS.map(
  (script) => /** @type {const} */ ([script, new RegExp(`^\\p{Script=${script}}$`, 'u')]),
);
const SHARED_SCRIPT = /^[\p{Script=Common}\p{Script=Inherited}]$/u;

/**
 * The mixes of scripts a name may use (Unicode TR 39's "highly restrictive" level): one script, or Latin with
 * the scripts written together in Japanese, Chinese or Korean.
 */
/** @type {readonly (readonly string[])[]} */
const ALLOWED_MIXES = [
  ['Latin', 'Han', 'Hiragana', 'Katakana'],
  ['Latin', 'Han', 'Bopomofo'],
  ['Latin', 'Han', 'Hangul'],
];

/**
 * The scripts of a name's letters (Common and Inherited left out).
 * @param {string} name
 * @returns {Set<string>}
 */
export function scriptsOf(name) {
  /** @type {Set<string>} */
  const scripts = new Set();
  for (const char of name) {
    if (!/\p{L}/u.test(char) || SHARED_SCRIPT.test(char)) continue;
    scripts.add(SCRIPT_TESTS.find(([, test]) => test.test(char))?.[0] ?? 'Other');
  }
  return scripts;
}

/**
 * Why a name was refused, phrased so the person can fix it; `undefined` when the name is valid
 * (docs/architecture.md, "Names"). A name is a chat identity and becomes part of URLs and blob names, so it
 * must look like what it is and cannot change a URL's meaning:
 * - 1–32 letters or digits of any script, space, `_`, `-`, `.`, no space at either end;
 * - in Unicode normal form NFKC (`ａｎｎ` and `ann` would be two people who look the same: the first is refused
 *   with the second suggested);
 * - no invisible letters (and no format, control or bidi characters, which the first rule leaves out);
 * - letters of one script, or Latin with Han and kana or Hangul or Bopomofo (`аnn` with a Cyrillic `а` looks
 *   like `ann`);
 * - not `.` or `..`, which a URL parser resolves as a path segment.
 * @param {string} name
 * @param {'user' | 'group'} [what]
 * @returns {string | undefined}
 */
export function nameProblem(name, what = 'user') {
  if (name.length === 0) return `The ${what} name is empty: give 1–${MAX_NAME_LENGTH} characters`;
  if ([...name].length > MAX_NAME_LENGTH) {
    return `The ${what} name is longer than ${MAX_NAME_LENGTH} characters`;
  }
  const invisible = INVISIBLE.exec(name)?.[0];
  if (invisible !== undefined) {
    const code = (invisible.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
    return `The ${what} name contains an invisible or text-direction character (U+${code}): remove it`;
  }
  const normal = name.normalize('NFKC');
  if (normal !== name && NAME_PATTERN.test(normal) && !INVISIBLE.test(normal)) {
    return `The ${what} name must be written in its plain form: "${normal}" (Unicode NFKC)`;
  }
  if (!NAME_PATTERN.test(name)) {
    return `The ${what} name may only contain letters, digits, spaces, "_", "-" and "."`;
  }
  if (normal !== name) return `The ${what} name must be in Unicode normal form NFKC`;
  // Leading or trailing spaces would make "ann" and "ann " two different people that look the same.
  if (name.trim() !== name) return `The ${what} name must not start or end with a space`;
  if (DOT_SEGMENTS.includes(name)) {
    return `The ${what} name cannot be "${name}": a URL would read it as a path step; add a letter or digit`;
  }
  const scripts = [...scriptsOf(name)];
  if (scripts.length > 1 && !ALLOWED_MIXES.some((mix) => scripts.every((s) => mix.includes(s)))) {
    return `The ${what} name mixes scripts (${scripts.join(', ')}), so it could pass for another name: use letters of one script`;
  }
  return undefined;
}

/**
 * True when `name` is a valid user or group name.
 * @param {unknown} name
 * @returns {name is string}
 */
export function isValidName(name) {
  return typeof name === 'string' && nameProblem(name) === undefined;
}

/** The public room's conversation id. */
export const ROOM = 'room';

/**
 * The conversation id of a group.
 * @param {string} group
 * @returns {string}
 */
export function groupConversation(group) {
  return `group:${group}`;
}

/**
 * The conversation id of the private messages between two users: the names sorted (by UTF-16 code units), so
 * both get the same id.
 * @param {string} a
 * @param {string} b
 * @returns {string}
 */
export function directConversation(a, b) {
  const [first, second] = a < b ? [a, b] : [b, a];
  return `dm:${first}:${second}`;
}

/**
 * A parsed conversation id.
 * @typedef {{ readonly kind: 'room' } | { readonly kind: 'group', readonly group: string }
 *   | { readonly kind: 'dm', readonly users: readonly [string, string] }} ParsedConversation
 */

/**
 * Parses a conversation id; `undefined` when it is not one of the three forms with valid names.
 * @param {string} id
 * @returns {ParsedConversation | undefined}
 */
export function parseConversation(id) {
  if (id === ROOM) return { kind: 'room' };
  if (id.startsWith('group:')) {
    const group = id.slice('group:'.length);
    return isValidName(group) ? { kind: 'group', group } : undefined;
  }
  if (id.startsWith('dm:')) {
    // Names cannot contain ':', so the split is unambiguous.
    const parts = id.slice('dm:'.length).split(':');
    if (parts.length !== 2) return undefined;
    const [a, b] = /** @type {[string, string]} */ (parts);
    if (!isValidName(a) || !isValidName(b) || directConversation(a, b) !== id) return undefined;
    return { kind: 'dm', users: [a, b] };
  }
  return undefined;
}
