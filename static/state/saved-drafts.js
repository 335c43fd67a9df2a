/**
 * What is typed in the message box and not sent yet, per conversation, kept on this browser in localStorage per
 * user id (as the mutes are, ../composables/notifications.js), so that a reload, a closed tab or a crash does
 * not lose it: the box shows it again when its conversation is next open. Sent messages are not drafts: the
 * outbox keeps those (../link/outbox-store.js). Storage that is full or off keeps drafts for the page's life only.
 */

/** Conversations whose drafts are kept, the most recently written ones. */
export const MAX_SAVED_DRAFTS = 50;
/** How long typing rests before the drafts are written to storage (and at once when the page is hidden). */
export const DRAFT_SAVE_DELAY_MS = 400;

/** Storage keys no draft is written to again ({@link stopSavingDrafts}, {@link forgetDrafts}). */
const stopped = new Set();

/**
 * Writes no draft under `storageKey` again for this page's life, whatever a message box still holds, and leaves
 * what is kept there as it is (the page is no longer for the browser's signed-in person:
 * docs/architecture.md, "The page", "Sign-out across tabs").
 * @param {string} storageKey
 */
export function stopSavingDrafts(storageKey) {
  stopped.add(storageKey);
}

/**
 * Forgets the drafts kept under `storageKey` on this browser, and writes none there again for this page's life,
 * whatever a message box still holds (signing out of a shared browser: docs/architecture.md, "The page").
 * @param {string} storageKey
 */
export function forgetDrafts(storageKey) {
  stopSavingDrafts(storageKey);
  try {
    localStorage.removeItem(storageKey);
  } catch {
    // Storage off: nothing was kept.
  }
}

/**
 * The drafts of the user whose storage key is `storageKey` (`''`: kept for the page's life only).
 * @param {string} storageKey
 */
export function savedDrafts(storageKey) {
  /** In order of writing, the newest last. @type {Map<string, string>} */
  const drafts = new Map(storageKey ? readDrafts(storageKey) : []);
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let pending;

  function flush() {
    clearTimeout(pending);
    pending = undefined;
    if (!storageKey || stopped.has(storageKey)) return;
    try {
      if (drafts.size === 0) localStorage.removeItem(storageKey);
      else localStorage.setItem(storageKey, JSON.stringify([...drafts]));
    } catch {
      // Full or off: the drafts stay for the page's life.
    }
  }

  return {
    /** @param {string} conversationId */
    get(conversationId) {
      return drafts.get(conversationId) ?? '';
    },
    /**
     * Keeps `text` as the conversation's draft (blank: none), written to storage once typing rests.
     * @param {string} conversationId
     * @param {string} text
     */
    set(conversationId, text) {
      if ((drafts.get(conversationId) ?? '') === (text.trim() === '' ? '' : text)) return;
      drafts.delete(conversationId);
      if (text.trim() !== '') drafts.set(conversationId, text);
      while (drafts.size > MAX_SAVED_DRAFTS)
        drafts.delete(/** @type {string} */ (drafts.keys().next().value));
      clearTimeout(pending);
      pending = setTimeout(flush, DRAFT_SAVE_DELAY_MS);
    },
    /** Writes what waits at once (the page is being hidden or closed). */
    flush,
    /** Drops every draft of this page (the person signed out), writing nothing. */
    clear() {
      clearTimeout(pending);
      pending = undefined;
      drafts.clear();
    },
  };
}

/**
 * The stored drafts, or none when they cannot be read: only pairs of strings are taken.
 * @param {string} storageKey
 * @returns {Array<[string, string]>}
 */
function readDrafts(storageKey) {
  try {
    const stored = JSON.parse(localStorage.getItem(storageKey) ?? '[]');
    if (!Array.isArray(stored)) return [];
    return stored.filter(
      (pair) => Array.isArray(pair) && typeof pair[0] === 'string' && typeof pair[1] === 'string',
    );
  } catch {
    return [];
  }
}
