/**
 * The home function: the chat page with its configuration injected (docs/architecture.md, "The page"). The page reads
 * `<script id="chat-config" type="application/json">…</script>`; the JSON is escaped so no value can close
 * the script element or start markup.
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { MAX_TEXT_LENGTH } from '../lib/conversation.js';
import { readSetting } from '../lib/settings.js';
import {
  type Dialect,
  type HubProtocolName,
  isHubProtocolName,
  JSON_PROTOCOL_NAME,
} from '../lib/signalr/index.js';
import { APP_ERRORS } from './errors.js';
import { type AuthMode, identify } from './identity.js';
import { attachmentsOrigin, pageSecurityHeaders } from './page-security.js';
import { reactionLimitsFromSettings } from './services.js';
import { loadPageTemplate } from './static-files.js';

/** The marker in `static/index.html` that the configuration replaces. */
export const CONFIG_PLACEHOLDER = '<!--CHAT_CONFIG-->';

/**
 * The SignalR transports the page can be held to (`?transport=`); without one the client picks (WebSockets
 * first, then Server-Sent Events, then Long Polling).
 */
export const PAGE_TRANSPORTS = ['websockets', 'sse', 'longpolling'] as const;
export type PageTransport = (typeof PAGE_TRANSPORTS)[number];

function isPageTransport(value: string): value is PageTransport {
  return (PAGE_TRANSPORTS as readonly string[]).includes(value);
}

/** The services the page can chat over (`?service=`): SignalR (the default) or Azure Web PubSub. */
export const PAGE_SERVICES = ['signalr', 'webpubsub'] as const;
export type PageService = (typeof PAGE_SERVICES)[number];

function isPageService(value: string): value is PageService {
  return (PAGE_SERVICES as readonly string[]).includes(value);
}

/** Whether the app has an Azure Web PubSub service (REALTIME_SERVICE=webpubsub). */
export function webPubSubConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  return (readSetting('realtimeService', env) ?? 'signalr').trim().toLowerCase() === 'webpubsub';
}

/** The page's address with the retired `dialect=websocket` replaced by `service=webpubsub` (path and query only). */
export function webPubSubAddress(pageUrl: string): string {
  const url = new URL(pageUrl);
  url.searchParams.delete('dialect');
  url.searchParams.set('service', 'webpubsub');
  return `${url.pathname}${url.search}`;
}

/** What the page is told. */
export interface ChatPageConfig {
  /** The user id (with sign-in, the object id; without, the chosen name). */
  readonly user: string | null;
  /** The name to show for the user. */
  readonly name: string | null;
  /** Who vouched for the user: `entra` (signed in, with a sign-out link) or `none` (names are not verified). */
  readonly auth: AuthMode;
  /** The service the page chats over: `webpubsub` (Azure Web PubSub, `?service=webpubsub`) or `signalr`. */
  readonly service: PageService;
  /** How its messages are framed: `websocket` (raw frames) with Web PubSub, `signalr` (the hub protocol) with SignalR. */
  readonly dialect: Dialect;
  /** The one transport the signalr client may use, or null to let it choose. */
  readonly transport: PageTransport | null;
  /** The hub protocol of the signalr dialect (`?protocol=messagepack`; JSON by default). */
  readonly protocol: HubProtocolName;
  readonly apiBase: string;
  readonly maxTextLength: number;
  /** Distinct reactions shown per message (`CHAT_MAX_REACTIONS_PER_MESSAGE`). */
  readonly maxReactionsPerMessage: number;
  /** Characters a reply's quote keeps (`CHAT_REPLY_EXCERPT_LENGTH`): the page cuts an edited quote to it. */
  readonly replyExcerptLength: number;
  readonly hub: string;
  /** Whether the page offers attachments (off with `CHAT_ATTACHMENTS_STORAGE=off`; docs/architecture.md, "Attachments"). */
  readonly attachments?: boolean;
  /** With attachments, the largest file in bytes (`CHAT_ATTACHMENT_MAX_BYTES`): the page refuses a larger one itself. */
  readonly maxAttachmentBytes?: number;
  /**
   * Only when `?name=` was refused (the printed `?name=<you>` among them): the name given, shown again in the
   * name prompt with the reason, so the person fixes it there instead of facing a bare error.
   */
  readonly refusedName?: { readonly name: string; readonly problem: string };
}

/**
 * JSON that is safe inside an HTML `<script>` element: `<`, `>`, `&` and the JavaScript line separators
 * become `\uXXXX` escapes, which JSON.parse reads back as the same characters.
 */
