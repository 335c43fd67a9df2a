/**
 * The ways the page talks to the service (docs/architecture.md, "Two services", "The chat protocol" and "The page"):
 * SignalR, and Azure Web PubSub (static/link/webpubsub-link.js), behind one small interface:
 *
 *   const link = connect(config, { onEvent(type, payload), onState(state) });
 *   link.send(command, payload)   // throws when not connected
 *   link.retry()                  // after a refusal: negotiate again now (a ban may have been lifted)
 *   link.stop()
 *
 * `state` is `{ status, attempt, retryAt, error, resumed }` with `status` one of `connecting`, `connected`,
 * `reconnecting` (the link is trying right now) and `offline` (waiting `retryAt` before the next try).
 * `resumed` is true on a `connected` that follows a lost connection, so the page can catch up. `recovering` (Web
 * PubSub's reliable link only) is true while a dropped socket is being resumed as the same connection: nothing is
 * lost meanwhile, so the page keeps its state and its outbox.
 * Every link retries for ever with capped exponential backoff: a page left open survives the service
 * restarting, however long that takes; only a refusal no retry can change (a ban, a session signed out:
 * static/link/refusal.js) stops it, with `status: 'refused'` and the `refusal`, until the page calls `retry()`.
 */

import { describe, nameQuery, openWithRetry, restartRefused, stopRefused } from './link-retry.js';
import { LinkRefused, refusalOfHttpError } from './refusal.js';
import { connectWebPubSub } from './webpubsub-link.js';

export { RETRY_BASE_MS, RETRY_MAX_MS, retryDelay } from './link-retry.js';

/** The events the chat server sends (docs/architecture.md, "The chat protocol"). */
export const CHAT_EVENTS = Object.freeze([
  'welcome',
  'message',
  'ack',
  'history',
  'searchResults',
  'presence',
  'online',
  'system',
  'conversations',
  'people',
  'typing',
  'group',
  'channels',
  'error',
  'read',
  'seen',
  'readState',
  'moderation',
  'reports',
  'report',
  'reportResolved',
  'audit',
  'audited',
  'sanctions',
]);

/**
 * The service pings every 15 s: Azure SignalR's Serverless keep-alive default (`serverless.keepAliveIntervalInSeconds`,
 * 15), as the local service does (src/local/service/limits.ts, `keepAliveIntervalMs`). A connection silent for
 * 20 s is dead (one ping missed, plus room for a slow network), not the client's default 30 s. Why not less:
 * docs/architecture.md, "The page", "Connection state".
 */
export const SIGNALR_SERVER_TIMEOUT_MS = 20_000;
/** The page's own pings, so the service hears from an idle page well within its 30 s client timeout. */
export const SIGNALR_KEEPALIVE_MS = 10_000;

/** Delays of the SignalR client's own automatic reconnect, before this module's retry loop takes over. */
export const AUTOMATIC_RECONNECT_DELAYS_MS = Object.freeze([0, 1000, 2000, 5000, 10_000]);

/**
 * Opens the link the configuration asks for: Azure Web PubSub (`service: 'webpubsub'`) or SignalR.
 * @param {{ user: string, auth?: string, dialect: string, service?: string, apiBase: string, hub?: string, transport?: 'websockets' | 'sse' | 'longpolling' | null }} config
 * @param {{ onEvent: (type: string, payload: any) => void, onState: (state: LinkState) => void }} handlers
 * @returns {{ send: (command: string, payload: object) => Promise<void>, retry: () => boolean, stop: () => Promise<void>, dialect: string }}
 * @typedef {import('./link-retry.js').LinkState} LinkState
 */
export function connect(config, handlers) {
  return config.service === 'webpubsub'
    ? connectWebPubSub(config, handlers)
    : connectSignalR(config, handlers);
}

/** The page's `transport` setting → the client's `HttpTransportType` name. */
const TRANSPORT_TYPES = Object.freeze({
  websockets: 'WebSockets',
  sse: 'ServerSentEvents',
  longpolling: 'LongPolling',
});

/**
 * signalr dialect: `@microsoft/signalr` (the global `signalR` from the vendored UMD build). Its URL is the API
 * base, so it negotiates at `{apiBase}/negotiate?name=…`, where the app issues the token that fixes the user.
 * With `config.transport` the client uses that transport only; without, it picks the first that works.
 * With `protocol: 'messagepack'` it speaks Microsoft's MessagePack hub protocol (`signalR.protocols.msgpack`).
 * @param {{ user: string, auth?: string, apiBase: string, transport?: 'websockets' | 'sse' | 'longpolling' | null, protocol?: string }} config
 * @param {{ onEvent: (type: string, payload: any) => void, onState: (state: LinkState) => void }} handlers
 */
