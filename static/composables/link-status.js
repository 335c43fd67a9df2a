import {
  bannerText as bannerOf,
  composerHintText,
  composerOffText,
  heldText as heldOf,
  onlineListText,
  shortStatusText as shortStatusOf,
  shownStatus as shownStatusOf,
  statusText as statusOf,
} from '../state/link-words.js';
import { computed, onBeforeUnmount, reactive, ref, watch } from '../vendor/vue.js';

/**
 * The state of the link to the service as the page shows it (docs/architecture.md, "The page", "Connection
 * state"): the status pill, and a banner in plain words whenever messages cannot leave right now (the words:
 * ../state/link-words.js). The browser's own view counts too: when it says it is offline (`navigator.onLine`, the
 * `offline` event) the page says so at once, whatever the socket still claims, and sends nothing until it is back
 * online. A refusal (a ban, a session signed out) is said as such: the link has stopped trying (a banned page
 * asks again now and then: ./ban-retry.js), so nothing promises that messages leave later, the message box is off
 * and the online list, which nothing keeps true any more, is not shown.
 * @param {{ unsent?: () => number }} [options] `unsent`: how many messages are not stored by the server yet
 */
export function useLinkStatus({ unsent = () => 0 } = {}) {
  const link = reactive({
    status: /** @type {import('../link/link-retry.js').LinkState['status']} */ ('connecting'),
    attempt: 0,
    retryAt: /** @type {number | null} */ (null),
    error: /** @type {string | null} */ (null),
    /** True while a dropped socket is resumed as the same connection (static/link/webpubsub-link.js). */
    recovering: false,
    /** Why negotiate refused for good (with `status: 'refused'`). @type {import('../link/refusal.js').Refusal | null} */
    refusal: /** @type {import('../link/refusal.js').Refusal | null} */ (null),
    /** When it refused (ms since the epoch), with `refusal`. */
    refusedAt: /** @type {number | null} */ (null),
  });
  /** What the browser says of the network. */
  const online = ref(typeof navigator === 'undefined' ? true : navigator.onLine !== false);
  const now = ref(Date.now());
  /** Messages can leave now: the link is up (or being resumed without loss) and the browser is online. */
  const connected = computed(() => online.value && (link.status === 'connected' || link.recovering));
  const view = computed(() => ({
    online: online.value,
    status: link.status,
    retrySeconds: link.retryAt ? Math.max(0, Math.ceil((link.retryAt - now.value) / 1000)) : 0,
    refusal: link.refusal,
    refusedAt: link.refusedAt,
    unsent: unsent(),
  }));
  /** What the pill says (in full, and on a phone), and which colour it takes. */
  const shownStatus = computed(() => shownStatusOf(view.value));
  const statusText = computed(() => statusOf(view.value));
  const shortStatusText = computed(() => shortStatusOf(view.value));
  /** The banner, or '' when all is well. */
  const bannerText = computed(() => bannerOf(view.value));
  const heldText = computed(() => heldOf(view.value));
  /** Why the message box is off, what its hint says while nothing can leave, and the online list's words. */
  const composerOff = computed(() => composerOffText(view.value));
  const composerHint = computed(() => composerHintText({ ...view.value, connected: connected.value }));
  const onlineOff = computed(() => onlineListText(view.value));

  const wentOffline = () => (online.value = false);
  const cameOnline = () => (online.value = true);
  window.addEventListener('offline', wentOffline);
  window.addEventListener('online', cameOnline);

  // The countdown needs a clock, but only while offline.
  /** @type {ReturnType<typeof setInterval> | undefined} */
  let ticker;
  watch(
    () => link.status,
    (status) => {
      clearInterval(ticker);
      ticker = undefined;
      if (status === 'offline') ticker = setInterval(() => (now.value = Date.now()), 1000);
      now.value = Date.now();
    },
  );
  onBeforeUnmount(() => {
    clearInterval(ticker);
    window.removeEventListener('offline', wentOffline);
    window.removeEventListener('online', cameOnline);
  });

  return {
    link,
    online,
    connected,
    shownStatus,
    statusText,
    shortStatusText,
    bannerText,
    heldText,
    composerOff,
    composerHint,
    onlineOff,
  };
}
