import { defineComponent, nextTick, ref } from '../vendor/vue.js';

/**
 * The open group's way in or out, in the conversation's header: "Join" for a group I am not in (unless only its
 * owners can add me), "Joining…" while a join is under way, and "Leave". Leaving a private group is asked first,
 * naming it, since only its owners can add me back; a channel, which anyone joins again, is left at once. The
 * question takes the focus on its safe answer, as the message list's questions do, and Escape answers it.
 */
export const GroupExit = defineComponent({
  name: 'GroupExit',
  props: {
    group: { type: String, required: true },
    /** The title shown for it. */
    title: { type: String, required: true },
    /** `private`, `channel`, or null while the page does not know (then it asks, as for a private group). */
    kind: { type: String, default: null },
    /** What the page calls it: "group" or "channel". */
    word: { type: String, required: true },
    /** I am not in it. */
    left: { type: Boolean, default: false },
    /** My join is under way. */
    joining: { type: Boolean, default: false },
    /** A private group that refused me: only its owners can add me. */
    closed: { type: Boolean, default: false },
  },
  emits: ['join', 'leave'],
  setup(props, { emit }) {
    const asking = ref(false);
    const safeAnswer = ref(/** @type {HTMLButtonElement | null} */ (null));
    const leaveButton = ref(/** @type {HTMLButtonElement | null} */ (null));
    function leave() {
      if (props.kind === 'channel') {
        emit('leave', props.group);
        return;
      }
      asking.value = true;
      void nextTick(() => safeAnswer.value?.focus());
    }
    function confirm() {
      asking.value = false;
      emit('leave', props.group);
    }
    function cancel() {
      asking.value = false;
      void nextTick(() => leaveButton.value?.focus());
    }
    return { asking, safeAnswer, leaveButton, leave, confirm, cancel };
  },
  template: /* html */ `
    <button v-if="joining" type="button" class="button small primary" disabled>Joining…</button>
    <button v-else-if="left && !closed" type="button" class="button small primary" @click="$emit('join', group)">Join {{ word }}</button>
    <template v-else-if="!left">
      <span v-if="asking" class="confirm-remove" role="group" aria-labelledby="group-exit-question" data-testid="leave-question"
        @keydown.esc.stop.prevent="cancel">
        <span id="group-exit-question">Leave <span dir="auto">{{ title }}</span>? Only its owners can add you back.</span>
        <button type="button" class="button small" :aria-label="'Yes, leave ' + title" @click="confirm">Leave {{ word }}</button>
        <button ref="safeAnswer" type="button" class="button small ghost" @click="cancel">Stay</button>
      </span>
      <button v-else ref="leaveButton" type="button" class="button small ghost" @click="leave">Leave {{ word }}</button>
    </template>`,
});
