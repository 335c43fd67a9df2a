import { groupConversation, parseConversation, ROOM } from '../conversation.js';
import { createOutbox } from '../link/outbox.js';
import { createOutboxStore } from '../link/outbox-store.js';
import { applyOutboxChange } from '../state/chat-history.js';
import {
  ensureConversation,
  HISTORY_PAGE_SIZE,
  noteCommand,
  openConversation,
  startJoining,
  stopJoining,
} from '../state/chat-state.js';
import { awaitOnline } from '../state/online-list.js';
import { DEFAULT_MAX_SUGGESTIONS, notePendingSuggestion } from '../state/people-picker.js';
import { reactionToggle } from '../state/reactions.js';
import { watch } from '../vendor/vue.js';

/**
 * What the person can do, as commands to the server: send (through the outbox), retry or discard a message,
 * open a conversation, load its history, join or leave a group, and catch up after (re)connecting.
 * @param {import('../state/chat-state.js').ChatState} state
 * @param {{
 *   active: { readonly value: import('../state/chat-state.js').Conversation },
 *   connected: { readonly value: boolean },
 *   send: (command: string, payload: object) => Promise<unknown>,
 *   onOpened: () => void,
 * }} options `send` delivers a command over the link; `onOpened` runs after a conversation is opened.
 */
