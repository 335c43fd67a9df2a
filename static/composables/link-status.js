import { computed, onBeforeUnmount, reactive, ref, watch } from '../vendor/vue.js';

/**
 * The state of the link to the service as the page shows it: the status pill and banner text, with a
 * "retrying in Ns" countdown that ticks only while offline.
 */
export function useLinkStatus() {
  const link = reactive({
    status: 'connecting',
    attempt: 0,
    retryAt: /** @type {number | null} */ (null),
    error: /** @type {string | null} */ (null),
    /** True while a dropped socket is resumed as the same connection (static/webpubsub-link.js). */
    recovering: false,
  });
  const now = ref(Date.now());
  const connected = computed(() => link.status === 'connected');
  const statusText = computed(() => {
    switch (link.status) {
      case 'connected':
        return 'Connected';
      case 'connecting':
        return 'Connecting…';
      case 'reconnecting':
        return 'Reconnecting…';
      default: {
        const seconds = link.retryAt ? Math.max(0, Math.ceil((link.retryAt - now.value) / 1000)) : 0;
        return seconds > 0 ? `Offline · retrying in ${seconds}s` : 'Offline · retrying…';
      }
    }
  });

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
  onBeforeUnmount(() => clearInterval(ticker));

  return { link, connected, statusText };
}
