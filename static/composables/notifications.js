import { plainText } from '../text/markdown.js';
import { ref } from '../vendor/vue.js';

/** Longest excerpt of a message a notification shows. */
export const NOTIFICATION_MAX_CHARS = 140;

/**
 * Browser notifications for private messages and mentions of me while the tab is hidden (docs/architecture.md,
 * "The page", "Notifications"). Permission is asked only from `enable`, which a button calls (a user gesture),
 * never on load. Muted conversations are kept in localStorage for now (per user id, on this browser only): a
 * muted conversation never shows a message's text, and only a mention of me in it notifies at all.
 * Clicking a notification brings the tab forward and opens its conversation.
 * @param {{ me: string, open: (conversationId: string) => void }} options
 */
export function useNotifications({ me, open }) {
  const supported = typeof window.Notification === 'function';
  const permission = ref(supported ? window.Notification.permission : 'denied');
  const storageKey = mutedKey(me);
  const muted = ref(/** @type {string[]} */ (readMuted(storageKey)));

  async function enable() {
    if (!supported) return;
    permission.value = await window.Notification.requestPermission();
  }

  /** @param {string} conversationId */
  function toggleMute(conversationId) {
    const next = muted.value.includes(conversationId)
      ? muted.value.filter((id) => id !== conversationId)
      : [...muted.value, conversationId];
    muted.value = next;
    if (stoppedMutes.has(storageKey)) return;
    try {
      localStorage.setItem(storageKey, JSON.stringify(next));
    } catch {
      // Storage full or off: the mute holds until the page is closed.
    }
  }

  /**
   * A new message from someone else arrived.
   * @param {{ conversation: string, text: string }} message
   * @param {{ from: string, where: string, direct: boolean, mentioned: boolean }} about shown names
   */
  function notify(message, { from, where, direct, mentioned }) {
    if (!supported || permission.value !== 'granted' || document.visibilityState !== 'hidden') return;
    if (!direct && !mentioned) return;
    const isMuted = muted.value.includes(message.conversation);
    if (isMuted && !mentioned) return;
    const title = mentioned ? `${from} mentioned you ${where}` : `${from} (private message)`;
    const body = isMuted ? '' : plainText(String(message.text)).slice(0, NOTIFICATION_MAX_CHARS);
    const shown = new window.Notification(title, { body, tag: message.conversation });
    shown.onclick = () => {
      window.focus();
      open(message.conversation);
      shown.close();
    };
  }

  return { supported, permission, muted, enable, toggleMute, notify };
}

/** Where the mutes of user `me` are kept on this browser. @param {string} me */
const mutedKey = (me) => `chat.muted.${me}`;

/** Storage keys no mute is written to again ({@link stopSavingMutes}, {@link forgetMutes}). */
const stoppedMutes = new Set();

/**
 * Writes no mute of user `me` again for this page's life, leaving what is kept as it is (the page is no longer
 * for the browser's signed-in person: docs/architecture.md, "The page", "Sign-out across tabs").
 * @param {string} me
 */
export function stopSavingMutes(me) {
  stoppedMutes.add(mutedKey(me));
}

/**
 * Forgets the mutes of user `me` on this browser, and writes none again for this page's life (signing out of a
 * shared browser: docs/architecture.md, "The page").
 * @param {string} me
 */
export function forgetMutes(me) {
  stopSavingMutes(me);
  try {
    localStorage.removeItem(mutedKey(me));
  } catch {
    // Storage off: nothing was kept.
  }
}

/** @param {string} key @returns {string[]} */
function readMuted(key) {
  try {
    const value = JSON.parse(localStorage.getItem(key) ?? '[]');
    return Array.isArray(value) ? value.filter((id) => typeof id === 'string') : [];
  } catch {
    return [];
  }
}
