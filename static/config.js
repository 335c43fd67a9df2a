/**
 * The page's configuration. The home function writes it into the page as
 * `<script id="chat-config" type="application/json">` (docs/architecture.md, "The page"): who the user is (decided by
 * the server, never by this page) and who vouched for it, which service, dialect and hub protocol to speak, the one SignalR
 * transport to use (if the URL held the page to one), where the API is and the text limit.
 */
import { MAX_TEXT_LENGTH } from './conversation.js';
import { EXCERPT_LENGTH, MAX_REACTIONS_PER_MESSAGE } from './state/reactions.js';

/**
 * What the server decided for this page.
 * @typedef {{ user: string | null, name: string | null, auth: 'entra' | 'none', service: 'signalr' | 'webpubsub',
 *   dialect: 'signalr' | 'websocket',
 *   transport: 'websockets' | 'sse' | 'longpolling' | null, protocol: 'json' | 'messagepack', apiBase: string,
 *   maxTextLength: number, maxReactionsPerMessage: number, replyExcerptLength: number, hub: string, attachments: boolean,
 *   maxAttachmentBytes: number | null, refusedName?: { name: string, problem: string } }} ChatConfig
 */

/**
 * Defaults, used for any field the server left out (and when the page is opened as a plain file).
 * @type {Readonly<ChatConfig>}
 */
export const DEFAULT_CONFIG = Object.freeze({
  user: null,
  /** The name to show for the user (with sign-in it differs from the user id). */
  name: null,
  /** `entra`: signed in, with a sign-out link; `none`: names are claims, not verified. */
  auth: 'none',
  /** `webpubsub`: the chat over Azure Web PubSub (static/link/webpubsub-link.js); `signalr`: over SignalR. */
  service: 'signalr',
  dialect: 'signalr',
  transport: null,
  protocol: 'json',
  apiBase: '/api',
  maxTextLength: MAX_TEXT_LENGTH,
  /** Distinct reactions shown per message, and the characters a reply's quote keeps (the server's settings). */
  maxReactionsPerMessage: MAX_REACTIONS_PER_MESSAGE,
  replyExcerptLength: EXCERPT_LENGTH,
  hub: 'chat',
  /** Whether the server takes files and images (the attach button shows only then). */
  attachments: false,
  /** The largest file the server takes, in bytes (`CHAT_ATTACHMENT_MAX_BYTES`); `null`: not said, the server checks. */
  maxAttachmentBytes: null,
});

/**
 * Reads the configuration from the page.
 * @param {Document} doc
 * @returns {ChatConfig}
 */
export function readConfig(doc = document) {
  const element = doc.getElementById('chat-config');
  /** @type {Record<string, unknown>} */
  let fromServer = {};
  if (element?.textContent) {
    try {
      fromServer = JSON.parse(element.textContent);
    } catch {
      // A broken config block is a server bug; fall back to defaults so the page still explains itself.
      fromServer = {};
    }
  }
  // Fields are taken as the server wrote them; the five that choose code paths are held to their known values.
  const config = /** @type {Record<string, unknown>} */ ({ ...DEFAULT_CONFIG, ...fromServer });
  if (config.service !== 'webpubsub') config.service = 'signalr';
  // Web PubSub carries the websocket dialect's frames.
  if (config.service === 'webpubsub') config.dialect = 'websocket';
  else if (config.dialect !== 'websocket') config.dialect = 'signalr';
  if (!['websockets', 'sse', 'longpolling'].includes(/** @type {string} */ (config.transport)))
    config.transport = null;
  if (config.auth !== 'entra') config.auth = 'none';
  if (config.protocol !== 'messagepack') config.protocol = 'json';
  config.attachments = config.attachments === true;
  for (const [key, fallback] of /** @type {const} */ ([
    ['maxReactionsPerMessage', MAX_REACTIONS_PER_MESSAGE],
    ['replyExcerptLength', EXCERPT_LENGTH],
  ])) {
    const value = config[key];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) config[key] = fallback;
  }
  const maxBytes = config.maxAttachmentBytes;
  if (typeof maxBytes !== 'number' || !Number.isSafeInteger(maxBytes) || maxBytes < 1)
    config.maxAttachmentBytes = null;
  const refused = /** @type {any} */ (config.refusedName);
  if (typeof refused?.name !== 'string' || typeof refused?.problem !== 'string') delete config.refusedName;
  return /** @type {ChatConfig} */ (config);
}
