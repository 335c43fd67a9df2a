import { mentionQuery, mentionSuggestions } from '../text/mentions.js';
import { computed, nextTick, ref } from '../vendor/vue.js';
import { useSuggestionList } from './suggestion-list.js';

/**
 * `@name` completion in the text box (../mentions.js): while the word before the caret starts with `@`, a
 * listbox offers the people of the conversation; arrows move, Enter or Tab takes the highlighted one, Escape
 * closes the list (until the next `@`): the keys of suggestion-list.js, which the people picker shares.
 * @param {{
 *   text: import('vue').Ref<string>,
 *   box: import('vue').Ref<HTMLTextAreaElement | null>,
 *   people: () => readonly string[],
 *   nameOf: (id: string) => string,
 * }} options
 */
export function useMentionCompletion({ text, box, people, nameOf }) {
  const query = ref(/** @type {{ start: number, query: string } | null} */ (null));
  const options = computed(() =>
    query.value ? mentionSuggestions(people(), query.value.query, nameOf) : [],
  );
  /**
   * What a screen reader hears as the list opens, changes or closes: a multi-line text box may not carry the
   * combobox role (nor `aria-expanded`), so the list's state is spoken from a live region instead, and the
   * highlighted option through `aria-activedescendant`, which a text box does carry.
   */
  const status = computed(() => {
    const n = options.value.length;
    if (n === 0) return '';
    const first = options.value[index.value];
    const people = n === 1 ? '1 person' : `${n} people`;
    return `${people} to mention: ${first === undefined ? '' : nameOf(first)}. Arrows to choose, Enter or Tab to take.`;
  });

  /** Looks at the word before the caret again (after input or a caret move). */
  function update() {
    const el = box.value;
    const next =
      el && el.selectionStart === el.selectionEnd ? mentionQuery(text.value, el.selectionStart) : null;
    if (next?.start !== query.value?.start) index.value = 0;
    query.value = next;
  }

  function close() {
    query.value = null;
  }

  /** Replaces the `@prefix` with the chosen person's shown name. @param {number} i */
  function accept(i) {
    const id = options.value[i];
    const q = query.value;
    const el = box.value;
    if (id === undefined || !q || !el) return;
    const inserted = `@${nameOf(id)} `;
    const caret = el.selectionStart;
    text.value = text.value.slice(0, q.start) + inserted + text.value.slice(caret);
    query.value = null;
    void nextTick(() => {
      el.focus();
      el.setSelectionRange(q.start + inserted.length, q.start + inserted.length);
    });
  }

  const { index, open, activeOption, onKeydown } = useSuggestionList({
    options,
    idPrefix: 'mention-option',
    accept,
    close,
  });

  return { options, open, index, activeOption, status, update, close, accept, onKeydown };
}
