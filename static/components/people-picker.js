import { useSuggestionList } from '../composables/suggestion-list.js';
import {
  DEFAULT_SUGGEST_DEBOUNCE_MS,
  idHints,
  MAX_PEOPLE_QUERY_LENGTH,
  shownName,
  splitTyped,
  suggestionsFor,
  withChip,
} from '../state/people-picker.js';
import { computed, defineComponent, nextTick, onBeforeUnmount, ref, watch } from '../vendor/vue.js';

/**
 * A field that adds people by name (../state/people-picker.js): typing asks the people search (`findPeople`,
 * through `suggest`, after a pause) and lists who matches; arrows and Enter or Tab choose (the keys of
 * ../composables/suggestion-list.js, as the `@` mention popup), Escape closes the list. Each chosen person is a
 * chip with their name (and the start of their id when two share a name); × or Backspace in the empty field
 * takes one off. Without sign-in a comma makes a chip of what was typed, as names are ids there. The chips are
 * `v-model`, the text being typed `v-model:text`.
 */
export const PeoplePicker = defineComponent({
  name: 'PeoplePicker',
  props: {
    state: {
      type: /** @type {import('vue').PropType<import('../state/chat-state.js').ChatState>} */ (Object),
      required: true,
    },
    /** The field's element id (its options are `<id>-option-<n>`). */
    inputId: { type: String, required: true },
    label: { type: String, required: true },
    placeholder: { type: String, default: '' },
    signIn: { type: Boolean, default: false },
    disabled: { type: Boolean, default: false },
    /** Ids never suggested: me, and people already in the group. */
    exclude: { type: Array, default: () => [] },
    modelValue: {
      type: /** @type {import('vue').PropType<import('../state/people-picker.js').Chip[]>} */ (Array),
      required: true,
    },
    text: { type: String, default: '' },
    describedBy: { type: String, default: null },
    debounceMs: { type: Number, default: DEFAULT_SUGGEST_DEBOUNCE_MS },
  },
  emits: ['update:modelValue', 'update:text', 'suggest'],
  setup(props, { emit }) {
    const input = ref(/** @type {HTMLInputElement | null} */ (null));
    /** Escape (or leaving the field) hides the list until the next key typed. */
    const dismissed = ref(false);
    const excluded = computed(
      () => new Set([...props.exclude.map(String), ...props.modelValue.map((c) => c.user)]),
    );
    const options = computed(() =>
      dismissed.value || props.disabled
        ? []
        : suggestionsFor(props.state.suggestions, props.text, excluded.value),
    );
    const hints = computed(() => idHints([...options.value]));
    const chipHints = computed(() => idHints(props.modelValue));
    const listId = `${props.inputId}-list`;

    /** @type {ReturnType<typeof setTimeout> | undefined} */
    let timer;
    onBeforeUnmount(() => clearTimeout(timer));
    /** Asks for the typed name once typing pauses. @param {string} typed */
    function askLater(typed) {
      clearTimeout(timer);
      const query = typed.trim();
      if (query === '' || query.length > MAX_PEOPLE_QUERY_LENGTH) return;
      timer = setTimeout(() => emit('suggest', query), props.debounceMs);
    }

    /** @param {Event} event */
    function onInput(event) {
      const value = /** @type {HTMLInputElement} */ (event.target).value;
      const { typed, rest } = splitTyped(value, props.signIn);
      let chips = props.modelValue;
      for (const name of typed) chips = withChip(chips, { user: name, name });
      if (typed.length) emit('update:modelValue', chips);
      emit('update:text', rest);
      if (rest !== value && input.value) input.value.value = rest;
      dismissed.value = false;
      askLater(rest);
    }

    /** @param {number} i */
    function accept(i) {
      const person = options.value[i];
      if (!person) return;
      emit('update:modelValue', withChip(props.modelValue, person));
      emit('update:text', '');
      clearTimeout(timer);
      input.value?.focus();
    }
    function close() {
      dismissed.value = true;
    }
    const list = useSuggestionList({ options, idPrefix: `${props.inputId}-option`, accept, close });
    // In a phone's drawer the field may be at the bottom of the screen: the list opening under it comes into view.
    const listEl = ref(/** @type {HTMLElement | null} */ (null));
    watch(list.open, (open) => {
      if (open) void nextTick(() => listEl.value?.scrollIntoView({ block: 'nearest' }));
    });

    /** @param {number} i */
    function removeChip(i) {
      emit(
        'update:modelValue',
        props.modelValue.filter((_, n) => n !== i),
      );
      input.value?.focus();
    }

    /** @param {KeyboardEvent} event */
    function onKeydown(event) {
      if (list.onKeydown(event)) return;
      // Escape before the answer came: it must not open the list over the form afterwards.
      if (event.key === 'Escape') close();
      if (event.key === 'Backspace' && props.text === '' && props.modelValue.length > 0) {
        event.preventDefault();
        removeChip(props.modelValue.length - 1);
      }
    }

    /** What a screen reader hears as the list opens or changes (the field says the highlighted one). */
    const status = computed(() => {
      const n = options.value.length;
      if (n === 0) return '';
      const first = options.value[list.active.value];
      const people = n === 1 ? '1 person' : `${n} people`;
      return `${people} found: ${first ? shownName(first) : ''}. Arrows to choose, Enter or Tab to add.`;
    });

    /** @param {number | string | undefined} iso */
    const seen = (iso) => {
      const at = iso === undefined ? Number.NaN : Date.parse(String(iso));
      return Number.isNaN(at) ? '' : `last seen ${new Date(at).toLocaleDateString()}`;
    };

    return {
      input,
      options,
      hints,
      chipHints,
      listId,
      list,
      listEl,
      status,
      shownName,
      seen,
      onInput,
      onKeydown,
      accept,
      close,
      removeChip,
    };
  },
  template: /* html */ `
    <div class="people-picker" :class="{ disabled }">
      <ul v-if="modelValue.length" class="picker-chips" :aria-label="label + ': chosen'">
        <li v-for="(c, i) in modelValue" :key="c.user" class="picker-chip" data-testid="picker-chip">
          <span dir="auto">{{ c.name }}</span><span v-if="chipHints.get(c.user)" class="picker-hint" data-testid="chip-hint"> ({{ chipHints.get(c.user) }})</span>
          <button type="button" class="picker-chip-remove" :disabled="disabled" :aria-label="'Do not add ' + c.name"
            :title="'Do not add ' + c.name" @click="removeChip(i)">×</button>
        </li>
      </ul>
      <label :for="inputId" class="sr-only">{{ label }}</label>
      <input :id="inputId" ref="input" :value="text" type="text" :placeholder="placeholder" autocomplete="off"
        dir="auto" :disabled="disabled" role="combobox" aria-autocomplete="list" :aria-controls="listId"
        :aria-expanded="list.open.value ? 'true' : 'false'" :aria-activedescendant="list.activeOption.value"
        :aria-describedby="describedBy" @input="onInput" @keydown="onKeydown" @blur="close">
      <ul :id="listId" ref="listEl" class="picker-list" role="listbox" :aria-label="label + ': suggestions'" v-show="list.open.value">
        <li v-for="(p, i) in options" :key="p.user" :id="inputId + '-option-' + i" role="option"
          class="mention-option picker-option" :class="{ active: i === list.active.value }"
          :aria-selected="i === list.active.value ? 'true' : 'false'" @mousedown.prevent="accept(i)">
          <span dir="auto">{{ shownName(p) }}</span>
          <span v-if="hints.get(p.user)" class="picker-hint" data-testid="picker-hint">{{ seen(p.lastSeen) }} · {{ hints.get(p.user) }}</span>
        </li>
      </ul>
      <span class="sr-only" aria-live="polite">{{ status }}</span>
    </div>`,
});
