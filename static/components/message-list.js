import { useListScroll } from '../composables/list-scroll.js';
import { useMuteClock } from '../composables/mute-clock.js';
import { useReplyJump } from '../composables/reply-jump.js';
import { useRovingFocus } from '../composables/roving-focus.js';
import { MAX_TEXT_LENGTH, parseConversation } from '../conversation.js';
import { isModerator, MENU_MUTE_MINUTES } from '../state/moderation.js';
import { firstUnreadId, lastSeenMineId } from '../state/read-state.js';
import { noteText as describeNote } from '../state/system-notes.js';
import {
  counterText,
  dayKey,
  dayLabel,
  fullTime,
  initial,
  nameHue,
  timeOfDay,
  withLocalTimes,
} from '../text/format.js';
import { renderMessage, setKnownNames } from '../text/markdown.js';
import { computed, defineComponent, nextTick, ref, watch } from '../vendor/vue.js';
import { AttachmentView } from './attachment-view.js';
import { COUNTER_THRESHOLD } from './message-composer.js';
import { ReactionBar } from './reaction-bar.js';
import { ReplyQuote } from './reply-quote.js';

/** Messages from the same person within this many milliseconds are shown as one block. */
export const GROUPING_WINDOW_MS = 5 * 60_000;
/** What the edit box says when its text is emptied: an edit cannot delete. */
export const EMPTY_EDIT_HINT = 'A message cannot be empty: use Delete to remove it';
/** What the edit box says when Save is pressed offline: the text stays in the box. */
export const OFFLINE_EDIT_HINT = 'Not connected: your edit stays here; save it when the connection is back';

/**
 * A message or a note, placed in time.
 * @typedef {{ type: 'message', key: string, at: string, m: import('../state/chat-state.js').ChatMessage }
 *   | { type: 'note', key: string, at: string, n: import('../state/chat-state.js').Note }} TimelineEntry
 */

/**
 * One conversation's messages, oldest at the top, placed by ../composables/list-scroll.js (opened at the first
 * unread, then kept at the newest while the reader is there). Names are interpolated (`{{ }}`); message text goes through ../markdown.js, whose
 * output is sanitized against an allow-list before `v-html` puts it in the page. With a keyboard the list is one
 * stop of the Tab key, moved through with the arrows (docs/architecture.md, "Keyboard in the message list").
 */
