import { onBeforeUnmount } from '../vendor/vue.js';

/**
 * Asks before the page is left only when leaving would lose a message (neither stored nor kept on this browser
 * yet): the browser's own "leave site?" question, for as long as the component lives or until the returned
 * function stops it (a sign-out, which discards what was unsent on purpose).
 * @param {() => boolean} wouldLose
 * @returns {() => void}
 */
export function useLeaveGuard(wouldLose) {
  /** @param {BeforeUnloadEvent} event */
  const warn = (event) => {
    if (!wouldLose()) return;
    event.preventDefault();
    event.returnValue = '';
  };
  const stop = () => window.removeEventListener('beforeunload', warn);
  window.addEventListener('beforeunload', warn);
  onBeforeUnmount(stop);
  return stop;
}
