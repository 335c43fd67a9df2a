import { plainText } from '../text/markdown.js';
import { computed, defineComponent } from '../vendor/vue.js';

/**
 * The quote above a reply: who wrote the message answered and the start of its text, as it was when the
 * reply was sent ("Message deleted" once its author deleted it). A click goes to that message
 * (docs/architecture.md, "Reactions and replies"). The text is shown as text, never as Markdown, and without
 * the Markdown's marks (`plainText`).
 */
export const ReplyQuote = defineComponent({
  name: 'ReplyQuote',
  props: {
    quote: {
      type: /** @type {import('vue').PropType<{ from: string, text: string, deleted?: true }>} */ (Object),
      required: true,
    },
    me: { type: String, required: true },
    nameOf: {
      type: /** @type {import('vue').PropType<(id: string) => string>} */ (Function),
      default: (/** @type {string} */ id) => id,
    },
  },
  emits: ['jump'],
  setup(props) {
    return { text: computed(() => plainText(props.quote.text)) };
  },
  template: /* html */ `
    <button type="button" class="reply-quote" title="Go to the message replied to" @click="$emit('jump')">
      <span class="sr-only">In reply to </span><strong class="reply-quote-from" dir="auto">{{ quote.from === me ? 'You' : nameOf(quote.from) }}</strong>
      <span v-if="quote.deleted" class="reply-quote-text deleted">Message deleted</span>
      <span v-else class="reply-quote-text" dir="auto">{{ text }}</span>
    </button>`,
});
