import { computed, onBeforeUnmount, reactive, ref, watch } from '../vendor/vue.js';

/**
 * The state of the link to the service as the page shows it (docs/architecture.md, "The page", "Connection
 * state"): the status pill, and a banner in plain words whenever messages cannot leave right now. The browser's
 * own view counts too: when it says it is offline (`navigator.onLine`, the `offline` event) the page says so at
 * once, whatever the socket still claims, and sends nothing until it is back online.
 */
export function useLinkStatus() {
  const link = reactive({
    status: 'connecting',
    attempt: 0,
    retryAt: /** @type {number | null} */ (null),
    error: /** @type {string | null} */ (null),
    /** True while a dropped socket is resumed as the same connection (static/link/webpubsub-link.js). */
    recovering: false,
  });
  /** What the browser says of the network. */
  const online = ref(typeof navigator === 'undefined' ? true : navigator.onLine !== false);
  const now = ref(Date.now());
  /** Messages can leave now: the link is up (or being resumed without loss) and the browser is online. */
  const connected = computed(() => online.value && (link.status === 'connected' || link.recovering));
  /** What the pill says, and which colour it takes. */
  const shownStatus = computed(() => (online.value ? link.status : 'offline'));
  const statusText = computed(() => {
    if (!online.value) return 'Offline';
    switch (link.status) {
      case 'connected':
        return 'Connected';
      case 'connecting':
        return 'Connecting…';
      case 'reconnecting':
        return 'Reconnecting…';
      default: {
        const seconds = retrySeconds();
        return seconds > 0 ? `Offline · retrying in ${seconds}s` : 'Offline · retrying…';
      }
    }
  });
  /** The banner, or '' when all is well: what happened and what becomes of what the person writes. */
  const bannerText = computed(() => {
    if (!online.value) return 'You are offline — messages will be sent when you reconnect.';
    switch (link.status) {
      case 'connected':
        return '';
      case 'connecting':
        return 'Connecting to the chat…';
      case 'reconnecting':
        return 'The connection was lost. Reconnecting — messages will be sent when it is back.';
      default: {
        const seconds = retrySeconds();
        const when = seconds > 0 ? `trying again in ${seconds} s` : 'trying again';
        return `Cannot reach the chat — ${when}. Messages will be sent when it is back.`;
      }
    }
  });

  function retrySeconds() {
    return link.retryAt ? Math.max(0, Math.ceil((link.retryAt - now.value) / 1000)) : 0;
  }

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

  return { link, online, connected, shownStatus, statusText, bannerText };
}