export function useChatActions(state, { active, connected, send, onOpened }) {
  // Messages go through the outbox: resent until acknowledged, one in flight per conversation (../outbox.js),
  // and kept in IndexedDB until then, so a reload or a closed tab loses none (../outbox-store.js).
  const kept = createOutboxStore(state.me);
  const outbox = createOutbox({
    send: (command, payload) => send(command, payload),
    onChange: (entry) => {
      applyOutboxChange(state, entry);
      void kept.record(entry);
    },
  });
  // What an earlier visit left unsent leaves again with its own clientMessageId: the server stores it once.
  const restored = kept.load().then((entries) => {
    for (const entry of entries) outbox.add(entry.conversation, entry.payload);
  });

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

  /**
   * The link came up (send what waited, and bring every conversation on screen up to date) or went down.
   * @param {boolean} up @param {boolean} resumed
   */
  function linkChanged(up, resumed) {
    outbox.setConnected(up);
    if (!up) return;
    for (const c of state.conversations.values()) {
      // The room's latest page comes with every `welcome`.
      if (c.id === ROOM) continue;
      if (!canRead(c.id)) continue;
      if ((resumed && c.loaded) || (!c.loaded && c.id === state.activeId)) loadLatest(c.id);
    }
  }

  /** @param {string} conversationId @param {string} text */
  function messagePayload(conversationId, text) {
    const parsed = parseConversation(conversationId);
    if (parsed?.kind === 'group') return { text, group: parsed.group };
    if (parsed?.kind === 'dm')
      return { text, to: parsed.users[0] === state.me ? parsed.users[1] : parsed.users[0] };
    return { text };
  }

  /** @param {string} text @param {string} [replyTo] the id of the message it answers */
  function sendMessage(text, replyTo) {
    const c = active.value;
    c.error = null;
    // Offline, it waits in the outbox and leaves (with its clientMessageId) when the link is back.
    outbox.add(c.id, { ...messagePayload(c.id, text), ...(replyTo ? { replyTo } : {}) });
  }

  /**
   * Offline (the browser or the link says so), a command that is not queued is not sent, and the
   * conversation says so at once: what it asked for has not happened, and the person does it again later.
   * @param {string} conversationId @param {string} what "react", "delete", …
   */
  function refusedOffline(conversationId, what) {
    if (connected.value) return false;
    ensureConversation(state, conversationId).error =
      `Not connected: nothing was changed; ${what} again when the connection is back.`;
    return true;
  }

  /**
   * Toggles my reaction `emoji` on a message (the server checks that I may read its conversation). Not
   * queued: offline, it says so.
   * @param {import('../state/chat-state.js').ChatMessage} message @param {string} emoji
   */
  function react(message, emoji) {
    if (refusedOffline(message.conversation, 'react')) return;
    const { command: name, payload } = reactionToggle(state.me, message, emoji);
    void command(name, payload, message.conversation).then((sent) => {
      if (!sent)
        ensureConversation(state, message.conversation).error =
          'Not connected: try again when the connection is back.';
    });
  }

  /**
   * Sends an uploaded file as a message of its own (../link/uploads.js); queued like any message.
   * @param {string} conversationId @param {import('../link/uploads.js').Attachment} attachment
   */
  function sendAttachment(conversationId, attachment) {
    outbox.add(conversationId, { ...messagePayload(conversationId, ''), attachment });
  }

  /** @param {{ clientMessageId: string }} pending */
  function retry(pending) {
    outbox.retry(pending.clientMessageId);
  }

  /** @param {{ clientMessageId: string }} pending */
  function discard(pending) {
    outbox.discard(pending.clientMessageId);
  }

  /**
   * Edits or deletes one of my messages (the server checks that it is mine). Not queued: offline, it says so.
   * @param {import('../state/chat-state.js').ChatMessage} message @param {string | null} text `null` deletes
   */
  function change(message, text) {
    if (refusedOffline(message.conversation, text === null ? 'delete' : 'edit')) return;
    const payload = {
      conversation: message.conversation,
      messageId: message.id,
      clientMessageId: crypto.randomUUID(),
      ...(text === null ? {} : { text }),
    };
    const name = text === null ? 'deleteMessage' : 'editMessage';
    void command(name, payload, message.conversation).then((sent) => {
      if (!sent)
        ensureConversation(state, message.conversation).error =
          'Not connected: try again when the connection is back.';
    });
  }

  /**
   * Asks for the people whose name starts with `query`; with `after` (the shown page's `next`), the next page.
   * @param {string} query @param {string} [after]
   */
  function findPeople(query, after) {
    if (query.trim() === '') return;
    const payload = { query: query.trim(), ...(typeof after === 'string' ? { after } : {}) };
    void command('findPeople', payload, state.activeId);
  }

  /**
   * Asks for the people the picker suggests for `query` (../state/people-picker.js): the first
   * {@link DEFAULT_MAX_SUGGESTIONS}, answered apart from the people search's.
   * @param {string} query
   */
  function suggestPeople(query) {
    if (query.trim() === '') return;
    notePendingSuggestion(state.suggestionsPending, query.trim());
    void command('findPeople', { query: query.trim(), limit: DEFAULT_MAX_SUGGESTIONS }, state.activeId);
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
    startJoining(state, group);
    open(id);
    void command('joinGroup', { group }, id).then((sent) => {
      if (sent) return;
      stopJoining(state, group);
      ensureConversation(state, id).error = 'Not connected: join again when the connection is back.';
    });
  }

  /** @param {string} group */
  function leave(group) {
    const id = groupConversation(group);
    // The next action: what the last one was refused for is no longer the news.
    ensureConversation(state, id).error = null;
    void command('leaveGroup', { group }, id).then((sent) => {
      if (!sent)
        ensureConversation(state, id).error = 'Not connected: leave again when the connection is back.';
    });
  }

  /**
   * A command about a group (createGroup, addMember, removeMember, listMembers, …); its error lands in the
   * group's conversation. The server checks who may do it.
   * @param {string} name @param {{ group: string } & Record<string, unknown>} payload
   */
  function groupCommand(name, payload) {
    const id = groupConversation(payload.group);
    // A person's next action about the group takes the last one's refusal away (not the page's own listMembers).
    if (name !== 'listMembers') ensureConversation(state, id).error = null;
    void command(name, payload, id).then((sent) => {
      if (sent) return;
      if (name === 'createGroup') stopJoining(state, payload.group);
      ensureConversation(state, id).error = 'Not connected: try again when the connection is back.';
    });
  }

  /**
   * Creates a private group with members (or a channel), and opens it once the server has created it; a refusal
   * (a name that is taken) stays in the create form and opens nothing.
   * @param {{ group: string, kind: 'private' | 'channel', members: string[] }} spec
   */
  function createGroup({ group, kind, members }) {
    state.creating = { group, created: false, error: null };
    const payload = { group, kind, ...(kind === 'private' ? { members } : {}) };
    void command('createGroup', payload, groupConversation(group)).then((sent) => {
      if (!sent && state.creating?.group === group)
        state.creating = {
          group,
          created: false,
          error: 'Not connected: try again when the connection is back.',
        };
    });
  }
  watch(
    () => state.creating?.created,
    (created) => {
      if (!created || !state.creating) return;
      const id = groupConversation(state.creating.group);
      state.creating = null;
      open(id);
    },
  );

  /** Asks for a page of the channel directory (`after`: the next page). @param {string} [after] */
  function listChannels(after) {
    state.channelsAfter = after ?? null;
    void command('listChannels', after === undefined ? {} : { after }, state.activeId);
  }

  /**
   * Asks for a page of the online list: the next one (`after` = the list's cursor), or the first one again
   * (a resync). Deltas wait for the answer (see chat-state.js, `awaitOnline`).
   * @param {string} [after]
   */
  function listOnline(after) {
    awaitOnline(state);
    void command('listOnline', after === undefined ? {} : { after }, ROOM).then((sent) => {
      // Not sent: the next welcome takes the list again.
      if (!sent) state.onlineSyncing = false;
    });
  }

  /** Loads the next page of the online list, if there is one. */
  function moreOnline() {
    if (state.onlineNext !== null && !state.onlineSyncing && connected.value) listOnline(state.onlineNext);
  }

  /**
   * Forgets every message not sent yet, in the page and on this browser (signing out of a shared browser), once
   * what an earlier visit left is loaded; nothing is kept for this page's life after it.
   */
  async function forgetUnsent() {
    await restored;
    for (const entry of outbox.pending()) outbox.discard(entry.clientMessageId);
    outbox.stop();
    await kept.clear();
  }

  /**
   * Stops sending and keeping for this page's life, leaving on this browser what waits for this user's next
   * visit (the page is no longer for the browser's signed-in person).
   */
  function stopUnsent() {
    outbox.stop();
    kept.close();
  }

  /**
   * How many messages of this user are not stored by the server yet, in this page or kept on this browser by
   * another tab of it (a sign-out forgets them all).
   */
  async function unsentOnBrowser() {
    await restored;
    const ids = new Set(outbox.pending().map((entry) => entry.clientMessageId));
    for (const entry of await kept.load()) ids.add(entry.clientMessageId);
    return ids.size;
  }

  /**
   * Whether leaving the page now would lose something written: a message not stored by the server yet and not
   * kept on this browser either (without IndexedDB, or in the moment before its write); the page warns before it
   * is closed then. One kept on this browser leaves on the next visit, so leaving loses nothing.
   */
  function wouldLoseUnsent() {
    return outbox.pending().some((entry) => !kept.isKept(entry.clientMessageId));
  }

  return {
    outbox,
    restored,
    wouldLoseUnsent,
    forgetUnsent,
    stopUnsent,
    unsentOnBrowser,
    loadLatest,
    loadOlder,
    listOnline,
    moreOnline,
    linkChanged,
    canRead,
    sendMessage,
    sendAttachment,
    retry,
    discard,
    open,
    join,
    leave,
    change,
    react,
    findPeople,
    suggestPeople,
    groupCommand,
    createGroup,
    listChannels,
  };
}
