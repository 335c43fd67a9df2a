import { defineComponent, nextTick, ref } from '../vendor/vue.js';

/**
 * A button whose action is asked about first, in place: the question, the action's button and a safe answer,
 * which takes the focus (so a keyboard's Enter does not confirm at once), as the message list's questions do.
 * Escape or the safe answer puts the button back, with the focus on it.
 */
export const AskFirst = defineComponent({
  name: 'AskFirst',
  props: {
    /** The button's text, and the action's in the question. */
    label: { type: String, required: true },
    question: { type: String, required: true },
    /** The accessible name of the action's button in the question ("Yes, leave Falcon"). */
    confirmLabel: { type: String, required: true },
    safe: { type: String, default: 'Cancel' },
    /** Asks first; when false the button acts at once. */
    ask: { type: Boolean, default: true },
    testId: { type: String, default: null },
  },
  emits: ['confirm'],
  setup(props, { emit }) {
    const asking = ref(false);
    const safeAnswer = ref(/** @type {HTMLButtonElement | null} */ (null));
    const button = ref(/** @type {HTMLButtonElement | null} */ (null));
    const questionId = `ask-${Math.random().toString(36).slice(2)}`;
    function start() {
      if (!props.ask) {
        emit('confirm');
        return;
      }
      asking.value = true;
      void nextTick(() => safeAnswer.value?.focus());
    }
    function confirm() {
      asking.value = false;
      emit('confirm');
    }
    function cancel() {
      asking.value = false;
      void nextTick(() => button.value?.focus());
    }
    return { asking, safeAnswer, button, questionId, start, confirm, cancel };
  },
  template: /* html */ `
    <span v-if="asking" class="confirm-remove" role="group" :aria-labelledby="questionId" :data-testid="testId"
      @keydown.esc.stop.prevent="cancel">
      <span :id="questionId" dir="auto">{{ question }}</span>
      <button type="button" class="button small" :aria-label="confirmLabel" @click="confirm">{{ label }}</button>
      <button ref="safeAnswer" type="button" class="button small ghost" @click="cancel">{{ safe }}</button>
    </span>
    <button v-else ref="button" type="button" class="button small ghost" @click="start">{{ label }}</button>`,
});
