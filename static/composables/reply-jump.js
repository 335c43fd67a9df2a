import { nextTick, ref, watch } from '../vendor/vue.js';

/** Older history pages loaded at most to reach the message a quote points to. */
export const MAX_JUMP_PAGES = 10;
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

  /** @param {string} id */
  async function jumpTo(id) {
    const jump = ++current;
    const c = conversation();
    for (let pages = 0; !c.messages.some((m) => m.id === id); pages += 1) {
      const oldest = c.messages[0];
      // Ids sort by time: a target newer than the oldest shown message and not among them is not in this list.
      if (!oldest || oldest.id < id || !c.hasMore || pages >= MAX_JUMP_PAGES) {
        c.error = 'The message replied to is not among those loaded: scroll up to look for it.';
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
    const element = scroller.value?.querySelector(`[data-id="${CSS.escape(id)}"]`);
    if (!(element instanceof HTMLElement)) return;
    element.setAttribute('tabindex', '-1');
    element.scrollIntoView({ block: 'center' });
    element.focus({ preventScroll: true });
    highlighted.value = id;
    clearTimeout(fade);
    fade = setTimeout(() => {
      if (highlighted.value === id) highlighted.value = null;
    }, JUMP_HIGHLIGHT_MS);
  }

  return { highlighted, jumpTo };
}
