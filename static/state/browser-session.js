/**
 * Who is signed in on this browser, as every tab of it sees it (docs/architecture.md, "The page", "Sign-out
 * across tabs"). App Service Authentication keeps one session cookie per browser, so a sign-out in one tab, or
 * someone else signing in there, ends the session of every tab; but another tab's open connection, its outbox
 * and its message box go on as before unless they are told. So a chat page with sign-in writes whose session the
 * browser holds into localStorage ({@link SESSION_KEY}) when it opens, and `null` there when it signs out, and
 * says the same on a BroadcastChannel ({@link SESSION_CHANNEL}), which works where storage is off. Every other tab
 * hears it (the `storage` event, the channel) and, once it is not for the browser's signed-in person any more,
 * stops as signed out. A tab that slept through it (frozen in the background, or kept in the back-forward cache)
 * reads the record again when it is shown.
 */

/** The localStorage key of the record: `{"user": <id>}` while signed in, `{"user": null}` after a sign-out. */
export const SESSION_KEY = 'chat.session';
/** The BroadcastChannel on which tabs say the same record. */
export const SESSION_CHANNEL = 'chat.session';

/**
 * @typedef {{ user: string | null }} SessionRecord
 * @typedef {'sign-out' | 'other-account'} SessionEnd how a tab's session ended elsewhere: a sign-out, or
 *   another account signed in on the browser
 */

/**
 * How the browser's session `record` ends the session of a tab signed in as `me`, or null while it is still
 * theirs (or nothing is known).
 * @param {string} me
 * @param {unknown} record
 * @returns {SessionEnd | null}
 */
export function sessionEndFor(me, record) {
  const user = /** @type {{ user?: unknown } | null} */ (record)?.user;
  if (user === null) return 'sign-out';
  if (typeof user === 'string' && user !== me) return 'other-account';
  return null;
}

/** @returns {unknown} the stored record, or null when there is none or storage is off */
function readRecord() {
  try {
    return JSON.parse(localStorage.getItem(SESSION_KEY) ?? 'null');
  } catch {
    return null;
  }
}

/**
 * Watches the browser's session for the tab of `me` (signed in): says at once that the browser is signed in as
 * `me`, and calls `onEnded` once when the session is no longer theirs. `signedOut()` tells the other tabs that
 * this one signs out (call it before going to the sign-out); `stop()` stops listening.
 * @param {string} me
 * @param {{ onEnded: (end: SessionEnd) => void }} handlers
 */
export function watchBrowserSession(me, { onEnded }) {
  const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(SESSION_CHANNEL) : null;
  let over = false;

  /** @param {SessionRecord} record */
  function say(record) {
    try {
      localStorage.setItem(SESSION_KEY, JSON.stringify(record));
    } catch {
      // Storage off: the channel still tells the tabs that are open.
    }
    channel?.postMessage(record);
  }

  /** @param {unknown} record */
  function judge(record) {
    if (over) return;
    const end = sessionEndFor(me, record);
    if (!end) return;
    over = true;
    onEnded(end);
  }

  /** @param {StorageEvent} event */
  const onStorage = (event) => {
    if (event.key === SESSION_KEY) judge(readRecord());
  };
  /** @param {MessageEvent} event */
  const onMessage = (event) => judge(event.data);
  const onShown = () => {
    if (document.visibilityState !== 'hidden') judge(readRecord());
  };

  // This page was just served for `me`: the browser's session is theirs now.
  say({ user: me });
  window.addEventListener('storage', onStorage);
  channel?.addEventListener('message', onMessage);
  window.addEventListener('pageshow', onShown);
  document.addEventListener('visibilitychange', onShown);

  function stop() {
    window.removeEventListener('storage', onStorage);
    window.removeEventListener('pageshow', onShown);
    document.removeEventListener('visibilitychange', onShown);
    channel?.close();
  }

  return {
    /** This tab signs out: every other tab stops as signed out. */
    signedOut() {
      over = true;
      say({ user: null });
    },
    stop,
  };
}
