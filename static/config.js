/**
 * The page's configuration. The home function writes it into the page as
 * `<script id="chat-config" type="application/json">` (docs/architecture.md, "The page"): who the user is (decided by
 * the server, never by this page), which dialect to speak, the one SignalR transport to use (if the URL held the
 * page to one), where the API is and the text limit.
 */

/** Defaults, used for any field the server left out (and when the page is opened as a plain file). */
export const DEFAULT_CONFIG = Object.freeze({
  user: null,
  dialect: 'signalr',
  transport: null,
  apiBase: '/api',
  maxTextLength: 4000,
  hub: 'chat',
});

/** Longest user or group name in characters (code points), as the server checks it. */
export const MAX_NAME_LENGTH = 32;

// Same rule as the server (src/lib/chat/names.ts): letters and digits of any script, space, `_`, `-`, `.`.
const NAME_PATTERN = /^[\p{L}\p{N} _.-]+$/u;

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
  if (!NAME_PATTERN.test(name)) return 'Use only letters, digits, spaces, "_", "-" and ".".';
  if (name.trim() !== name) return 'Leave out spaces at the start and the end.';
  return undefined;
}

/**
 * Reads the configuration from the page.
 * @param {Document} doc
 * @returns {{ user: string | null, dialect: 'signalr' | 'websocket', transport: 'websockets' | 'sse' | 'longpolling' | null, apiBase: string, maxTextLength: number, hub: string }}
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
  return config;
}
