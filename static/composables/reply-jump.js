import { nextTick, ref, watch } from '../vendor/vue.js';
import { scrollWithinList } from './list-scroll.js';

/** Older history pages loaded at most to reach the message a quote points to. */
export const MAX_JUMP_PAGES = 10;
/**
 * Older history pages loaded at most to reach a search result (docs/architecture.md, "Message search"): 2 500
 * lines, past the 2 000 a first search reads.
 */
export const MAX_SEARCH_JUMP_PAGES = 50;
/** What the conversation says when a quote's message is not reached. */
const QUOTE_NOT_LOADED = 'The message replied to is not among those loaded: scroll up to look for it.';
/** How long the message jumped to stays highlighted, in milliseconds. */
export const JUMP_HIGHLIGHT_MS = 2500;

/**
 * Going from a reply's quote to the message it answers (docs/architecture.md, "Reactions and replies"): older
 * pages are loaded until it is shown (at most {@link MAX_JUMP_PAGES}), then it is scrolled to, focused and
 * highlighted for a moment.
 * @param {{
 *   conversation: () => import('../state/chat-state.js').Conversation,
 *   scroller: { readonly value: HTMLElement | null },
 *   loadOlder: () => void,
 * }} options
 */
export function useReplyJump({ conversation, scroller, loadOlder }) {
  const highlighted = ref(/** @type {string | null} */ (null));
  /** The jump under way: a newer one (or a conversation change) ends the older one. */
  let current = 0;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let fade;

  /** Resolves once the conversation's older page has arrived (or its loading ended). */
  function olderLoaded() {
    return new Promise((resolve) => {
      const stop = watch(
        () => conversation().loadingOlder,
        (loading) => {
          if (loading) return;
          stop();
          resolve(undefined);
        },
      );
    });
  }

  /**
   * Goes to message `id`, loading at most `maxPages` older pages; `notFound` is what the conversation says when
   * it is not reached.
   * @param {string} id
   * @param {{ maxPages?: number, notFound?: string }} [options]
   */
  async function jumpTo(id, { maxPages = MAX_JUMP_PAGES, notFound = QUOTE_NOT_LOADED } = {}) {
    const jump = ++current;
    const c = conversation();
    for (let pages = 0; !c.messages.some((m) => m.id === id); pages += 1) {
      const oldest = c.messages[0];
      // Ids sort by time: a target newer than the oldest shown message and not among them is not in this list.
      if (!oldest || oldest.id < id || !c.hasMore || pages >= maxPages) {
        c.error = notFound;
        return;
      }
      loadOlder();
      // Nothing asked for (offline): stop here. A page already on its way is waited for.
      if (!c.loadingOlder) return;
      await olderLoaded();
      if (jump !== current || conversation() !== c) return;
    }
    // After the list keeps the reader's place for the page added above.
    await nextTick();
    await nextTick();
    const list = scroller.value;
    const element = list?.querySelector(`[data-id="${CSS.escape(id)}"]`);
    if (!list || !(element instanceof HTMLElement)) return;
    // Every message can take the focus (../composables/roving-focus.js); focused, it is the list's Tab stop.
    // Only the list scrolls: the page itself stays put, its top bar in view.
    scrollWithinList(list, element, 'center');
    element.focus({ preventScroll: true });
    highlighted.value = id;
    clearTimeout(fade);
    fade = setTimeout(() => {
      if (highlighted.value === id) highlighted.value = null;
    }, JUMP_HIGHLIGHT_MS);
  }

  return { highlighted, jumpTo };
}