export function jsonForHtml(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** The `<script>` element that replaces {@link CONFIG_PLACEHOLDER}. */
export function configScript(config: ChatPageConfig): string {
  return `<script id="chat-config" type="application/json">${jsonForHtml(config)}</script>`;
}

/**
 * A refusal is plain text that names the problem, not the `{code, message}` JSON of the API: a browser opens
 * this URL and shows the body as it is. It may quote the name given, so it must never be sniffed as HTML.
 */
const TEXT_HEADERS = {
  'content-type': 'text/plain; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

const HTML_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  // The page carries the user's name: never cache it in shared caches.
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** Where Easy Auth signs people in and out (the same paths on App Service and in the built-in local host). */
export const SIGN_IN_PATH = '/.auth/login/aad';
export const SIGN_OUT_PATH = '/.auth/logout';

/**
 * `GET /api/home?name=…[&service=webpubsub][&transport=websockets|sse|longpolling][&protocol=messagepack]`
 * (`?name=` only without sign-in). `?dialect=websocket`, the raw-WebSocket chat's address in the retired 2020
 * preview, redirects to `?service=webpubsub` when Web PubSub is configured.
 */
export async function home(req: HttpRequest, _context: InvocationContext): Promise<HttpResponseInit> {
  const identity = identify(req);
  if (!identity.ok && identity.code === 'invalid-name') {
    // Still a refusal (400), but as the page that asks for a name, the given one filled in and the reason shown.
    const refusedName = { name: req.query.get('name') ?? '', problem: identity.message };
    return renderPage(APP_ERRORS['invalid-name'].status, { ...promptConfig(req), refusedName });
  }
  if (!identity.ok) {
    return { status: APP_ERRORS[identity.code].status, headers: TEXT_HEADERS, body: identity.message };
  }
  if (identity.mode === 'entra' && identity.user === null) {
    // Easy Auth sends unauthenticated browsers to sign-in before they get here; should one arrive anyway
    // (anonymous requests allowed), send it there too, and back to this page afterwards.
    const url = new URL(req.url);
    const back = `${url.pathname}${url.search}`;
    return {
      status: 302,
      headers: {
        location: `${SIGN_IN_PATH}?post_login_redirect_uri=${encodeURIComponent(back)}`,
        'cache-control': 'no-store',
      },
    };
  }
  const dialectParam = req.query.get('dialect');
  const serviceParam = req.query.get('service');
  if (dialectParam !== null && (dialectParam !== 'websocket' || serviceParam !== null)) {
    const { status, message } = APP_ERRORS['dialect-retired'];
    return { status, headers: TEXT_HEADERS, body: message };
  }
  if (serviceParam !== null && !isPageService(serviceParam)) {
    const { status, message } = APP_ERRORS['invalid-service'];
    return { status, headers: TEXT_HEADERS, body: message };
  }
  const webPubSub = webPubSubConfigured();
  if ((serviceParam === 'webpubsub' || dialectParam !== null) && !webPubSub) {
    const { status, message } = APP_ERRORS['webpubsub-not-configured'];
    return { status, headers: TEXT_HEADERS, body: message };
  }
  if (dialectParam !== null) {
    // The raw-WebSocket chat's old address (the retired 2020 preview): that chat is the Web PubSub one.
    return { status: 302, headers: { location: webPubSubAddress(req.url), 'cache-control': 'no-store' } };
  }
  const service: PageService = serviceParam ?? 'signalr';
  // Web PubSub carries raw frames (the websocket dialect): one transport, no hub protocol to choose.
  const dialect: Dialect = service === 'webpubsub' ? 'websocket' : 'signalr';
  const transportParam = req.query.get('transport');
  if (
    transportParam !== null &&
    (!isPageTransport(transportParam) || (dialect === 'websocket' && transportParam !== 'websockets'))
  ) {
    const { status, message } = APP_ERRORS['invalid-transport'];
    return { status, headers: TEXT_HEADERS, body: message };
  }
  const protocolParam = req.query.get('protocol');
  if (
    protocolParam !== null &&
    (!isHubProtocolName(protocolParam) ||
      (protocolParam !== JSON_PROTOCOL_NAME && (dialect !== 'signalr' || transportParam === 'sse')))
  ) {
    const { status, message } = APP_ERRORS['invalid-protocol'];
    return { status, headers: TEXT_HEADERS, body: message };
  }
  return renderPage(200, {
    user: identity.user?.id ?? null,
    name: identity.user?.name ?? null,
    auth: identity.mode,
    service,
    dialect,
    transport: transportParam,
    protocol: protocolParam ?? JSON_PROTOCOL_NAME,
    apiBase: '/api',
    maxTextLength: MAX_TEXT_LENGTH,
    ...pageReactionLimits(),
    hub: readSetting('hubName') ?? 'chat',
    ...pageAttachments(),
  });
}

/** Whether the page offers attachments and, if so, the largest file (as the upload check reads the setting). */
function pageAttachments(): Pick<ChatPageConfig, 'attachments' | 'maxAttachmentBytes'> {
  if (attachmentsOrigin() === undefined) return { attachments: false };
  const maxBytes = Number(readSetting('attachmentMaxBytes'));
  return Number.isSafeInteger(maxBytes) && maxBytes >= 1
    ? { attachments: true, maxAttachmentBytes: maxBytes }
    : { attachments: true };
}

/** The name prompt's configuration when `?name=` was refused: no user, the rest as asked where it is valid. */
function promptConfig(req: HttpRequest): ChatPageConfig {
  const service: PageService =
    req.query.get('service') === 'webpubsub' && webPubSubConfigured() ? 'webpubsub' : 'signalr';
  return {
    user: null,
    name: null,
    auth: 'none',
    service,
    dialect: service === 'webpubsub' ? 'websocket' : 'signalr',
    transport: null,
    protocol: JSON_PROTOCOL_NAME,
    apiBase: '/api',
    maxTextLength: MAX_TEXT_LENGTH,
    ...pageReactionLimits(),
    hub: readSetting('hubName') ?? 'chat',
  };
}

/** The reaction limits as the page's configuration names them. */
function pageReactionLimits(): Pick<ChatPageConfig, 'maxReactionsPerMessage' | 'replyExcerptLength'> {
  const limits = reactionLimitsFromSettings();
  return { maxReactionsPerMessage: limits.maxReactionsPerMessage, replyExcerptLength: limits.excerptLength };
}

async function renderPage(status: number, config: ChatPageConfig): Promise<HttpResponseInit> {
  const template = await loadPageTemplate();
  // A function replacement, so `$` sequences in the JSON are not read as replacement patterns.
  const page = template.replace(CONFIG_PLACEHOLDER, () => configScript(config));
  // The CSP, frame-ancestors and X-Frame-Options: the page cannot be framed or run scripts from elsewhere.
  return { status, headers: { ...HTML_HEADERS, ...pageSecurityHeaders() }, body: page };
}
