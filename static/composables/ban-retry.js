import { BANNED_RETRY_MS } from '../link/refusal.js';
import { onBeforeUnmount, watch } from '../vendor/vue.js';

/**
 * A banned page's way back (docs/architecture.md, "The page", "Connection state"): while the link is refused
 * for a ban, it negotiates again {@link BANNED_RETRY_MS} after each refusal, so a lifted ban lets the page back
 * in without a reload; `retry` is also what "Try again" runs. Still banned, the refusal comes again and so does
 * the next wait.
 * @param {{ status: string, refusal: import('../link/refusal.js').Refusal | null, refusedAt?: number | null }} link
 *   the page's view of its link (../composables/link-status.js)
 * @param {() => void} retry negotiates again now (the transport's `retry`)
 * @returns {() => void} `retry`, for "Try again"
 */
export function useBanRetry(link, retry) {
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  watch(
    () => (link.status === 'refused' && link.refusal?.kind === 'banned' ? link.refusedAt : null),
    (refusedAt) => {
      clearTimeout(timer);
      timer = refusedAt == null ? undefined : setTimeout(retry, BANNED_RETRY_MS);
    },
  );
  onBeforeUnmount(() => clearTimeout(timer));
  return retry;
}