export const MessageList = defineComponent({
  name: 'MessageList',
  components: { AttachmentView, ReactionBar, ReplyQuote },
  props: {
    conversation: {
      type: /** @type {import('vue').PropType<import('../state/chat-state.js').Conversation>} */ (Object),
      required: true,
    },
    me: { type: String, required: true },
    label: { type: String, required: true },
    /** Whether the conversation is a public channel (its notes say "channel"). */
    channel: { type: Boolean, default: false },
    /** What a message waiting to be sent says instead of "Sending…" while the page has stopped trying. */
    held: { type: String, default: '' },
    /** Whether I may read the conversation (a group I am not in: no history is asked for). */
    readable: { type: Boolean, default: true },
    /** The name to show for a user id. */
    nameOf: {
      type: /** @type {import('vue').PropType<(id: string) => string>} */ (Function),
      default: (/** @type {string} */ id) => id,
    },
    /** Whether a message mentions me (it is then highlighted). */
    mentionsMe: {
      type: /** @type {import('vue').PropType<(message: { text?: unknown }) => boolean>} */ (Function),
      default: () => false,
    },
    /** The names of the people the page knows: `@Mary Jane` shows as one mention (../text/mentions.js). */
    knownNames: {
      type: /** @type {import('vue').PropType<readonly string[]>} */ (Array),
      default: () => [],
    },
    /** Whether commands cannot leave now: an edit is then kept in its box, not sent. */
    offline: { type: Boolean, default: false },
    /** The most characters a message may have (an edit is held to it, with a counter). */
    maxTextLength: { type: Number, default: MAX_TEXT_LENGTH },
    /** Moderation (../state/moderation.js): "Report" on others' messages, and a moderator's menu. */
    moderation: {
      type: /** @type {import('vue').PropType<import('../state/moderation.js').ModerationState | null>} */ (
        Object
      ),
      default: null,
    },
  },
  emits: ['load-older', 'retry', 'discard', 'edit', 'delete', 'react', 'reply', 'moderate'],
  setup(props, { emit }) {
    const scroller = ref(/** @type {HTMLElement | null} */ (null));
    const list = ref(/** @type {HTMLElement | null} */ (null));
    const { newBelow, onScroll, scrollToBottom } = useListScroll({
      scroller,
      conversation: () => props.conversation,
      me: () => props.me,
      loadOlder: () => emit('load-older'),
    });

    const timeline = computed(() => {
      const c = props.conversation;
      /** @type {TimelineEntry[]} */
      const entries = [
        ...c.messages.map((m) => ({
          type: /** @type {const} */ ('message'),
          key: `m:${m.id}`,
          at: m.sentAt,
          m,
        })),
        ...c.notes.map((n) => ({ type: /** @type {const} */ ('note'), key: `n:${n.key}`, at: n.at, n })),
      ];
      // Messages are already in id (time) order; notes slot in by time. A stable sort keeps equal times in order.
      entries.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
      /** @type {any[]} */
      const out = [];
      /** @type {any} */
      let previous = null;
      // The "new messages" line, and "Seen" under my last message the other person read (read-state.js).
      const unreadFrom = firstUnreadId(c, props.me);
      const seenMine = lastSeenMineId(c, props.me);
      for (const entry of entries) {
        const day = dayKey(entry.at);
        if (!previous || dayKey(previous.at) !== day) {
          out.push({ type: 'day', key: `d:${day}:${entry.key}`, label: dayLabel(entry.at) });
          previous = null;
        }
        const firstUnread = entry.type === 'message' && entry.m.id === unreadFrom;
        if (firstUnread) out.push({ type: 'unread-line', key: 'unread-line' });
        const continued =
          !firstUnread &&
          entry.type === 'message' &&
          previous?.type === 'message' &&
          previous.m.from === entry.m.from &&
          Date.parse(entry.at) - Date.parse(previous.at) < GROUPING_WINDOW_MS;
        const mine = entry.type === 'message' && entry.m.from === props.me;
        out.push({ ...entry, continued, mine, seen: mine && entry.m.id === seenMine });
        previous = entry;
      }
      return out;
    });

    // My message being edited (its id and the draft), or being asked "delete?" (its id).
    const editing = ref(/** @type {string | null} */ (null));
    const draft = ref('');
    /** Why Save did not close the edit box (empty, or offline), until the text changes. */
    const editHint = ref('');
    /** The question under a message before a deletion, a ban or a mute: `<id>`, `ban:<id>` or `mute:<id>`. */
    const confirming = ref(/** @type {string | null} */ (null));
    // The edit box is held to the message limit as the message box is: a counter near it, no Save past it.
    const editRemaining = computed(() => props.maxTextLength - draft.value.length);
    const editTooLong = computed(() => editRemaining.value < 0);
    const editCounter = computed(() =>
      editRemaining.value <= COUNTER_THRESHOLD ? counterText(editRemaining.value) : '',
    );
    watch(draft, () => {
      editHint.value = '';
    });
    watch(
      () => props.offline,
      (offline) => {
        if (!offline && editHint.value === OFFLINE_EDIT_HINT) editHint.value = '';
      },
    );
    /** @param {import('../state/chat-state.js').ChatMessage} m */
    function startEdit(m) {
      confirming.value = null;
      editing.value = m.id;
      draft.value = m.text;
      editHint.value = '';
      // Typing, Enter and Escape go to the edit box at once, the caret after the text.
      void nextTick(() => {
        const box = scroller.value?.querySelector(`#edit-${CSS.escape(m.id)}`);
        if (!(box instanceof HTMLTextAreaElement)) return;
        box.focus();
        box.setSelectionRange(box.value.length, box.value.length);
      });
    }
    /** Closes the edit box; the focus goes back to the message's Edit button (the list, if the message went). */
    function stopEdit() {
      const id = editing.value;
      editing.value = null;
      editHint.value = '';
      if (id === null) return;
      void nextTick(() => {
        const el = scroller.value;
        const button = el?.querySelector(`.msg[data-id="${CSS.escape(id)}"] [data-action="edit"]`);
        if (button instanceof HTMLElement) button.focus();
        else if (!rove.focusKey(`m:${id}`)) rove.focusCurrent();
      });
    }
    /** @param {import('../state/chat-state.js').ChatMessage} m */
    function saveEdit(m) {
      const text = draft.value;
      if (editTooLong.value) return;
      if (text.trim() === '') {
        editHint.value = EMPTY_EDIT_HINT;
        return;
      }
      if (text === m.text) return stopEdit();
      if (props.offline) {
        editHint.value = OFFLINE_EDIT_HINT;
        return;
      }
      stopEdit();
      emit('edit', m, text);
    }
    // The list is one stop of the Tab key (../composables/roving-focus.js): its articles, in the page's order.
    const articleKeys = computed(() => [
      ...timeline.value
        .filter((item) => item.type === 'message' || item.type === 'note')
        .map((item) => item.key),
      ...props.conversation.pending.map((p) => `p:${p.clientMessageId}`),
    ]);
    const positions = computed(() => new Map(articleKeys.value.map((key, at) => [key, at + 1])));
    const rove = useRovingFocus({
      list,
      scroller,
      keys: () => articleKeys.value,
      conversationId: () => props.conversation.id,
      hasOlder: () => props.conversation.loaded && props.conversation.hasMore,
      loadOlder: () => emit('load-older'),
      // Escape from a question's buttons answers no, as Keep and Cancel do.
      onEscape: () => {
        confirming.value = null;
      },
    });
    /** What describes a message's article: its text (or "deleted") and its attachment. @param {any} m */
    function describedBy(m) {
      const ids = [];
      if (m.deleted || (editing.value !== m.id && (m.text || !m.attachment))) ids.push(`msg-body-${m.id}`);
      if (m.attachment && !m.deleted) ids.push(`msg-file-${m.id}`);
      return ids.join(' ') || null;
    }
    // A question takes the focus on its safe answer (a keyboard's Enter does not confirm at once); once
    // answered, the focus goes back to the message if it was left nowhere.
    watch(confirming, (now, before) => {
      void nextTick(() => {
        if (now !== null) {
          const safe = scroller.value?.querySelector('[data-safe-answer]');
          if (safe instanceof HTMLElement) safe.focus();
        } else if (before !== null && !scroller.value?.contains(document.activeElement)) {
          rove.focusKey(`m:${before.replace(/^(ban|mute|unchannel):/, '')}`);
        }
      });
    });

    /** A message's text as HTML; reads the known names, so a newly known name shows whole. @param {string} text */
    function render(text) {
      setKnownNames(props.knownNames);
      return renderMessage(text);
    }

    // Reactions and replies (reaction-bar.js, reply-quote.js): a quote's click goes to the message it quotes.
    const { highlighted, jumpTo } = useReplyJump({
      conversation: () => props.conversation,
      scroller,
      loadOlder: () => emit('load-older'),
    });

    /** @param {import('../state/chat-state.js').Note} n */
    const noteText = (n) => describeNote(n, props.nameOf, props.channel);

    return {
      mute: useMuteClock(() => props.moderation),
      withLocalTimes,
      scroller,
      list,
      timeline,
      articleKeys,
      positions,
      setSize: () => (props.conversation.hasMore ? -1 : articleKeys.value.length),
      rove,
      describedBy,
      newBelow,
      onScroll,
      scrollToBottom,
      noteText,
      editing,
      draft,
      editHint,
      EMPTY_EDIT_HINT,
      editTooLong,
      editCounter,
      stopEdit,
      confirming,
      canModerate: () => props.moderation !== null && isModerator(props.moderation),
      canReport: () => props.moderation?.enabled === true,
      inChannel: () => parseConversation(props.conversation.id)?.kind === 'group',
      muteMinutes: MENU_MUTE_MINUTES,
      startEdit,
      saveEdit,
      timeOfDay,
      fullTime,
      nameHue,
      initial,
      render,
      highlighted,
      jumpTo,
    };
  },
  template: /* html */ `
    <div class="scroller" ref="scroller" @scroll.passive="onScroll" :tabindex="articleKeys.length ? null : 0" role="region"
      :aria-label="label">
      <div class="history-top">
        <button v-if="conversation.loaded && conversation.hasMore" type="button" class="button ghost small"
          :disabled="conversation.loadingOlder" @click="$emit('load-older')">
          {{ conversation.loadingOlder ? 'Loading older messages…' : 'Load older messages' }}
        </button>
        <p v-else-if="conversation.loaded && (conversation.messages.length || conversation.notes.length)" class="history-start">
          This is the start of the conversation.
        </p>
        <p v-else-if="!conversation.loaded && readable" class="history-start">Loading history…</p>
        <p v-else-if="!conversation.loaded && conversation.closed" class="history-start">Only the group's members can read its messages.</p>
        <p v-else-if="!conversation.loaded" class="history-start">Join to read its messages and write here.</p>
      </div>

      <p v-if="conversation.loaded && !conversation.messages.length && !conversation.notes.length && !conversation.pending.length" class="empty-conversation">
        No messages yet. Say hello!
      </p>

      <div ref="list" class="messages" role="feed" aria-label="Messages" :aria-busy="conversation.loadingOlder ? 'true' : 'false'"
        @focusin="rove.onFocusIn" @focusout="rove.onFocusOut" @keydown="rove.onKeyDown">
        <template v-for="item in timeline" :key="item.key">
          <div v-if="item.type === 'day'" class="day-divider"><span>{{ item.label }}</span></div>
          <div v-else-if="item.type === 'unread-line'" class="unread-line" data-testid="unread-line"><span>New messages</span></div>
          <article v-else-if="item.type === 'note'" class="note" :data-key="item.key" :tabindex="rove.tabIndexOf(item.key)"
            :aria-posinset="positions.get(item.key)" :aria-setsize="setSize()" :aria-labelledby="'note-' + item.key">
            <span :id="'note-' + item.key" class="note-text"><strong dir="auto">{{ nameOf(item.n.user) }}</strong> {{ noteText(item.n) }}</span>
            <time :datetime="item.at" :title="fullTime(item.at)">{{ timeOfDay(item.at) }}</time>
          </article>
          <article v-else class="msg" :class="{ mine: item.mine, continued: item.continued, 'mentions-me': !item.mine && mentionsMe(item.m), 'jump-target': highlighted === item.m.id }" :data-id="item.m.id"
            :data-status="item.mine ? 'sent' : null" :data-key="item.key" :tabindex="rove.tabIndexOf(item.key)"
            :aria-posinset="positions.get(item.key)" :aria-setsize="setSize()" :aria-labelledby="'msg-head-' + item.m.id"
            :aria-describedby="describedBy(item.m)">
            <span v-if="!item.mine && !item.continued" class="avatar" :style="{ '--hue': nameHue(item.m.from) }"
              aria-hidden="true">{{ initial(nameOf(item.m.from)) }}</span>
            <div class="bubble-wrap">
              <div v-if="!item.continued" :id="'msg-head-' + item.m.id" class="msg-meta">
                <span class="msg-from" dir="auto" :style="item.mine ? null : { '--hue': nameHue(item.m.from) }">{{ item.mine ? 'You' : nameOf(item.m.from) }}</span>
                <time :datetime="item.m.sentAt" :title="fullTime(item.m.sentAt)">{{ timeOfDay(item.m.sentAt) }}</time>
              </div>
              <span v-else :id="'msg-head-' + item.m.id" class="sr-only">{{ item.mine ? 'You' : nameOf(item.m.from) }}, {{ timeOfDay(item.m.sentAt) }}:</span>
              <ReplyQuote v-if="item.m.quote && item.m.replyTo && !item.m.deleted" :quote="item.m.quote" :me="me"
                :name-of="nameOf" @jump="jumpTo(item.m.replyTo)" />
              <p v-if="item.m.deleted" :id="'msg-body-' + item.m.id" class="bubble deleted">{{ item.m.removed ? 'Message deleted by a moderator' : 'Message deleted' }}</p>
              <form v-else-if="editing === item.m.id" class="edit-form" novalidate @submit.prevent="saveEdit(item.m)">
                <label class="sr-only" :for="'edit-' + item.m.id">Edit your message</label>
                <textarea :id="'edit-' + item.m.id" v-model="draft" rows="2" dir="auto"
                  :aria-invalid="editTooLong || editHint === EMPTY_EDIT_HINT ? 'true' : 'false'"
                  :aria-describedby="'edit-hint-' + item.m.id + ' edit-counter-' + item.m.id"
                  @keydown.esc.prevent="stopEdit()" @keydown.enter.exact.prevent="saveEdit(item.m)"></textarea>
                <span class="edit-actions">
                  <button type="submit" class="button small primary" :disabled="editTooLong">Save</button>
                  <button type="button" class="button small ghost" @click="stopEdit()">Cancel</button>
                  <span :id="'edit-counter-' + item.m.id" class="counter" :class="{ over: editTooLong }" aria-live="polite"
                    data-testid="edit-counter">{{ editCounter }}</span>
                </span>
                <span :id="'edit-hint-' + item.m.id" class="edit-hint" role="status" data-testid="edit-hint">{{ editHint }}</span>
              </form>
              <div v-else-if="item.m.text || !item.m.attachment" :id="'msg-body-' + item.m.id" class="bubble" dir="auto" v-html="render(item.m.text)"></div>
              <AttachmentView v-if="item.m.attachment && !item.m.deleted" :id="'msg-file-' + item.m.id" :attachment="item.m.attachment" :conversation="item.m.conversation" />
              <span v-if="item.m.editedAt && !item.m.deleted" class="edited-mark" :title="'Edited ' + fullTime(item.m.editedAt)">edited</span>
              <span v-if="item.seen" class="seen-mark" data-testid="seen">Seen</span>
              <div v-if="item.mine && !item.m.deleted && editing !== item.m.id" class="msg-foot">
              <span class="msg-actions">
                <span v-if="confirming === item.m.id" class="confirm" role="group" :aria-labelledby="'ask-' + item.m.id">
                  <span :id="'ask-' + item.m.id">Delete this message?</span>
                  <button type="button" class="link-button" @click="confirming = null; $emit('delete', item.m)">Delete</button>
                  <button type="button" class="link-button" data-safe-answer @click="confirming = null">Keep</button>
                </span>
                <template v-else>
                  <button type="button" class="link-button" data-action="edit" @click="startEdit(item.m)">Edit</button>
                  <button type="button" class="link-button" @click="confirming = item.m.id">Delete</button>
                </template>
              </span>
              <ReactionBar :message="item.m" :me="me" :name-of="nameOf" list-last
                @react="(m, emoji) => $emit('react', m, emoji)" @reply="(m) => $emit('reply', m)" />
              </div>
              <ReactionBar v-else-if="!item.mine && !item.m.deleted" :message="item.m" :me="me" :name-of="nameOf"
                @react="(m, emoji) => $emit('react', m, emoji)" @reply="(m) => $emit('reply', m)" />
              <span v-if="!item.mine && !item.m.deleted && canReport()" class="msg-actions" data-testid="others-actions">
                <span v-if="confirming === item.m.id" class="confirm" role="group" :aria-labelledby="'ask-' + item.m.id">
                  <span :id="'ask-' + item.m.id">Delete {{ nameOf(item.m.from) }}'s message for everyone?</span>
                  <button type="button" class="link-button" data-testid="confirm-remove"
                    @click="confirming = null; $emit('moderate', 'removeMessage', { conversation: item.m.conversation, messageId: item.m.id })">Delete</button>
                  <button type="button" class="link-button" data-safe-answer @click="confirming = null">Keep</button>
                </span>
                <span v-else-if="confirming === 'ban:' + item.m.id" class="confirm" role="group" :aria-labelledby="'ask-' + item.m.id">
                  <span :id="'ask-' + item.m.id">Ban {{ nameOf(item.m.from) }} from the chat?</span>
                  <button type="button" class="link-button" @click="confirming = null; $emit('moderate', 'banUser', { user: item.m.from })">Ban</button>
                  <button type="button" class="link-button" data-safe-answer @click="confirming = null">Cancel</button>
                </span>
                <span v-else-if="confirming === 'mute:' + item.m.id" class="confirm" role="group" :aria-labelledby="'ask-' + item.m.id">
                  <span :id="'ask-' + item.m.id">Mute {{ nameOf(item.m.from) }} for an hour?</span>
                  <button type="button" class="link-button" data-testid="confirm-mute"
                    @click="confirming = null; $emit('moderate', 'muteUser', { user: item.m.from, minutes: muteMinutes })">Mute</button>
                  <button type="button" class="link-button" data-safe-answer @click="confirming = null">Cancel</button>
                </span>
                <span v-else-if="confirming === 'unchannel:' + item.m.id" class="confirm" role="group" :aria-labelledby="'ask-' + item.m.id">
                  <span :id="'ask-' + item.m.id">Remove {{ nameOf(item.m.from) }} from this channel? They can join it again at once; to keep them out, ban them.</span>
                  <button type="button" class="link-button" data-testid="confirm-unchannel"
                    @click="confirming = null; $emit('moderate', 'removeFromChannel', { group: item.m.group, user: item.m.from })">Remove</button>
                  <button type="button" class="link-button" data-safe-answer @click="confirming = null">Cancel</button>
                </span>
                <template v-else>
                  <button type="button" class="link-button" data-testid="report"
                    @click="$emit('moderate', 'reportMessage', { conversation: item.m.conversation, messageId: item.m.id })">Report</button>
                  <template v-if="canModerate()">
                    <button type="button" class="link-button" data-testid="remove" :aria-label="'Delete the message of ' + nameOf(item.m.from)" @click="confirming = item.m.id">Delete</button>
                    <button type="button" class="link-button" :aria-label="'Mute user ' + nameOf(item.m.from) + ' for an hour…'"
                      :title="'Mute ' + nameOf(item.m.from) + ' for an hour'" @click="confirming = 'mute:' + item.m.id">Mute user…</button>
                    <button type="button" class="link-button" :aria-label="'Ban ' + nameOf(item.m.from)" @click="confirming = 'ban:' + item.m.id">Ban</button>
                    <button v-if="inChannel()" type="button" class="link-button" :aria-label="'Remove ' + nameOf(item.m.from) + ' from the channel…'"
                      @click="confirming = 'unchannel:' + item.m.id">Remove from channel…</button>
                  </template>
                </template>
              </span>
            </div>
          </article>
        </template>
        <article v-for="p in conversation.pending" :key="'p:' + p.clientMessageId" class="msg mine pending"
          :class="{ failed: p.status === 'failed' }" :data-status="p.status" :data-key="'p:' + p.clientMessageId"
          :tabindex="rove.tabIndexOf('p:' + p.clientMessageId)" :aria-posinset="positions.get('p:' + p.clientMessageId)"
          :aria-setsize="setSize()" :aria-label="p.status === 'failed' ? 'Your message, not sent' : 'Your message, sending'"
          :aria-describedby="(p.text || !p.attachment ? 'pending-body-' + p.clientMessageId + ' ' : '') + 'pending-status-' + p.clientMessageId">
          <div class="bubble-wrap">
            <div v-if="p.text || !p.attachment" :id="'pending-body-' + p.clientMessageId" class="bubble" dir="auto" v-html="render(p.text)"></div>
            <AttachmentView v-if="p.attachment" :attachment="p.attachment" :conversation="conversation.id" pending />
            <div :id="'pending-status-' + p.clientMessageId" class="pending-status">
              <template v-if="p.status === 'failed'">
                <span class="failed-text">Not sent: {{ withLocalTimes(p.error || '') }}</span>
                <span v-if="mute.muted.value" class="retry-later" data-testid="retry-later">You can try again after {{ mute.until.value }}.</span>
                <button v-else type="button" class="link-button" @click="$emit('retry', p)">Try again</button>
                <button type="button" class="link-button" @click="$emit('discard', p)">Remove</button>
              </template>
              <span v-else-if="held" class="failed-text" data-testid="held">{{ held }}</span>
              <span v-else :title="p.error || null">{{ p.attempts > 1 ? 'Sending… (trying again)' : 'Sending…' }}</span>
            </div>
          </div>
        </article>
      </div>
      <button v-if="newBelow" type="button" class="new-below" @click="scrollToBottom">New messages ↓</button>
    </div>`,
});
