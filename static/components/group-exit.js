import { defineComponent } from '../vendor/vue.js';
import { AskFirst } from './ask-first.js';

/** What the page asks before I delete a group (here and in the group's panel, group-panel.js). @param {string} title */
export const deleteQuestion = (title) =>
  `Delete ${title} for everyone? Its messages and files are deleted for good.`;

/**
 * The open group's way in or out, in the conversation's header: "Join" for a group I am not in (unless only its
 * owners can add me), "Joining…" while a join is under way, and "Leave". Leaving a private group is asked first,
 * naming it, since only its owners can add me back; a channel, which anyone joins again, is left at once. The
 * last member of a private group cannot leave it (nobody could join it again): "Delete group" stands in its
 * place, asked first too.
 */
export const GroupExit = defineComponent({
  name: 'GroupExit',
  components: { AskFirst },
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
    /** I am the last member of a private group. */
    last: { type: Boolean, default: false },
  },
  emits: ['join', 'leave', 'delete'],
  setup() {
    return { deleteQuestion };
  },
  template: /* html */ `
    <button v-if="joining" type="button" class="button small primary" disabled>Joining…</button>
    <button v-else-if="left && !closed" type="button" class="button small primary" @click="$emit('join', group)">Join {{ word }}</button>
    <AskFirst v-else-if="!left && last" :key="'delete'" label="Delete group" :question="deleteQuestion(title)"
      :confirm-label="'Yes, delete ' + title" safe="Keep it" test-id="delete-question" @confirm="$emit('delete', group)" />
    <AskFirst v-else-if="!left" :key="'leave'" :label="'Leave ' + word" :ask="kind !== 'channel'"
      :question="'Leave ' + title + '? Only its owners can add you back.'" :confirm-label="'Yes, leave ' + title"
      safe="Stay" test-id="leave-question" @confirm="$emit('leave', group)" />`,
});
