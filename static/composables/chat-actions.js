import {
  addPending,
  ensureConversation,
  groupConversation,
  HISTORY_PAGE_SIZE,
  noteCommand,
  openConversation,
  parseConversation,
  ROOM,
  resendable,
} from '../chat-state.js';

/**
 * What the person can do, as commands to the server: send, retry or discard a message, open a conversation,
 * load its history, join or leave a group, and catch up after (re)connecting.
 * @param {ReturnType<typeof import('../chat-state.js').createChatState>} state
 * @param {{
 *   active: { readonly value: import('../chat-state.js').Conversation },
 *   connected: { readonly value: boolean },
 *   send: (command: string, payload: object) => Promise<unknown>,
 *   onOpened: () => void,
 * }} options `send` delivers a command over the link; `onOpened` runs after a conversation is opened.
 */
export function useChatActions(state, { active, connected, send, onOpened }) {
  /**
   * Sends a command, remembering which conversation issued it so an `error` lands there.
   * @param {string} command @param {object} payload @param {string} conversationId
   */
  async function command(command, payload, conversationId) {
    noteCommand(state, command, conversationId);
    try {
      await send(command, payload);
      return true;
    } catch {
      return false;
    }
  }

  /** @param {string} conversationId */
  function loadLatest(conversationId) {
    void command('loadHistory', { conversation: conversationId, limit: HISTORY_PAGE_SIZE }, conversationId);
  }

  function loadOlder() {
    const c = active.value;
    const oldest = c.messages[0];
    if (!oldest || c.loadingOlder || !connected.value) return;
    c.loadingOlder = true;
    c.olderBefore = oldest.id;
    void command(
      'loadHistory',
      { conversation: c.id, before: oldest.id, limit: HISTORY_PAGE_SIZE },
      c.id,
    ).then((sent) => {
      if (!sent) c.loadingOlder = false;
    });
  }

  /** After (re)connecting: send what waited, and bring every conversation on screen up to date. */
  function catchUp(/** @type {boolean} */ resumed) {
    for (const { conversationId, pending } of resendable(state)) {
      void command(
        'sendMessage',
        messagePayload(conversationId, pending.text, pending.clientMessageId),
        conversationId,
      );
    }
    for (const c of Object.values(state.conversations)) {
      // The room's latest page comes with every `welcome`.
      if (c.id === ROOM) continue;
      if (!canRead(c.id)) continue;
      if ((resumed && c.loaded) || (!c.loaded && c.id === state.activeId)) loadLatest(c.id);
    }
  }

  /** @param {string} conversationId @param {string} text @param {string} clientMessageId */
  function messagePayload(conversationId, text, clientMessageId) {
    const parsed = parseConversation(conversationId);
    if (parsed?.kind === 'group') return { text, group: parsed.group, clientMessageId };
    if (parsed?.kind === 'dm')
      return {
        text,
        to: parsed.users[0] === state.me ? parsed.users[1] : parsed.users[0],
        clientMessageId,
      };
    return { text, clientMessageId };
  }

  /** @param {string} text */
  function sendMessage(text) {
    const c = active.value;
    c.error = null;
    const pending = addPending(state, c.id, {
      clientMessageId: crypto.randomUUID(),
      text,
      createdAt: new Date().toISOString(),
      status: 'pending',
    });
    // Offline: it stays pending and goes out (with the same clientMessageId) when the link is back.
    if (connected.value && pending)
      void command('sendMessage', messagePayload(c.id, text, pending.clientMessageId), c.id);
  }

  /** @param {any} pending */
  function retry(pending) {
    pending.status = 'pending';
    pending.error = undefined;
    const id = state.activeId;
    if (connected.value)
      void command('sendMessage', messagePayload(id, pending.text, pending.clientMessageId), id);
  }

  /** @param {any} pending */
  function discard(pending) {
    const c = active.value;
    c.pending = c.pending.filter((p) => p.clientMessageId !== pending.clientMessageId);
  }

  /** Whether the server will let me read a conversation (a group only while I am a member). */
  function canRead(/** @type {string} */ id) {
    const parsed = parseConversation(id);
    return parsed?.kind !== 'group' || state.groups.includes(parsed.group);
  }

  /** @param {string} id */
  function open(id) {
    const c = openConversation(state, id);
    if (!c.loaded && connected.value && canRead(id)) loadLatest(id);
    onOpened();
  }

  /** @param {string} group */
  function join(group) {
    const id = groupConversation(group);
    ensureConversation(state, id).error = null;
    open(id);
    void command('joinGroup', { group }, id).then((sent) => {
      if (!sent)
        ensureConversation(state, id).error = 'Not connected: join again when the connection is back.';
    });
  }

  /** @param {string} group */
  function leave(group) {
    const id = groupConversation(group);
    void command('leaveGroup', { group }, id).then((sent) => {
      if (!sent)
        ensureConversation(state, id).error = 'Not connected: leave again when the connection is back.';
    });
  }

  return { loadLatest, loadOlder, catchUp, canRead, sendMessage, retry, discard, open, join, leave };
}
