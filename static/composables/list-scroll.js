import { nextTick, onMounted, ref, watch } from '../vendor/vue.js';

/** Distance from the bottom, in pixels, that still counts as "reading the newest messages". */
export const STICK_TO_BOTTOM_PX = 80;
/** Distance from the top, in pixels, at which scrolling up asks for older messages. */
export const LOAD_OLDER_AT_PX = 120;
/** Room left above the "New messages" line when a conversation opens at it, in pixels. */
export const UNREAD_LINE_MARGIN_PX = 16;
/** Older pages loaded at most, when a conversation opens, to reach the first unread message. */
export const MAX_LANDING_PAGES = 3;

/**
 * Scrolls the list's own window, and nothing else, so that `element` (inside it) shows: `center` puts it in the
 * middle, as far as the list can scroll; `nearest` scrolls the least that shows it, its top first when it is
 * taller than the window. `element.scrollIntoView` would also scroll every scrollable ancestor, the page
 * included, sliding the top bar off the screen.
 * @param {HTMLElement} scroller @param {Element} element @param {'center' | 'nearest'} [block]
 */
export function scrollWithinList(scroller, element, block = 'nearest') {
  const view = scroller.getBoundingClientRect();
  const box = element.getBoundingClientRect();
  const top = box.top - view.top - scroller.clientTop;
  const bottom = top + box.height;
  const height = scroller.clientHeight;
  let by = 0;
  if (block === 'center') by = top + box.height / 2 - height / 2;
  else if (top < 0) by = top;
  else if (bottom > height) by = Math.min(bottom - height, top);
  if (by !== 0) scroller.scrollTop += by;
}

/**
 * Where the message list stands (docs/architecture.md, "The page"). A conversation opens at its first unread
 * message, the "New messages" line near the top, when the unread ones do not all fit (older pages are loaded
 * to reach it, at most {@link MAX_LANDING_PAGES}); at the newest message otherwise. Then the list stays at the
 * newest message while the reader is there, keeps the reader's place when older messages are added above,
 * and asks for older messages when the reader scrolls near the top.
 * @param {{
 *   scroller: { readonly value: HTMLElement | null },
 *   conversation: () => import('../state/chat-state.js').Conversation,
 *   me: () => string,
 *   loadOlder: () => void,
 * }} options
 */
export function useListScroll({ scroller, conversation, me, loadOlder }) {
  const atBottom = ref(true);
  const newBelow = ref(false);
  /** True from the opening of a conversation until the list was placed for it; the pages it loaded. */
  let landing = true;
  let landingPages = 0;

  const firstKey = () => conversation().messages[0]?.id ?? '';
  const lastKey = () => {
    const c = conversation();
    return `${c.messages.at(-1)?.id ?? ''}|${c.notes.length}|${c.pending.length}`;
  };

  function measure() {
    const el = scroller.value;
    if (!el) return;
    atBottom.value = el.scrollHeight - el.scrollTop - el.clientHeight < STICK_TO_BOTTOM_PX;
    if (atBottom.value) newBelow.value = false;
  }

  function scrollToBottom() {
    const el = scroller.value;
    if (!el) return;
    el.scrollTop = el.scrollHeight;
    atBottom.value = true;
    newBelow.value = false;
  }

  function maybeLoadOlder() {
    const el = scroller.value;
    const c = conversation();
    if (!el || landing || !c.loaded || !c.hasMore || c.loadingOlder) return;
    if (el.scrollTop < LOAD_OLDER_AT_PX) loadOlder();
  }

  function onScroll() {
    measure();
    maybeLoadOlder();
  }

  /** Places the list of a conversation just opened, once its messages are in (see above). */
  function land() {
    const el = scroller.value;
    const c = conversation();
    if (!landing || !el || !c.loaded) return;
    const line = el.querySelector('[data-testid="unread-line"]');
    if (!(line instanceof HTMLElement)) {
      landing = false;
      scrollToBottom();
      return;
    }
    // The line stands before the oldest message loaded while my position is older still: load up to it.
    const oldest = c.messages[0];
    const short = c.readLine !== null && oldest !== undefined && oldest.id > c.readLine;
    if (short && c.hasMore && landingPages < MAX_LANDING_PAGES) {
      if (c.loadingOlder) return;
      landingPages += 1;
      loadOlder();
      if (c.loadingOlder) return;
    }
    landing = false;
    const top = line.getBoundingClientRect().top - el.getBoundingClientRect().top + el.scrollTop;
    if (el.scrollHeight - top <= el.clientHeight) {
      scrollToBottom();
      return;
    }
    el.scrollTop = Math.max(0, top - UNREAD_LINE_MARGIN_PX);
    measure();
  }

  function startLanding() {
    landing = true;
    landingPages = 0;
    void nextTick(land);
  }

  // Watchers run before the DOM updates ('pre'), so the old scroll height can be read here and the
  // reader's place restored after the update.
  watch([firstKey, lastKey], ([first, last], [oldFirst, oldLast]) => {
    const el = scroller.value;
    if (!el) return;
    if (landing) {
      void nextTick(land);
      return;
    }
    const beforeHeight = el.scrollHeight;
    const beforeTop = el.scrollTop;
    const c = conversation();
    const ownNewest = last !== oldLast && (c.messages.at(-1)?.from === me() || c.pending.length > 0);
    const stick = atBottom.value || ownNewest;
    void nextTick(() => {
      if (last !== oldLast && stick) {
        scrollToBottom();
      } else if (first !== oldFirst && oldFirst !== '') {
        // Older messages were added above: keep the same message under the reader's eyes.
        el.scrollTop = beforeTop + (el.scrollHeight - beforeHeight);
      } else if (last !== oldLast) {
        newBelow.value = true;
      }
      maybeLoadOlder();
    });
  });
  // A history that arrives, or an older page that could not come (offline): the opening goes on without it.
  watch(
    () => [conversation().loaded, conversation().loadingOlder],
    () => {
      if (landing) void nextTick(land);
    },
  );

  watch(() => conversation().id, startLanding);
  onMounted(startLanding);

  return { newBelow, onScroll, scrollToBottom };
}
