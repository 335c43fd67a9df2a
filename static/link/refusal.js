/**
 * Negotiate's refusals that no retry can change (docs/architecture.md, "The page", "Connection state"): a ban
 * (403 `{"code":"banned",…}`) and a session that is not signed in any more (401, from the app or from the
 * platform's sign-in in front of it). On them a link stops and the page says why, instead of retrying for ever;
 * any other failure (the service down, 429, a network error) is retried as before. Only a moderator can lift a
 * ban: a banned page asks again every {@link BANNED_RETRY_MS}, and when its person says "Try again".
 */

/**
 * `elsewhere`: the session ended in another tab of the browser, not at negotiate (see {@link endedElsewhere}).
 * @typedef {{ kind: 'banned', reason: string | null, message: string }
 *   | { kind: 'signed-out', message: string, elsewhere?: import('../state/browser-session.js').SessionEnd }} Refusal
 */

/**
 * How often a banned page asks again whether its ban is lifted, in milliseconds (5 minutes): rarely, since a ban
 * is seldom lifted within minutes and each ask is a negotiate; "Try again" asks at once.
 */
export const BANNED_RETRY_MS = 5 * 60_000;

/** The longest part of a refusal's body kept as its message. */
export const REFUSAL_MESSAGE_MAX_CHARS = 300;

/**
 * The refusal a negotiate answer is, or null when a later try may work.
 * @param {number} status the HTTP status
 * @param {string} body the answer's text (`{"code","message"}` from the app, plain text from the platform)
 * @returns {Refusal | null}
 */
export function refusalOf(status, body) {
  /** @type {any} */
  let parsed = null;
  try {
    parsed = JSON.parse(body);
  } catch {
    // Not the app's JSON (the platform's 401 is text): the text is the message.
  }
  const message = (typeof parsed?.message === 'string' ? parsed.message : String(body ?? '')).slice(
    0,
    REFUSAL_MESSAGE_MAX_CHARS,
  );
  if (status === 403 && parsed?.code === 'banned') {
    const reason = typeof parsed.reason === 'string' && parsed.reason.trim() !== '' ? parsed.reason : null;
    return { kind: 'banned', reason, message };
  }
  if (status === 401) return { kind: 'signed-out', message };
  return null;
}

/**
 * The refusal in the SignalR client's `HttpError` (`statusCode`, and the answer's text as its message followed by
 * `: Status code '403'`), or null.
 * @param {unknown} error
 * @returns {Refusal | null}
 */
export function refusalOfHttpError(error) {
  const { statusCode, message } = /** @type {{ statusCode?: unknown, message?: unknown }} */ (error ?? {});
  if (typeof statusCode !== 'number') return null;
  return refusalOf(statusCode, String(message ?? '').replace(/: Status code '\d+'$/, ''));
}

/**
 * What stops a tab whose session ended in another tab of the browser (static/state/browser-session.js): a
 * sign-out there, or another account signed in. No negotiate is asked: the tab stops before it sends anything
 * more as its person.
 * @param {import('../state/browser-session.js').SessionEnd} end
 * @returns {Refusal}
 */
export function endedElsewhere(end) {
  const message =
    end === 'sign-out' ? 'Signed out in another tab.' : 'Another account signed in on this browser.';
  return { kind: 'signed-out', message, elsewhere: end };
}

/** A negotiate refused for good: the link stops with {@link LinkRefused.refusal}. */
export class LinkRefused extends Error {
  /** @param {Refusal} refusal */
  constructor(refusal) {
    super(refusal.message || (refusal.kind === 'banned' ? 'Banned from the chat.' : 'Not signed in.'));
    this.name = 'LinkRefused';
    this.refusal = refusal;
  }
}
