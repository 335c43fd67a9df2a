import { parseConversation } from '../conversation.js';
import { readToNewest, settleReadLine } from '../state/read-state.js';
import { onBeforeUnmount, watch } from '../vendor/vue.js';

/**
 * The least time between two `markRead` this page sends (a busy conversation read live would otherwise send one
 * per message); the last mark of a burst leaves at the end of it. The server writes Blob at most once per 5 s
 * per person whatever the page sends (docs/architecture.md, "Read state").
 */
export const MARK_READ_MIN_INTERVAL_MS = 1_000;

/**
 * What I read, told to the server: while the page is visible, the open conversation is read up to its newest
 * message (`markRead`), which clears its unread count here and, through the server's `read`, in my other
 * tabs. Opening a conversation puts its "new messages" line at my position, and opening a private one asks
 * for the other person's position (`loadReadState`) so "Seen" can show.
 * @param {import('../state/chat-state.js').ChatState} state
 * @param {{
 *   active: { readonly value: import('../state/chat-state.js').Conversation },
 *   connected: { readonly value: boolean },
 *   canRead: (conversationId: string) => boolean,
 *   send: (command: string, payload: object) => Promise<unknown>,
 * }} options
 */
export function useReadMarks(state, { active, connected, canRead, send }) {
  state.pageVisible = document.visibilityState === 'visible';
  const onVisibility = () => {
    const shown = document.visibilityState === 'visible';
    // Back in view: the "new messages" line goes before what came while the tab was hidden.
    const c = active.value;
    if (shown && !state.pageVisible && c.unread > 0) c.readLine = c.lastReadId;
    state.pageVisible = shown;
  };
  document.addEventListener('visibilitychange', onVisibility);
  onBeforeUnmount(() => document.removeEventListener('visibilitychange', onVisibility));

  let lastSent = 0;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  /** @type {{ conversation: string, messageId: string } | undefined} */
  let waiting;

  function flush() {
    timer = undefined;
    if (waiting === undefined || !connected.value) return;
    const mark = waiting;
    waiting = undefined;
    lastSent = Date.now();
    send('markRead', mark).catch(() => undefined);
  }

  function markActive() {
    const c = active.value;
    settleReadLine(c, state.me);
    if (!state.pageVisible || !connected.value || !c.loaded || !canRead(c.id)) return;
    const id = readToNewest(c);
    if (id === null) return;
    // A mark of another conversation waiting in the throttle leaves first.
    if (waiting !== undefined && waiting.conversation !== c.id) flush();
    waiting = { conversation: c.id, messageId: id };
    const wait = lastSent + MARK_READ_MIN_INTERVAL_MS - Date.now();
    if (wait <= 0) flush();
    else timer ??= setTimeout(flush, wait);
  }
  onBeforeUnmount(() => clearTimeout(timer));

  // Opening a conversation: its line goes to my position (before the mark moves it), and a private one asks
  // for what the other person read.
  watch([() => state.activeId, connected], ([id, up], [oldId]) => {
    const c = active.value;
    if (id !== oldId) c.readLine = c.lastReadId;
    if (up && parseConversation(id)?.kind === 'dm')
      send('loadReadState', { conversation: id }).catch(() => undefined);
  });
  watch(
    [
      () => state.activeId,
      () => active.value.messages.at(-1)?.id,
      () => active.value.loaded,
      () => state.pageVisible,
      connected,
    ],
    markActive,
    { immediate: true },
  );
}
