import { focusIsLost } from '../composables/focus-moves.js';
import { useMentionCompletion } from '../composables/mention-completion.js';
import { savedDrafts } from '../state/saved-drafts.js';
import { counterText } from '../text/format.js';
import { plainText } from '../text/markdown.js';
import { computed, defineComponent, nextTick, onBeforeUnmount, ref, watch } from '../vendor/vue.js';

/** The counter appears when this many characters or fewer remain before the limit. */
export const COUNTER_THRESHOLD = 500;
/** Tallest the text box grows, in pixels, before it scrolls. */
export const MAX_COMPOSER_HEIGHT_PX = 180;

/**
 * The text box: Enter sends, Shift+Enter starts a new line (and Enter while an input method is composing
 * does neither). It grows with its text, shows a counter near the limit and refuses to send past it.
 * The draft is kept per conversation, so switching away and back does not lose it, and with `draftKey` on this
 * browser too (../state/saved-drafts.js), so a reload does not lose it either. `@` offers the people of
 * `people` to mention (../composables/mention-completion.js); each edit that leaves text emits `typing`.
 */
export const MessageComposer = defineComponent({
  name: 'MessageComposer',
  props: {
    conversationId: { type: String, required: true },
    /** Where this user's drafts are kept on this browser (`''`: for the page's life only). */
    draftKey: { type: String, default: '' },
    label: { type: String, required: true },
    maxLength: { type: Number, required: true },
    /** Why the box is off (`''`: it is on), shown in it and as its hint. */
    disabledReason: { type: String, default: '' },
    /** Why nothing can be sent now, though the box stays typable (a mute, with its end): Send is off, the draft kept. */
    sendOff: { type: String, default: '' },
    /** What the hint says while messages cannot leave now (`''`: they can, it says how to send). */
    offlineHint: { type: String, default: '' },
    /** Whether the attach button is offered (the server takes files). */
    canAttach: { type: Boolean, default: false },
    /** Ids of the people `@` offers. */
    people: {
      type: /** @type {import('vue').PropType<readonly string[]>} */ (Array),
      default: () => [],
    },
    nameOf: {
      type: /** @type {import('vue').PropType<(id: string) => string>} */ (Function),
      default: (/** @type {string} */ id) => id,
    },
    /** The message the next one answers, shown quoted above the box (Escape cancels). */
    replyingTo: {
      type: /** @type {import('vue').PropType<import('../state/chat-state.js').ChatMessage | null>} */ (
        Object
      ),
      default: null,
    },
  },
  emits: ['send', 'typing', 'cancel-reply', 'attach'],
  setup(props, { emit, expose }) {
    const drafts = savedDrafts(props.draftKey);
    const text = ref(drafts.get(props.conversationId));
    // Hidden or closed: what waits is written at once.
    window.addEventListener('pagehide', drafts.flush);
    onBeforeUnmount(() => {
      window.removeEventListener('pagehide', drafts.flush);
      drafts.flush();
    });
    const box = ref(/** @type {HTMLTextAreaElement | null} */ (null));

    const mention = useMentionCompletion({ text, box, people: () => props.people, nameOf: props.nameOf });

    const length = computed(() => text.value.length);
    const remaining = computed(() => props.maxLength - length.value);
    const tooLong = computed(() => remaining.value < 0);
    const showCounter = computed(() => remaining.value <= COUNTER_THRESHOLD);
    const counter = computed(() => counterText(remaining.value));
    const canSend = computed(
      () => !props.disabledReason && !props.sendOff && text.value.trim().length > 0 && !tooLong.value,
    );

    function resize() {
      const el = box.value;
      if (!el) return;
      el.style.height = 'auto';
      el.style.height = `${Math.min(el.scrollHeight, MAX_COMPOSER_HEIGHT_PX)}px`;
    }
    watch(text, (value) => {
      drafts.set(props.conversationId, value);
      void nextTick(resize);
    });
    watch(
      () => props.conversationId,
      (next) => {
        text.value = drafts.get(next);
        mention.close();
      },
    );

    function onInput() {
      mention.update();
      if (text.value.trim() !== '') emit('typing');
    }

    function send() {
      if (!canSend.value) return;
      emit('send', text.value);
      text.value = '';
      box.value?.focus();
    }

    /** @param {KeyboardEvent} event */
    function onKeydown(event) {
      if (mention.onKeydown(event)) return;
      if (event.key === 'Escape' && props.replyingTo) {
        event.preventDefault();
        emit('cancel-reply');
        return;
      }
      if (event.key !== 'Enter' || event.shiftKey || event.isComposing) return;
      event.preventDefault();
      send();
    }

    // Attachments (../link/uploads.js): the file picker, or an image pasted or dropped into the box.
    const picker = ref(/** @type {HTMLInputElement | null} */ (null));
    /** @param {Iterable<File> | null | undefined} files */
    function attachFirst(files) {
      const file = files ? [...files][0] : undefined;
      if (file && props.canAttach && !props.disabledReason && !props.sendOff) emit('attach', file);
      return file !== undefined;
    }
    function onPicked() {
      attachFirst(picker.value?.files);
      if (picker.value) picker.value.value = '';
    }
    /** @param {ClipboardEvent} event */
    function onPaste(event) {
      const files = [...(event.clipboardData?.files ?? [])].filter((f) => f.type.startsWith('image/'));
      if (attachFirst(files)) event.preventDefault();
    }
    /** @param {DragEvent} event */
    function onDrop(event) {
      if (attachFirst(event.dataTransfer?.files)) event.preventDefault();
    }

    // Asked for while the box is off (a group being joined), the focus comes once it is on, unless the person
    // went somewhere else meanwhile or to another conversation.
    let focusWhenOn = false;
    watch(
      () => props.conversationId,
      () => {
        focusWhenOn = false;
      },
    );
    watch(
      () => props.disabledReason,
      (off) => {
        if (off || !focusWhenOn) return;
        focusWhenOn = false;
        void nextTick(() => focusIsLost() && box.value?.focus());
      },
    );
    expose({
      focus() {
        if (props.disabledReason) focusWhenOn = true;
        else box.value?.focus();
      },
      /** Empties the box and every conversation's draft in it (the person signed out), writing nothing. */
      discard() {
        drafts.clear();
        text.value = '';
        mention.close();
      },
    });
    /** The message answered, as its quote will read (reply-quote.js). */
    const replyQuote = computed(() => (props.replyingTo ? plainText(props.replyingTo.text) : ''));
    return {
      text,
      replyQuote,
      box,
      remaining,
      tooLong,
      showCounter,
      counterText: counter,
      canSend,
      send,
      onKeydown,
      onInput,
      mention,
      picker,
      onPicked,
      onPaste,
      onDrop,
    };
  },
  template: /* html */ `
    <form class="composer" @submit.prevent="send" novalidate>
      <label for="composer-input" class="sr-only">{{ label }}</label>
      <div v-if="replyingTo" id="reply-draft" class="reply-draft" data-testid="reply-draft">
        <span class="reply-draft-text">Replying to <strong dir="auto">{{ nameOf(replyingTo.from) }}</strong>:
          <span class="reply-draft-quote" dir="auto">{{ replyQuote }}</span></span>
        <button type="button" class="link-button" @click="$emit('cancel-reply'); box && box.focus()">Cancel reply<span class="sr-only"> (Escape)</span></button>
      </div>
      <div class="composer-box" :class="{ invalid: tooLong }">
        <textarea id="composer-input" ref="box" dir="auto" v-model="text" rows="1" :placeholder="disabledReason || label"
          :disabled="!!disabledReason" @keydown="onKeydown" @input="onInput" @click="mention.update" @blur="mention.close"
          @paste="onPaste" @dragover.prevent @drop="onDrop"
          :aria-describedby="(replyingTo ? 'reply-draft ' : '') + 'composer-help composer-counter'" :aria-invalid="tooLong ? 'true' : 'false'"
          aria-haspopup="listbox" aria-autocomplete="list" aria-controls="mention-list"
          :aria-activedescendant="mention.activeOption.value"></textarea>
        <ul id="mention-list" class="mention-list" role="listbox" aria-label="People to mention" v-show="mention.open.value">
          <li v-for="(id, i) in mention.options.value" :key="id" :id="'mention-option-' + i" role="option"
            class="mention-option" :class="{ active: i === mention.index.value }"
            :aria-selected="i === mention.index.value ? 'true' : 'false'" @mousedown.prevent="mention.accept(i)">
            <span dir="auto">{{ nameOf(id) }}</span>
          </li>
        </ul>
        <input v-if="canAttach" ref="picker" type="file" class="sr-only" tabindex="-1" aria-hidden="true"
          aria-label="File to attach" data-testid="attach-input" @change="onPicked">
        <button v-if="canAttach" type="button" class="attach-button" :disabled="!!disabledReason || !!sendOff" aria-label="Attach a file or image"
          title="Attach a file or image (or paste or drop an image)" @click="picker && picker.click()">
          <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
            <path d="M16.5 6.5 8.6 14.4a2 2 0 0 0 2.8 2.8l8-8a4 4 0 0 0-5.6-5.6l-8 8a6 6 0 0 0 8.5 8.5l6.2-6.2" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round"/>
          </svg>
        </button>
        <button type="submit" class="send-button" :disabled="!canSend" aria-label="Send message">
          <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
            <path d="M3.4 20.4 21 12 3.4 3.6 3.4 10l12.6 2-12.6 2z" fill="currentColor"/>
          </svg>
        </button>
      </div>
      <div class="composer-foot">
        <span v-if="sendOff" id="composer-help" class="hint send-off" data-testid="send-off">{{ sendOff }}</span>
        <span v-else-if="disabledReason" id="composer-help" class="hint" data-testid="composer-off">{{ disabledReason }}</span>
        <span v-else id="composer-help" class="hint">
          <template v-if="offlineHint">{{ offlineHint }}</template>
          <template v-else><kbd>Enter</kbd> to send, <kbd>Shift</kbd>+<kbd>Enter</kbd> for a new line</template>
        </span>
        <span id="composer-counter" class="counter" :class="{ over: tooLong }" v-if="showCounter" aria-live="polite">
          {{ counterText }}
        </span>
        <span class="sr-only" aria-live="polite" data-testid="mention-status">{{ mention.status.value }}</span>
      </div>
    </form>`,
});
