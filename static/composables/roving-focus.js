import { computed, onBeforeUnmount, onMounted, ref, watch } from '../vendor/vue.js';
import { scrollWithinList } from './list-scroll.js';

/** An article of the list: a message, a note or a message being sent, named by its key. */
const ARTICLE = '[data-key]';
/** What can take the focus inside an article: its actions, links in its text, the edit box. */
const FOCUSABLE = 'a[href], button, input, select, textarea, iframe, [tabindex], [contenteditable="true"]';
/** Marks a control taken out of the Tab order, holding the tabindex it had ('' for none). */
const HELD = 'data-held-tabindex';

/**
 * The message list as one stop of the Tab key (docs/architecture.md, "Keyboard in the message list"), after
 * the WAI-ARIA feed pattern with a roving focus: one article at a time is in the Tab order (the last focused,
 * else the newest); Up and Down, Home and End, Page Up and Page Down move between articles; the controls of
 * the article that holds the focus are in the Tab order, those of every other article are not (a Tab from
 * the last one leaves the list); Escape from a control goes back to its article. Moving up past the oldest
 * article loaded asks for older ones, then goes on to them.
 *
 * Controls are taken out of the Tab order in the page itself (`tabindex="-1"`, the one they had kept in
 * `data-held-tabindex`), as they appear: they come from several components and from the message text.
 * @param {{
 *   list: { readonly value: HTMLElement | null },
 *   scroller: { readonly value: HTMLElement | null },
 *   keys: () => readonly string[],
 *   conversationId: () => string,
 *   hasOlder: () => boolean,
 *   loadOlder: () => void,
 *   onEscape?: (key: string) => void,
 * }} options
 */
