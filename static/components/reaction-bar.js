import { scrollWithinList } from '../composables/list-scroll.js';
import { REACTIONS, reactionName } from '../state/reactions.js';
import { defineComponent, nextTick, ref } from '../vendor/vue.js';

/** Names a reaction's button lists at most (then "and N more"). */
export const MAX_NAMES_IN_LABEL = 12;

/**
 * Under a message: its reactions, one button per emoji with its count (who reacted in the button's name and
 * title, mine pressed; a click toggles mine) (docs/architecture.md, "Reactions and replies").
 */
export const ReactionBar = defineComponent({
  name: 'ReactionBar',
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
  },
  emits: ['react'],
  setup(props) {
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
    return { isMine, label };
  },
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
 * "Add reaction" (☺+) and its picker, buttons in rows: Left and Right move along them, Up and Down a row up or
 * down (along a single row, as Left and Right), Home and End to the ends, Enter picks, Escape closes it and gives
 * the focus back to the button, as does leaving it. It opens away from its message's bubble
 * (../message-actions.css), brought into the message list's view.
 */
export const ReactionPicker = defineComponent({
  name: 'ReactionPicker',
  emits: ['choose'],
  setup(_props, { emit }) {
    const picking = ref(false);
    const opener = ref(/** @type {HTMLButtonElement | null} */ (null));
    const picker = ref(/** @type {HTMLElement | null} */ (null));

    function choices() {
      return /** @type {HTMLButtonElement[]} */ ([...(picker.value?.querySelectorAll('button') ?? [])]);
    }
    function open() {
      picking.value = true;
      void nextTick(() => {
        choices()[0]?.focus({ preventScroll: true });
        const list = picker.value?.closest('.scroller');
        if (list instanceof HTMLElement && picker.value) scrollWithinList(list, picker.value);
      });
    }
    /** @param {boolean} refocus */
    function close(refocus) {
      picking.value = false;
      if (refocus) void nextTick(() => opener.value?.focus());
    }
    /** @param {string} emoji */
    function choose(emoji) {
      emit('choose', emoji);
      close(true);
    }
    /** @param {KeyboardEvent} event */
    function onPickerKey(event) {
      const buttons = choices();
      const at = buttons.indexOf(/** @type {HTMLButtonElement} */ (document.activeElement));
      const top = buttons[0]?.offsetTop;
      const row = buttons.filter((b) => b.offsetTop === top).length;
      const down = row < buttons.length ? row : 1;
      const moves = {
        ArrowRight: at + 1,
        ArrowDown: at + down,
        ArrowLeft: at - 1,
        ArrowUp: at - down,
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

    return { picking, opener, picker, open, close, choose, onPickerKey, onFocusOut, REACTIONS };
  },
  template: /* html */ `
    <span class="reaction-actions" @focusout="onFocusOut">
      <button ref="opener" type="button" class="tool" data-action="react" title="Add reaction" aria-label="Add reaction"
        aria-haspopup="true" :aria-expanded="picking ? 'true' : 'false'" @click="picking ? close(false) : open()">
        <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" focusable="false"><g fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round"><path d="M19.5 11.5a8 8 0 1 1-7-7.94"/><path d="M8 14.5c1 1.3 2.3 2 3.6 2s2.6-.7 3.6-2"/><path d="M19 2.5v6M16 5.5h6"/></g><circle cx="9" cy="10" r="1.2" fill="currentColor"/><circle cx="14.5" cy="10" r="1.2" fill="currentColor"/></svg>
      </button>
      <span v-if="picking" ref="picker" class="reaction-picker" role="group" aria-label="Choose a reaction" @keydown="onPickerKey">
        <button v-for="r in REACTIONS" :key="r.emoji" type="button" class="reaction-choice" :aria-label="r.name"
          :title="r.name" @click="choose(r.emoji)">{{ r.emoji }}</button>
      </span>
    </span>`,
});
