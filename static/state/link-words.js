/**
 * What the page says of its link to the service (docs/architecture.md, "The page", "Connection state"): the status
 * pill, in full and in the phone's shorter words, and the banner in plain words whenever messages cannot leave,
 * with what becomes of what the person wrote. Plain functions of {@link LinkView}; ../composables/link-status.js
 * keeps the view up to date.
 */

import { ROOM } from '../conversation.js';
import { BANNED_RETRY_MS } from '../link/refusal.js';
import { timeOfDay } from '../text/format.js';
import { fragmentOf } from './address.js';

/** Where App Service Authentication signs people in and out (as src/app/home.ts, `SIGN_IN_PATH`, `SIGN_OUT_PATH`). */
export const SIGN_IN_PATH = '/.auth/login/aad';
export const SIGN_OUT_PATH = '/.auth/logout';

/**
 * @typedef {{ online: boolean, status: import('../link/link-retry.js').LinkState['status'], retrySeconds: number,
 *   refusal: import('../link/refusal.js').Refusal | null, refusedAt?: number | null, unsent: number }} LinkView
 * `online`: what the browser says of the network; `retrySeconds`: left before the next try (0: none planned);
 * `refusedAt`: when the refusal came (ms); `unsent`: messages written and not stored by the server yet.
 */

/**
 * The status the pill shows (its colour and `data-status`): a refusal wins, since no network can change it; then
 * the browser's own view of the network.
 * @param {LinkView} view
 */
export function shownStatus(view) {
  if (view.status === 'refused') return 'refused';
  return view.online ? view.status : 'offline';
}

/** @param {LinkView} view */
export function statusText(view) {
  if (view.status === 'refused') return view.refusal?.kind === 'banned' ? 'Banned' : 'Signed out';
  if (!view.online) return 'Offline';
  switch (view.status) {
    case 'connected':
      return 'Connected';
    case 'connecting':
      return 'Connecting…';
    case 'reconnecting':
      return 'Reconnecting…';
    default:
      return view.retrySeconds > 0 ? `Offline · retrying in ${view.retrySeconds}s` : 'Offline · retrying…';
  }
}

/**
 * The pill's words on a phone, where the bar is 390 px wide: the countdown without "retrying in".
 * @param {LinkView} view
 */
export function shortStatusText(view) {
  if (view.online && view.status === 'offline')
    return view.retrySeconds > 0 ? `Offline · ${view.retrySeconds}s` : 'Offline';
  return statusText(view);
}

/**
 * What becomes of the messages not sent yet when the link has stopped for good: they stay in this browser's outbox.
 * @param {number} unsent
 */
export function unsentLine(unsent) {
  if (unsent <= 0) return '';
  const messages = unsent === 1 ? '1 message you wrote was' : `${unsent} messages you wrote were`;
  return ` ${messages} not sent: ${unsent === 1 ? 'it stays' : 'they stay'} on this browser.`;
}

/**
 * What a message waiting to be sent says while the link is refused for good, or '' (it says "Sending…"): the
 * page no longer tries, so "Sending…" would not be true.
 * @param {LinkView} view
 */
export function heldText(view) {
  if (view.status !== 'refused') return '';
  return view.refusal?.kind === 'banned'
    ? 'Not sent: this account is banned from the chat'
    : 'Not sent yet: sign in again to send it';
}

/** How the banner says a session ended: at negotiate (`here`), or in another tab of the browser. */
const signedOutWords = Object.freeze({
  here: 'You are signed out',
  'sign-out': 'You signed out in another tab',
  'other-account': 'Another account is signed in on this browser now, so this page has stopped',
});

/**
 * The banner, or '' when all is well: what happened and what becomes of what the person writes.
 * @param {LinkView} view
 */
export function bannerText(view) {
  if (view.status === 'refused') {
    const { refusal } = view;
    if (refusal?.kind === 'banned') {
      const why = refusal.reason ? ` (reason: ${refusal.reason})` : '';
      const asked = view.refusedAt ? ` (last at ${timeOfDay(new Date(view.refusedAt).toISOString())})` : '';
      const every = Math.round(BANNED_RETRY_MS / 60_000);
      return `This account is banned from the chat${why}. The page asks every ${every} minutes whether the ban is lifted${asked}; "Try again" asks now.${unsentLine(view.unsent)}`;
    }
    return `${signedOutWords[refusal?.elsewhere ?? 'here']}: sign in again to keep chatting.${unsentLine(view.unsent)}`;
  }
  if (!view.online) return 'You are offline — messages will be sent when you reconnect.';
  switch (view.status) {
    case 'connected':
      return '';
    case 'connecting':
      return 'Connecting to the chat…';
    case 'reconnecting':
      return 'The connection was lost. Reconnecting — messages will be sent when it is back.';
    default: {
      const when = view.retrySeconds > 0 ? `trying again in ${view.retrySeconds} s` : 'trying again';
      return `Cannot reach the chat — ${when}. Messages will be sent when it is back.`;
    }
  }
}

/**
 * Why the message box is off, or '' (it is on): signed out, nothing written could be sent as the person; banned,
 * nothing written could be sent at all until a moderator lifts the ban.
 * @param {LinkView} view
 */
export function composerOffText(view) {
  if (view.status !== 'refused') return '';
  return view.refusal?.kind === 'banned'
    ? 'Banned: you can write once the ban is lifted.'
    : 'You are signed out: sign in again to write.';
}

/**
 * What the hint under the message box says while messages cannot leave right now, or '' (they can; it says how
 * to send): a promise that they leave later only while the page still tries (refused, the box is off and says
 * why: {@link composerOffText}).
 * @param {LinkView & { connected: boolean }} view `connected`: messages can leave now
 */
export function composerHintText(view) {
  if (view.connected || view.status === 'refused') return '';
  return 'Offline: messages are sent when the connection is back.';
}

/**
 * What the online list says instead of its people once the link has stopped for good, or '' (it shows them):
 * nothing would keep it true any more.
 * @param {LinkView} view
 */
export function onlineListText(view) {
  if (view.status !== 'refused') return '';
  return view.refusal?.kind === 'banned'
    ? 'Who is online is not shown while this account is banned.'
    : 'Sign in again to see who is online.';
}

/**
 * The sign-in address that comes back to `returnTo` (the page's path and query) once signed in, with the open
 * conversation in its fragment (none for the room): only a conversation's fragment, made from its id, is added,
 * and the redirect stays the page's own path.
 * @param {string} returnTo
 * @param {string} [conversationId]
 */
export function signInUrl(returnTo, conversationId = ROOM) {
  return `${SIGN_IN_PATH}?post_login_redirect_uri=${encodeURIComponent(`${returnTo}${fragmentOf(conversationId)}`)}`;
}
