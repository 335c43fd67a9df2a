/**
 * What every link of the page shares (static/link/connection.js, static/link/webpubsub-link.js): the retry loop with capped,
 * jittered exponential backoff, its states, and the negotiate request that names the user. A refusal no retry can
 * change (static/link/refusal.js) ends the loop for good.
 */
import { LinkRefused, refusalOf } from './refusal.js';

/** First retry delay after a connection is lost for good, in milliseconds; doubled per failed try. */
export const RETRY_BASE_MS = 1000;
/** Longest wait between two tries, in milliseconds. */
export const RETRY_MAX_MS = 30_000;

/**
 * The wait before retry number `attempt` (1-based): exponential, capped, with jitter so that many pages
 * cut off by the same restart do not all come back in the same instant.
 * @param {number} attempt
 */
export function retryDelay(attempt) {
  const exponential = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential * (0.75 + Math.random() * 0.5));
}

/** @param {number} ms */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits `ms`, or less: the browser coming back online (the `online` event) ends the wait, since the next try
 * is then likely to work and the person is looking at "offline".
 * @param {number} ms
 */
export function napUnlessOnline(ms) {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      globalThis.removeEventListener?.('online', done);
      resolve(undefined);
    };
    const timer = setTimeout(done, ms);
    globalThis.addEventListener?.('online', done);
  });
}

/** @param {unknown} error */
export const describe = (error) => (error instanceof Error ? error.message : String(error ?? ''));

/**
 * `refused`: stopped by a refusal (not by the page), so {@link restartRefused} may try again.
 * @typedef {{ stopped: boolean, everConnected: boolean, refused?: boolean, onState: (state: LinkState) => void }} RetryingLink
 */

/**
 * Stops `link` on a refusal and announces it (`status: 'refused'`, with when): the page says why, and its loop
 * tries no more until the page asks it to ({@link restartRefused}: a banned page asks now and then, and when
 * its person says "Try again").
 * @param {RetryingLink} link
 * @param {import('./refusal.js').Refusal} refusal
 */
export function stopRefused(link, refusal) {
  link.stopped = true;
  link.refused = true;
  link.onState({
    status: 'refused',
    attempt: 0,
    retryAt: null,
    error: refusal.message,
    resumed: false,
    refusal,
    refusedAt: Date.now(),
  });
}

/**
 * Starts a link that a refusal stopped once more (`start` runs its loop, whose first try goes at once); `false`,
 * and nothing done, when it was not stopped by a refusal (still trying, or stopped by the page).
 * @param {RetryingLink} link
 * @param {() => void} start
 */
export function restartRefused(link, start) {
  if (!link.refused) return false;
  link.refused = false;
  link.stopped = false;
  start();
  return true;
}

/**
 * The retry loop both links share: tries `open` until it resolves or the link is stopped, announcing each
 * state. The first `freeTries` tries go at once, later ones wait {@link retryDelay}. An `open` that throws
 * {@link LinkRefused} stops the link ({@link stopRefused}).
 * @template T
 * @param {RetryingLink} link
 * @param {() => Promise<T>} open
 * @param {{ attempt: number, lastError: string | null, freeTries: number }} from
 * @returns {Promise<T | null>} what `open` resolved to, or `null` when the link was stopped first
 */
export async function openWithRetry(link, open, { attempt, lastError, freeTries }) {
  while (!link.stopped) {
    if (attempt >= freeTries) {
      const delay = retryDelay(attempt - freeTries + 1);
      link.onState({
        status: 'offline',
        attempt,
        retryAt: Date.now() + delay,
        error: lastError,
        resumed: false,
      });
      await napUnlessOnline(delay);
      if (link.stopped) return null;
    }
    const status = link.everConnected ? 'reconnecting' : 'connecting';
    link.onState({ status, attempt, retryAt: null, error: lastError, resumed: false });
    try {
      const opened = await open();
      const resumed = link.everConnected;
      link.everConnected = true;
      link.onState({ status: 'connected', attempt: 0, retryAt: null, error: null, resumed });
      return opened;
    } catch (error) {
      if (error instanceof LinkRefused) {
        stopRefused(link, error.refusal);
        return null;
      }
      lastError = describe(error);
      attempt += 1;
    }
  }
  return null;
}

/**
 * The negotiate query that names the user: only without sign-in, where a name is a claim. With sign-in
 * (`auth: 'entra'`) the platform's principal decides and the app ignores `?name=`, so the page sends none.
 * @param {{ user: string, auth?: string }} config
 */
export function nameQuery(config) {
  return config.auth === 'entra' ? '' : `name=${encodeURIComponent(config.user)}`;
}

/**
 * Negotiates a link: POSTs to the app's negotiate endpoint with the name query and `query` (the link's kind),
 * and resolves with the service URL it answers; a refusal for good is {@link LinkRefused}, any other refusal or
 * an answer without a url an Error. `X-Requested-With` (as the SignalR client sends it) makes App Service
 * Authentication answer a signed-out request with 401 instead of redirecting it to its sign-in page.
 * @param {{ apiBase: string, user: string, auth?: string }} config
 * @param {string} query
 * @returns {Promise<string>}
 */
export async function negotiateUrl(config, query) {
  const name = nameQuery(config);
  const response = await fetch(`${config.apiBase}/negotiate?${name ? `${name}&` : ''}${query}`, {
    method: 'POST',
    headers: { 'X-Requested-With': 'XMLHttpRequest' },
  });
  if (!response.ok) {
    const text = await response.text();
    const refusal = refusalOf(response.status, text);
    if (refusal) throw new LinkRefused(refusal);
    const detail = text.slice(0, 200);
    throw new Error(`Negotiate failed (${response.status})${detail ? `: ${detail}` : ''}`);
  }
  const body = await response.json();
  if (typeof body?.url !== 'string') throw new Error('Negotiate answered without a url.');
  return body.url;
}

/**
 * `refused`: negotiate refused for good (`refusal` says why, `refusedAt` when); the link has stopped.
 * @typedef {{ status: 'connecting' | 'connected' | 'reconnecting' | 'offline' | 'refused', attempt: number,
 *   retryAt: number | null, error: string | null, resumed: boolean, recovering?: boolean,
 *   refusal?: import('./refusal.js').Refusal, refusedAt?: number }} LinkState
 */
