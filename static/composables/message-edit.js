import { COUNTER_THRESHOLD } from '../components/message-composer.js';
import { counterText } from '../text/format.js';
import { computed, nextTick, ref, watch } from '../vendor/vue.js';
import { scrollWithinList } from './list-scroll.js';

/** What the edit box says when its text is emptied: an edit cannot delete. */
export const EMPTY_EDIT_HINT = 'A message cannot be empty: use Delete to remove it';
/** What the edit box says when Save is pressed offline: the text stays in the box. */
export const OFFLINE_EDIT_HINT = 'Not connected: your edit stays here; save it when the connection is back';

/**
 * The edit box of my message in the list (docs/architecture.md, "The page"): held to the message limit as the
 * message box is (a counter near it, no Save past it, never a cut), kept open with a hint when emptied or when
 * Save is pressed offline; it takes the focus, caret after the text, and gives it back to the message's Edit.
 * @param {{
 *   scroller: { readonly value: HTMLElement | null },
 *   maxTextLength: () => number,
 *   offline: () => boolean,
 *   save: (message: import('../state/chat-state.js').ChatMessage, text: string) => void,
 *   focusMessage: (id: string) => void,
 * }} options
 */
export function useMessageEdit({ scroller, maxTextLength, offline, save, focusMessage }) {
  /** The id of my message being edited. */
  const editing = ref(/** @type {string | null} */ (null));
  const draft = ref('');
  /** Why Save did not close the edit box (empty, or offline), until the text changes. */
  const editHint = ref('');
  const remaining = computed(() => maxTextLength() - draft.value.length);
  const editTooLong = computed(() => remaining.value < 0);
  const editCounter = computed(() =>
    remaining.value <= COUNTER_THRESHOLD ? counterText(remaining.value) : '',
  );
  watch(draft, () => {
    editHint.value = '';
  });
  watch(offline, (now) => {
    if (!now && editHint.value === OFFLINE_EDIT_HINT) editHint.value = '';
  });

  /** @param {import('../state/chat-state.js').ChatMessage} m */
  function startEdit(m) {
    editing.value = m.id;
    draft.value = m.text;
    editHint.value = '';
    // Typing, Enter and Escape go to the edit box at once, the caret after the text; the whole form, Save
    // included, is brought into the list's view (the list alone scrolls).
    void nextTick(() => {
      const list = scroller.value;
      const box = list?.querySelector(`#edit-${CSS.escape(m.id)}`);
      if (!list || !(box instanceof HTMLTextAreaElement)) return;
      box.focus({ preventScroll: true });
      box.setSelectionRange(box.value.length, box.value.length);
      scrollWithinList(list, box.closest('form') ?? box);
    });
  }
  /** Closes the edit box; the focus goes back to the message's Edit button (the list, if the message went). */
  function stopEdit() {
    const id = editing.value;
    editing.value = null;
    editHint.value = '';
    if (id === null) return;
    void nextTick(() => {
      const button = scroller.value?.querySelector(`.msg[data-id="${CSS.escape(id)}"] [data-action="edit"]`);
      if (button instanceof HTMLElement) button.focus();
      else focusMessage(id);
    });
  }
  /** @param {import('../state/chat-state.js').ChatMessage} m */
  function saveEdit(m) {
    const text = draft.value;
    if (editTooLong.value) return;
    if (text.trim() === '') {
      editHint.value = EMPTY_EDIT_HINT;
      return;
    }
    if (text === m.text) return stopEdit();
    if (offline()) {
      editHint.value = OFFLINE_EDIT_HINT;
      return;
    }
    stopEdit();
    save(m, text);
  }

  return {
    editing,
    draft,
    editHint,
    editTooLong,
    editCounter,
    startEdit,
    stopEdit,
    saveEdit,
    EMPTY_EDIT_HINT,
  };
}
