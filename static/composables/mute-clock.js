import { isMuted } from '../state/moderation.js';
import { shortMoment } from '../text/format.js';
import { computed, onBeforeUnmount, ref, watch } from '../vendor/vue.js';

/** The longest wait one timer may have (browsers run a longer one at once). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Whether I am muted now, kept true until the mute's end and false from then on (the page changes then, not at
 * its next render), the end in few words ("14:05", "tomorrow 14:05"), and what the page says of it: one short line above the message box
 * (what a mute refuses is said by the server's refusal when it comes), and why the box does not send.
 * @param {() => import('../state/moderation.js').ModerationState | null} moderation
 */
export function useMuteClock(moderation) {
  const now = ref(Date.now());
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  /** @param {string | null | undefined} until */
  function wake(until) {
    clearTimeout(timer);
    now.value = Date.now();
    const wait = until ? Date.parse(until) - now.value : Number.NaN;
    if (wait > 0) timer = setTimeout(() => wake(until), Math.min(wait, MAX_TIMER_MS));
  }
  watch(() => moderation()?.mutedUntil, wake, { immediate: true });
  onBeforeUnmount(() => clearTimeout(timer));
  const muted = computed(() => {
    const mod = moderation();
    return mod !== null && isMuted(mod, now.value);
  });
  const until = computed(() =>
    muted.value ? shortMoment(String(moderation()?.mutedUntil), new Date(now.value)) : '',
  );
  const line = computed(() => (muted.value ? `A moderator muted you until ${until.value}.` : ''));
  const sendOff = computed(() =>
    muted.value ? `Sending is off until ${until.value}: your draft is kept.` : '',
  );
  return { muted, until, line, sendOff };
}