export function useRovingFocus({ list, scroller, keys, conversationId, hasOlder, loadOlder, onEscape }) {
  /** The key of the article last focused. */
  const chosen = ref(/** @type {string | null} */ (null));
  /** The article in the Tab order: the last focused while it is there, else the newest. */
  const current = computed(() => {
    const all = keys();
    return chosen.value !== null && all.includes(chosen.value) ? chosen.value : (all.at(-1) ?? null);
  });
  /** The article holding the focus, whose controls are in the Tab order. */
  let open = /** @type {HTMLElement | null} */ (null);
  /** The article a move up started from while older articles load. */
  let olderFrom = /** @type {string | null} */ (null);

  /** @param {EventTarget | Node | null} node */
  function articleOf(node) {
    if (!(node instanceof Element)) return null;
    const article = node.closest(ARTICLE);
    return article instanceof HTMLElement && list.value?.contains(article) ? article : null;
  }
  /** @param {Element} article */
  function hold(article) {
    for (const el of article.querySelectorAll(FOCUSABLE)) {
      if (el.hasAttribute(HELD)) continue;
      el.setAttribute(HELD, el.getAttribute('tabindex') ?? '');
      el.setAttribute('tabindex', '-1');
    }
  }
  /** @param {Element} article */
  function release(article) {
    for (const el of article.querySelectorAll(`[${HELD}]`)) {
      const was = el.getAttribute(HELD) ?? '';
      el.removeAttribute(HELD);
      if (was === '') el.removeAttribute('tabindex');
      else el.setAttribute('tabindex', was);
    }
  }
  /** @param {Element} article */
  const sync = (article) => (article === open ? release(article) : hold(article));

  // Controls that appear (a new message, a confirmation, the reaction picker, a re-rendered text) are sorted
  // as they come.
  const observer = new MutationObserver((records) => {
    /** @type {Set<Element>} */
    const touched = new Set();
    for (const record of records) {
      const article = articleOf(record.target);
      if (article) {
        touched.add(article);
        continue;
      }
      for (const node of record.addedNodes) {
        if (!(node instanceof Element)) continue;
        if (node.matches(ARTICLE)) touched.add(node);
        for (const inner of node.querySelectorAll(ARTICLE)) touched.add(inner);
      }
    }
    for (const article of touched) if (article.isConnected) sync(article);
  });
  onMounted(() => {
    const el = list.value;
    if (!el) return;
    for (const article of el.querySelectorAll(ARTICLE)) hold(article);
    observer.observe(el, { childList: true, subtree: true });
  });
  onBeforeUnmount(() => observer.disconnect());

  /** @param {string} key */
  function articleFor(key) {
    const el = list.value?.querySelector(`[data-key="${CSS.escape(key)}"]`);
    return el instanceof HTMLElement ? el : null;
  }
  /** Focuses article `key` and brings it into the list's view (the page does not scroll). @param {string} key */
  function focusKey(key) {
    const el = articleFor(key);
    if (!el) return false;
    chosen.value = key;
    el.focus({ preventScroll: true });
    if (scroller.value) scrollWithinList(scroller.value, el);
    return true;
  }
  /** Focuses the article in the Tab order (after its message went, say). */
  const focusCurrent = () => current.value !== null && focusKey(current.value);

  /** @param {FocusEvent} event */
  function onFocusIn(event) {
    const article = articleOf(event.target);
    if (!article) return;
    chosen.value = article.dataset.key ?? null;
    if (open === article) return;
    if (open?.isConnected) hold(open);
    open = article;
    release(article);
  }
  /** @param {FocusEvent} event */
  function onFocusOut(event) {
    const into = event.relatedTarget;
    if (!open || (into instanceof Node && open.contains(into))) return;
    hold(open);
    open = null;
  }

  /**
   * The article a page away from `from` (the height of the list's window), up (-1) or down (1).
   * @param {HTMLElement[]} all @param {number} at @param {-1 | 1} direction
   */
  function pageAway(all, at, direction) {
    const page = scroller.value?.clientHeight ?? 0;
    const limit = (all[at]?.getBoundingClientRect().top ?? 0) + direction * page;
    let to = at;
    for (let i = at + direction; i >= 0 && i < all.length; i += direction) {
      to = i;
      const top = all[i]?.getBoundingClientRect().top ?? 0;
      if (direction < 0 ? top <= limit : top >= limit) break;
    }
    return to;
  }

  /** @param {KeyboardEvent} event */
  function onKeyDown(event) {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
    const article = articleOf(event.target);
    const key = article?.dataset.key;
    if (!article || !key) return;
    if (event.key === 'Escape') {
      if (event.target === article) return;
      event.preventDefault();
      onEscape?.(key);
      focusKey(key);
      return;
    }
    if (event.target !== article) return;
    const all = /** @type {HTMLElement[]} */ ([...(list.value?.querySelectorAll(ARTICLE) ?? [])]);
    const at = all.indexOf(article);
    /** @type {Record<string, () => number>} */
    const moves = {
      ArrowUp: () => at - 1,
      ArrowDown: () => at + 1,
      Home: () => 0,
      End: () => all.length - 1,
      PageUp: () => (at === 0 ? -1 : pageAway(all, at, -1)),
      PageDown: () => pageAway(all, at, 1),
    };
    const move = moves[event.key];
    if (!move) return;
    event.preventDefault();
    const to = move();
    if (to < 0) {
      // Past the oldest loaded: older ones are asked for (unless already on their way, after a scroll to the
      // top), and the focus goes on to them when they come.
      if (!hasOlder()) return;
      olderFrom = key;
      loadOlder();
      return;
    }
    const target = all[Math.min(to, all.length - 1)]?.dataset.key;
    if (target) focusKey(target);
  }

  watch(
    () => keys()[0],
    () => {
      const from = olderFrom;
      olderFrom = null;
      if (from === null || document.activeElement !== articleFor(from)) return;
      const all = keys();
      const at = all.indexOf(from);
      if (at > 0) focusKey(/** @type {string} */ (all[at - 1]));
    },
    { flush: 'post' },
  );
  watch(conversationId, () => {
    chosen.value = null;
    open = null;
    olderFrom = null;
  });

  return {
    /** @param {string} key */
    tabIndexOf: (key) => (key === current.value ? 0 : -1),
    focusKey,
    focusCurrent,
    onFocusIn,
    onFocusOut,
    onKeyDown,
  };
}
