import { REACTIONS, reactionName } from '../state/reactions.js';
import { defineComponent, nextTick, ref } from '../vendor/vue.js';

/** Names a reaction's button lists at most (then "and N more"). */
export const MAX_NAMES_IN_LABEL = 12;

/** A message's reactions, one button per emoji with its count; a click toggles mine. */
const ReactionList = defineComponent({
  name: 'ReactionList',
  props: {
    message: {
      type: /** @type {import('vue').PropType<import('../state/chat-state.js').ChatMessage>} */ (Object),
      required: true,
    },
    isMine: {
      type: /** @type {import('vue').PropType<(r: { emoji: string, users: string[] }) => boolean>} */ (
        Function
      ),
      required: true,
    },
    label: {
      type: /** @type {import('vue').PropType<(r: { emoji: string, users: string[] }) => string>} */ (
        Function
      ),
      required: true,
    },
  },
  emits: ['react'],
  template: /* html */ `
    <ul v-if="message.reactions && message.reactions.length" class="reaction-list" aria-label="Reactions">
      <li v-for="r in message.reactions" :key="r.emoji">
        <button type="button" class="reaction" :class="{ mine: isMine(r) }" :aria-pressed="isMine(r) ? 'true' : 'false'"
          :aria-label="label(r)" :title="label(r)" @click="$emit('react', message, r.emoji)">
          <span aria-hidden="true">{{ r.emoji }}</span><span class="reaction-count" aria-hidden="true">{{ r.users.length }}</span>
        </button>
      </li>
    </ul>`,
});

/**
 * Under a message: its reactions, one button per emoji with its count (who reacted in the button's name and
 * title, mine pressed; a click toggles mine), an "Add reaction" picker and "Reply" (docs/architecture.md,
 * "Reactions and replies"). The picker is a row of buttons: arrow keys, Home and End move along it, Escape
 * closes it and gives the focus back.
 */
export const ReactionBar = defineComponent({
  name: 'ReactionBar',
  components: { ReactionList },
  props: {
    message: {
      type: /** @type {import('vue').PropType<import('../state/chat-state.js').ChatMessage>} */ (Object),
      required: true,
    },
    me: { type: String, required: true },
    nameOf: {
      type: /** @type {import('vue').PropType<(id: string) => string>} */ (Function),
      default: (/** @type {string} */ id) => id,
    },
    /**
     * The reactions after "Add reaction" and "Reply" (under my own messages, on the right): then the buttons
     * that show only on hover leave no gap at the bubble's edge.
     */
    listLast: { type: Boolean, default: false },
  },
  emits: ['react', 'reply'],
  setup(props, { emit }) {
    const picking = ref(false);
    const opener = ref(/** @type {HTMLButtonElement | null} */ (null));
    const picker = ref(/** @type {HTMLElement | null} */ (null));

    /** @param {{ emoji: string, users: string[] }} r */
    const isMine = (r) => r.users.includes(props.me);
    /** @param {{ emoji: string, users: string[] }} r */
    function label(r) {
      const shown = r.users.slice(0, MAX_NAMES_IN_LABEL);
      const others = r.users.length - shown.length;
      const who =
        shown.map((u) => (u === props.me ? 'you' : props.nameOf(u))).join(', ') +
        (others > 0 ? ` and ${others} more` : '');
      const count = `${r.users.length} ${r.users.length === 1 ? 'reaction' : 'reactions'}`;
      return `${reactionName(r.emoji)} ${r.emoji}, ${count}: ${who}${isMine(r) ? ' (press to take yours back)' : ''}`;
    }

    function choices() {
      return /** @type {HTMLButtonElement[]} */ ([...(picker.value?.querySelectorAll('button') ?? [])]);
    }
    function open() {
      picking.value = true;
      void nextTick(() => choices()[0]?.focus());
    }
    /** @param {boolean} refocus */
    function close(refocus) {
      picking.value = false;
      if (refocus) void nextTick(() => opener.value?.focus());
    }
    /** @param {string} emoji */
    function choose(emoji) {
      emit('react', props.message, emoji);
      close(true);
    }
    /** @param {KeyboardEvent} event */
    function onPickerKey(event) {
      const buttons = choices();
      const at = buttons.indexOf(/** @type {HTMLButtonElement} */ (document.activeElement));
      const moves = {
        ArrowRight: at + 1,
        ArrowDown: at + 1,
        ArrowLeft: at - 1,
        ArrowUp: at - 1,
        Home: 0,
        End: buttons.length - 1,
      };
      if (event.key === 'Escape') {
        event.preventDefault();
        close(true);
      } else if (event.key in moves) {
        event.preventDefault();
        const next = moves[/** @type {keyof typeof moves} */ (event.key)];
        buttons[(next + buttons.length) % buttons.length]?.focus();
      }
    }
    /** The focus left the picker and its button: it closes. @param {FocusEvent} event */
    function onFocusOut(event) {
      const into = /** @type {Node | null} */ (event.relatedTarget);
      const root = /** @type {HTMLElement} */ (event.currentTarget);
      if (picking.value && (!into || !root.contains(into))) close(false);
    }

    return {
      picking,
      opener,
      picker,
      isMine,
      label,
      open,
      close,
      choose,
      onPickerKey,
      onFocusOut,
      REACTIONS,
    };
  },
  template: /* html */ `
    <div class="reaction-bar">
      <ReactionList v-if="!listLast" :message="message" :is-mine="isMine" :label="label" @react="(m, e) => $emit('react', m, e)" />
      <span class="reaction-actions" @focusout="onFocusOut">
        <button ref="opener" type="button" class="link-button add-reaction" title="Add reaction" aria-haspopup="true"
          :aria-expanded="picking ? 'true' : 'false'" @click="picking ? close(false) : open()">
          <span aria-hidden="true">☺+</span><span class="sr-only">Add reaction</span>
        </button>
        <span v-if="picking" ref="picker" class="reaction-picker" role="group" aria-label="Choose a reaction" @keydown="onPickerKey">
          <button v-for="r in REACTIONS" :key="r.emoji" type="button" class="reaction-choice" :aria-label="r.name"
            :title="r.name" @click="choose(r.emoji)">{{ r.emoji }}</button>
        </span>
        <button type="button" class="link-button" @click="$emit('reply', message)">Reply</button>
      </span>
      <ReactionList v-if="listLast" :message="message" :is-mine="isMine" :label="label" @react="(m, e) => $emit('react', m, e)" />
    </div>`,
});
