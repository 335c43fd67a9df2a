import { MENU_MUTE_MINUTES } from '../state/moderation.js';
import { defineComponent } from '../vendor/vue.js';
import { ReactionPicker } from './reaction-bar.js';

/**
 * What a question under a message asks before it acts: `delete` (my message, or a moderator's delete of
 * another's), `ban` or `mute` (its author), `unchannel` (a moderator's removal of its author from the channel).
 * @typedef {'delete' | 'ban' | 'mute' | 'unchannel'} Question
 */

/**
 * The actions on one delivered message (docs/architecture.md, "Message actions"): a small toolbar, "Add
 * reaction" (☺+) and "Reply", then "Edit" (where there is text: a file alone has none to edit) and "Delete" on
 * my own message, or "More
 * actions" on another's when there is more to offer (Report, and a moderator's Delete, Mute, Ban and Remove from
 * the channel), which opens a row of them under the message. The toolbar takes no room in the list: with a
 * mouse it floats beside the bubble while the message is hovered or holds the keyboard's focus; on a touch
 * screen it shows under the message tapped (style in ../message-actions.css). A question ("Delete this
 * message?") takes the toolbar's place until it is answered. Icon buttons carry their names (`aria-label`, and
 * `title` for a mouse).
 */
export const MessageActions = defineComponent({
  name: 'MessageActions',
  components: { ReactionPicker },
  props: {
    message: {
      type: /** @type {import('vue').PropType<import('../state/chat-state.js').ChatMessage>} */ (Object),
      required: true,
    },
    mine: { type: Boolean, required: true },
    nameOf: {
      type: /** @type {import('vue').PropType<(id: string) => string>} */ (Function),
      default: (/** @type {string} */ id) => id,
    },
    /** Whether the row of "More actions" is open. */
    more: { type: Boolean, default: false },
    /** The question asked under the message, if any. */
    asking: { type: /** @type {import('vue').PropType<Question | null>} */ (String), default: null },
    /** Whether the chat takes reports (with sign-in). */
    canReport: { type: Boolean, default: false },
    /** Whether I am a moderator (Delete, Mute, Ban on another's message). */
    canModerate: { type: Boolean, default: false },
    /** Whether the message is in a group ("Remove from the channel"). */
    inChannel: { type: Boolean, default: false },
  },
  emits: ['react', 'reply', 'edit', 'delete', 'moderate', 'more', 'ask'],
  setup(props, { emit }) {
    /** The author, for the questions and the names of a moderator's buttons. */
    const author = () => props.nameOf(props.message.from);
    /** What the message's own address is for a command. */
    const target = () => ({ conversation: props.message.conversation, messageId: props.message.id });
    /** Answers yes to the question asked. */
    function confirm() {
      const question = props.asking;
      emit('ask', null);
      if (question === 'delete' && props.mine) emit('delete');
      else if (question === 'delete') emit('moderate', 'removeMessage', target());
      else if (question === 'ban') emit('moderate', 'banUser', { user: props.message.from });
      else if (question === 'unchannel')
        emit('moderate', 'removeFromChannel', { group: props.message.group, user: props.message.from });
      else if (question === 'mute')
        emit('moderate', 'muteUser', { user: props.message.from, minutes: MENU_MUTE_MINUTES });
    }
    return {
      author,
      confirm,
      // A menu closes once an item is chosen: left open, it would float over the next message's actions.
      report: () => {
        emit('more', false);
        emit('moderate', 'reportMessage', target());
      },
      hasMore: () => !props.mine && props.canReport,
    };
  },
  template: /* html */ `
    <div v-if="!asking" class="msg-tools" role="group" aria-label="Message actions">
      <ReactionPicker @choose="(emoji) => $emit('react', emoji)" />
      <button type="button" class="tool" data-action="reply" title="Reply" aria-label="Reply" @click="$emit('reply')">
        <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" focusable="false"><path d="M9.5 6 4 11.5 9.5 17M4.5 11.5H14a6 6 0 0 1 6 6v1" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"/></svg>
      </button>
      <template v-if="mine">
        <button v-if="message.text" type="button" class="tool" data-action="edit" title="Edit" aria-label="Edit" @click="$emit('edit')">
          <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" focusable="false"><path d="M4.5 19.5h4l10-10a2.8 2.8 0 0 0-4-4l-10 10v4zM13 7l4 4" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"/></svg>
        </button>
        <button type="button" class="tool" data-action="delete" title="Delete" aria-label="Delete" @click="$emit('ask', 'delete')">
          <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" focusable="false"><path d="M4.5 7h15M9.5 7V4.5h5V7M6.5 7l1 12.5h9l1-12.5M10.5 11v5M13.5 11v5" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"/></svg>
        </button>
      </template>
      <button v-else-if="hasMore()" type="button" class="tool" data-action="more" title="More actions" aria-label="More actions"
        :aria-expanded="more ? 'true' : 'false'" :aria-controls="'more-' + message.id" @click="$emit('more', !more)">
        <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" focusable="false"><circle cx="5.5" cy="12" r="1.7" fill="currentColor"/><circle cx="12" cy="12" r="1.7" fill="currentColor"/><circle cx="18.5" cy="12" r="1.7" fill="currentColor"/></svg>
      </button>
    </div>
    <div v-if="more && !asking && hasMore()" :id="'more-' + message.id" class="msg-more" role="group" aria-label="More actions" data-testid="others-actions">
      <button type="button" class="link-button" data-testid="report" @click="report()">Report</button>
      <template v-if="canModerate">
        <button type="button" class="link-button" data-testid="remove" :aria-label="'Delete the message of ' + author()" @click="$emit('ask', 'delete')">Delete</button>
        <button type="button" class="link-button" :aria-label="'Mute user ' + author() + ' for an hour…'" :title="'Mute ' + author() + ' for an hour'"
          @click="$emit('ask', 'mute')">Mute user…</button>
        <button type="button" class="link-button" :aria-label="'Ban ' + author()" @click="$emit('ask', 'ban')">Ban</button>
        <button v-if="inChannel" type="button" class="link-button" :aria-label="'Remove ' + author() + ' from the channel…'"
          @click="$emit('ask', 'unchannel')">Remove from channel…</button>
      </template>
    </div>
    <div v-if="asking" class="msg-ask confirm" role="group" :aria-labelledby="'ask-' + message.id">
      <span :id="'ask-' + message.id">{{
        asking === 'ban' ? 'Ban ' + author() + ' from the chat?'
        : asking === 'unchannel' ? 'Remove ' + author() + ' from this channel? They can join it again at once; to keep them out, ban them.'
        : asking === 'mute' ? 'Mute ' + author() + ' for an hour?'
        : mine ? 'Delete this message?' : 'Delete ' + author() + "'s message for everyone?" }}</span>
      <button type="button" class="link-button" :data-testid="mine ? null : asking === 'delete' ? 'confirm-remove' : asking === 'mute' ? 'confirm-mute' : asking === 'unchannel' ? 'confirm-unchannel' : null"
        @click="confirm()">{{ asking === 'ban' ? 'Ban' : asking === 'mute' ? 'Mute' : asking === 'unchannel' ? 'Remove' : 'Delete' }}</button>
      <button type="button" class="link-button" data-safe-answer @click="$emit('ask', null)">{{ asking === 'delete' ? 'Keep' : 'Cancel' }}</button>
    </div>`,
});
