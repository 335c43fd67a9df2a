/**
 * The page's configuration. The home function writes it into the page as
 * `<script id="chat-config" type="application/json">` (docs/architecture.md, "The page"): who the user is (decided by
 * the server, never by this page) and who vouched for it, which dialect and hub protocol to speak, the one SignalR
 * transport to use (if the URL held the page to one), where the API is and the text limit.
 */

/** Defaults, used for any field the server left out (and when the page is opened as a plain file). */
export const DEFAULT_CONFIG = Object.freeze({
  user: null,
  /** The name to show for the user (with sign-in it differs from the user id). */
  name: null,
  /** `entra`: signed in, with a sign-out link; `none`: names are claims, not verified. */
  auth: 'none',
  dialect: 'signalr',
  transport: null,
  protocol: 'json',
  apiBase: '/api',
  maxTextLength: 4000,
  hub: 'chat',
});

/** Longest user or group name in characters (code points), as the server checks it. */
export const MAX_NAME_LENGTH = 32;

// Same rules as the server (src/lib/conversation.ts, nameProblem; docs/architecture.md, "Names"): letters and
// digits of any script, space, `_`, `-`, `.`; nothing invisible; NFKC; one script (or Latin with CJK); not `.`/`..`.
const NAME_PATTERN = /^[\p{L}\p{N} _.-]+$/u;
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\p{Cf}\p{Cc}]/u;
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
const ALLOWED_MIXES = [
  ['Latin', 'Han', 'Hiragana', 'Katakana'],
  ['Latin', 'Han', 'Bopomofo'],
  ['Latin', 'Han', 'Hangul'],
];

/**
 * Why a user or group name would be refused, phrased so the person can fix it; `undefined` when valid.
 * The server checks again: this only saves a round trip and explains the rule where the name is typed.
 * @param {string} name
 * @param {'user' | 'group'} what
 */
export function nameProblem(name, what = 'user') {
  if (name.length === 0)
    return `Give your ${what === 'user' ? '' : 'group '}name (1–${MAX_NAME_LENGTH} characters).`;
  if ([...name].length > MAX_NAME_LENGTH) return `That is longer than ${MAX_NAME_LENGTH} characters.`;
  if (INVISIBLE.test(name)) return 'Leave out invisible and text-direction characters.';
  const normal = name.normalize('NFKC');
  if (normal !== name && NAME_PATTERN.test(normal)) return `Write it in its plain form: "${normal}".`;
  if (!NAME_PATTERN.test(name)) return 'Use only letters, digits, spaces, "_", "-" and ".".';
  if (normal !== name) return 'Write it in its plain form (Unicode NFKC).';
  if (name.trim() !== name) return 'Leave out spaces at the start and the end.';
  if (name === '.' || name === '..') return 'Add a letter or digit: "." and ".." are not names.';
  const scripts = new Set();
  for (const char of name) {
    if (!/\p{L}/u.test(char) || SHARED_SCRIPT.test(char)) continue;
    scripts.add(SCRIPT_TESTS.find(([, test]) => test.test(char))?.[0] ?? 'Other');
  }
  if (scripts.size > 1 && !ALLOWED_MIXES.some((mix) => [...scripts].every((s) => mix.includes(s))))
    return 'Use letters of one script: a mix could pass for someone else’s name.';
  return undefined;
}

/**
 * Reads the configuration from the page.
 * @param {Document} doc
 * @returns {{ user: string | null, name: string | null, auth: 'entra' | 'none', dialect: 'signalr' | 'websocket',
 *   transport: 'websockets' | 'sse' | 'longpolling' | null, protocol: 'json' | 'messagepack', apiBase: string,
 *   maxTextLength: number, hub: string }}
 */
export function readConfig(doc = document) {
  const element = doc.getElementById('chat-config');
  let fromServer = {};
  if (element?.textContent) {
    try {
      fromServer = JSON.parse(element.textContent);
    } catch {
      // A broken config block is a server bug; fall back to defaults so the page still explains itself.
      fromServer = {};
    }
  }
  const config = { ...DEFAULT_CONFIG, ...fromServer };
  if (config.dialect !== 'websocket') config.dialect = 'signalr';
  if (!['websockets', 'sse', 'longpolling'].includes(config.transport)) config.transport = null;
  if (config.auth !== 'entra') config.auth = 'none';
  if (config.protocol !== 'messagepack') config.protocol = 'json';
  return config;
}