function connectSignalR(config, { onEvent, onState }) {
  const signalR = /** @type {any} */ (globalThis).signalR;
  if (!signalR) throw new Error('The SignalR client script did not load.');
  const transport = config.transport ? TRANSPORT_TYPES[config.transport] : undefined;
  /** The app's negotiate refused for good on the latest try. @type {import('./refusal.js').Refusal | null} */
  let refusal = null;
  const httpClient = watchNegotiate(signalR, `${config.apiBase}/negotiate`, (found) => {
    refusal = found;
  });
  const builder = new signalR.HubConnectionBuilder()
    .withUrl(nameQuery(config) ? `${config.apiBase}?${nameQuery(config)}` : config.apiBase, {
      httpClient,
      ...(transport ? { transport: signalR.HttpTransportType[transport] } : {}),
    })
    // The client's own reconnect gives up at once on a refusal (a ban closes the connection with leave to reconnect).
    .withAutomaticReconnect({
      nextRetryDelayInMilliseconds: (/** @type {{ previousRetryCount: number }} */ context) =>
        refusal ? null : (AUTOMATIC_RECONNECT_DELAYS_MS[context.previousRetryCount] ?? null),
    })
    .withServerTimeout(SIGNALR_SERVER_TIMEOUT_MS)
    .withKeepAliveInterval(SIGNALR_KEEPALIVE_MS)
    .configureLogging(signalR.LogLevel.Warning);
  if (config.protocol === 'messagepack') {
    const msgpack = signalR.protocols?.msgpack;
    if (!msgpack) throw new Error('The MessagePack protocol script did not load.');
    builder.withHubProtocol(new msgpack.MessagePackHubProtocol());
  }
  const connection = builder.build();
  for (const type of CHAT_EVENTS)
    connection.on(type, (/** @type {any} */ payload) => onEvent(type, payload ?? {}));

  /** @type {import('./link-retry.js').RetryingLink} */
  const link = { stopped: false, everConnected: false, onState };

  connection.onreconnecting((/** @type {unknown} */ error) => {
    onState({
      status: 'reconnecting',
      attempt: 0,
      retryAt: null,
      error: describe(error) || null,
      resumed: false,
    });
  });
  connection.onreconnected(() => {
    onState({ status: 'connected', attempt: 0, retryAt: null, error: null, resumed: true });
  });
  // Automatic reconnect gives up after its last delay (or never started because the first start failed):
  // from here this module's own loop keeps trying.
  connection.onclose((/** @type {unknown} */ error) => {
    if (link.stopped) return;
    if (refusal) stopRefused(link, refusal);
    else void startLoop(describe(error) || 'The connection closed.');
  });

  async function start() {
    refusal = null;
    try {
      await connection.start();
    } catch (error) {
      throw refusal ? new LinkRefused(refusal) : error;
    }
  }

  let looping = false;
  /** @param {string | null} firstError why the last connection ended; `null` for the first start */
  async function startLoop(firstError) {
    if (looping) return;
    looping = true;
    try {
      // The first start tries at once; after a lost connection (automatic reconnect gave up) back off.
      await openWithRetry(link, start, {
        attempt: firstError ? 1 : 0,
        lastError: firstError,
        freeTries: 1,
      });
    } finally {
      looping = false;
    }
  }

  void startLoop(null);
  return {
    dialect: 'signalr',
    /** @param {string} command @param {object} payload */
    async send(command, payload) {
      if (connection.state !== signalR.HubConnectionState.Connected) throw new Error('Not connected.');
      await connection.send(command, payload);
    },
    /** After a refusal, negotiates again now; `false` when the link was not refused. */
    retry() {
      return restartRefused(link, () => void startLoop(null));
    },
    async stop() {
      link.stopped = true;
      link.refused = false;
      await connection.stop();
    },
  };
}

/**
 * The SignalR client's HTTP client, which tells `onRefusal` when the app's negotiate (`negotiateUrl`) refuses for
 * good: the client itself keeps only the text of a failed negotiate, wrapped in its own error.
 * @param {any} signalR the client's global
 * @param {string} negotiateUrl
 * @param {(refusal: import('./refusal.js').Refusal) => void} onRefusal
 */
function watchNegotiate(signalR, negotiateUrl, onRefusal) {
  const negotiatePath = new URL(negotiateUrl, location.href).pathname;
  const inner = new signalR.DefaultHttpClient(signalR.NullLogger.instance);
  class NegotiateWatcher extends signalR.HttpClient {
    /** @param {any} request */
    async send(request) {
      try {
        return await inner.send(request);
      } catch (error) {
        const refusal =
          new URL(request.url, location.href).pathname === negotiatePath && refusalOfHttpError(error);
        if (refusal) onRefusal(refusal);
        throw error;
      }
    }
    /** @param {string} url */
    getCookieString(url) {
      return inner.getCookieString(url);
    }
  }
  return new NegotiateWatcher();
}
