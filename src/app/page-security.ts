/**
 * The headers that keep the chat page from being framed or made to run foreign code (docs/architecture.md,
 * "The page", "Content-Security-Policy"). The page's scripts all come from the app (`/api/assets/…`); its
 * configuration is a `<script type="application/json">` block, which is data and is never executed, so no
 * inline script needs allowing.
 */
import { readSetting } from '../lib/settings.js';
import { signalRConfigFromSettings } from '../lib/signalr/index.js';

/** Sent on every response of the app's HTTP functions, errors included: no content type is ever guessed. */
export const NOSNIFF = { 'x-content-type-options': 'nosniff' } as const;

/** One `frame-ancestors` source: a keyword, a scheme, or a host source (no spaces, quotes, `;` or `,`). */
const FRAME_SOURCE =
  /^(?:'none'|'self'|[a-z][a-z0-9+.-]*:|(?:[a-z][a-z0-9+.-]*:\/\/)?[*a-z0-9.-]+(?::(?:\d+|\*))?)$/i;

/** The sources of `CHAT_FRAME_ANCESTORS`, checked, or an error naming the setting. */
export function frameAncestors(env: NodeJS.ProcessEnv = process.env): string[] {
  const raw = readSetting('frameAncestors', env) ?? "'none'";
  const sources = raw.split(/\s+/).filter(Boolean);
  const bad = sources.find((s) => !FRAME_SOURCE.test(s));
  if (sources.length === 0 || bad !== undefined || (sources.includes("'none'") && sources.length > 1)) {
    throw new Error(
      `The app setting CHAT_FRAME_ANCESTORS must be 'none', or CSP sources such as 'self' https://intranet.example, separated by spaces${bad ? ` (not ${JSON.stringify(bad)})` : ''}`,
    );
  }
  return sources;
}

/**
 * The origins the page connects to besides its own: the SignalR service endpoint in its HTTP form (the
 * client's negotiate) and its WebSocket form, and with REALTIME_SERVICE=webpubsub the Web PubSub endpoint in both. Empty when the connection settings are missing (the page then
 * cannot connect anyway, and says so).
 */
export function serviceOrigins(env: NodeJS.ProcessEnv = process.env): string[] {
  const origins = new Set<string>();
  for (const endpoint of [signalREndpoint(env), webPubSubEndpoint(env)]) {
    if (endpoint === undefined) continue;
    const ws = endpoint.protocol === 'https:' ? 'wss:' : 'ws:';
    origins.add(endpoint.origin);
    origins.add(`${ws}//${endpoint.host}`);
  }
  return [...origins];
}

function signalREndpoint(env: NodeJS.ProcessEnv): URL | undefined {
  try {
    return new URL(signalRConfigFromSettings(env).connection.endpoint);
  } catch {
    return undefined;
  }
}

/**
 * With REALTIME_SERVICE=webpubsub, the Web PubSub endpoint the page's client URL points at (negotiate hands out
 * `wss://<endpoint host>/client/hubs/{hub}`): from `WebPubSubConnectionString` (its `Port=` honoured) or
 * `WEBPUBSUB_ENDPOINT`.
 */
function webPubSubEndpoint(env: NodeJS.ProcessEnv): URL | undefined {
  if ((readSetting('realtimeService', env) ?? 'signalr').trim().toLowerCase() !== 'webpubsub')
    return undefined;
  const members = new Map<string, string>();
  for (const part of (readSetting('webPubSubConnectionString', env) ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) members.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  const raw = members.get('endpoint') ?? readSetting('webPubSubEndpoint', env);
  if (!raw) return undefined;
  try {
    const url = new URL(raw.startsWith('http') ? raw : `https://${raw}`);
    const port = members.get('port');
    if (port) url.port = port;
    return url;
  } catch {
    return undefined;
  }
}

/**
 * The Blob endpoint's origin the page uploads attachments to and reads them from (docs/architecture.md,
 * "Attachments"): from `CHAT_ATTACHMENTS_STORAGE` (else `CHAT_HISTORY_STORAGE`), a Blob service URI or a
 * connection string (`BlobEndpoint=`, or `AccountName=` with `EndpointSuffix=`, or Azurite's well-known
 * development storage). `undefined` when attachments are off or the setting names no endpoint.
 */
export function attachmentsOrigin(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const storage = readSetting('attachmentsStorage', env) ?? readSetting('historyStorage', env);
  if (storage === undefined || storage.toLowerCase() === 'off') return undefined;
  const members = new Map<string, string>();
  for (const part of storage.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) members.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  const account = members.get('accountname');
  const raw = /^https?:\/\//i.test(storage)
    ? storage
    : (members.get('blobendpoint') ??
      (members.get('usedevelopmentstorage') === 'true'
        ? 'http://127.0.0.1:10000'
        : account !== undefined
          ? `${members.get('defaultendpointsprotocol') ?? 'https'}://${account}.blob.${members.get('endpointsuffix') ?? 'core.windows.net'}`
          : undefined));
  try {
    return raw === undefined ? undefined : new URL(raw).origin;
  } catch {
    return undefined;
  }
}

/**
 * `Content-Security-Policy` of the page. `'unsafe-eval'` is the one allowance: Vue's in-browser template
 * compiler turns each component's template into a function with `new Function`; it lets no script in that
 * does not come from the app.
 */
export function pageContentSecurityPolicy(env: NodeJS.ProcessEnv = process.env): string {
  // The attachments' Blob origin, for uploads (connect) and images (img) only: never for scripts or frames.
  const blob = attachmentsOrigin(env);
  return [
    "default-src 'none'",
    "script-src 'self' 'unsafe-eval'",
    "style-src 'self'",
    `img-src 'self' data:${blob ? ` ${blob}` : ''}`,
    `connect-src 'self' ${[...serviceOrigins(env), ...(blob ? [blob] : [])].join(' ')}`.trim(),
    "base-uri 'none'",
    "form-action 'none'",
    "object-src 'none'",
    `frame-ancestors ${frameAncestors(env).join(' ')}`,
  ].join('; ');
}

/** The page's security headers: the CSP, and `X-Frame-Options` for browsers that do not know `frame-ancestors`. */
export function pageSecurityHeaders(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const ancestors = frameAncestors(env);
  const frameOptions: Record<string, string> =
    ancestors.length === 1 && ancestors[0] === "'none'"
      ? { 'x-frame-options': 'DENY' }
      : ancestors.length === 1 && ancestors[0] === "'self'"
        ? { 'x-frame-options': 'SAMEORIGIN' }
        : {};
  return {
    'content-security-policy': pageContentSecurityPolicy(env),
    ...frameOptions,
    ...NOSNIFF,
  };
}
