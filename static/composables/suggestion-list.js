import { computed, ref } from '../vendor/vue.js';

/**
 * The keyboard of a suggestion list under a text field, shared by the `@` mention popup
 * (mention-completion.js) and the people picker (components/people-picker.js): arrows move the highlight
 * (wrapping), Enter or Tab takes the highlighted option, Escape closes the list. The options' element ids are
 * `<idPrefix>-<index>`, for `aria-activedescendant` on the field.
 * @template T
 * @param {{
 *   options: import('vue').Ref<readonly T[]>,
 *   idPrefix: string,
 *   accept: (index: number) => void,
 *   close: () => void,
 * }} list
 */
export function useSuggestionList({ options, idPrefix, accept, close }) {
  const index = ref(0);
  const open = computed(() => options.value.length > 0);
  /** The highlighted option, kept inside the list when it gets shorter. */
  const active = computed(() => (index.value < options.value.length ? index.value : 0));
  const activeOption = computed(() => (open.value ? `${idPrefix}-${active.value}` : undefined));

  /**
   * Handles a key while the list is open; returns whether it did.
   * @param {KeyboardEvent} event
   */
  function onKeydown(event) {
    if (!open.value || event.isComposing) return false;
    const n = options.value.length;
    switch (event.key) {
      case 'ArrowDown':
        index.value = (active.value + 1) % n;
        break;
      case 'ArrowUp':
        index.value = (active.value - 1 + n) % n;
        break;
      case 'Enter':
      case 'Tab':
        accept(active.value);
        break;
      case 'Escape':
        close();
        break;
      default:
        return false;
    }
    event.preventDefault();
    return true;
  }

  return { index, active, open, activeOption, onKeydown };
}
