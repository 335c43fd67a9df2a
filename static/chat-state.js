/**
 * The chat's client-side state and how each server event (docs/architecture.md, "The chat protocol") changes it. Plain functions over a
 * plain object: the page wraps the object in Vue's `reactive()`, so every change here re-renders, and the
 * rules stay readable (and runnable) without a browser.
 *
 * Messages of a conversation are kept sorted by their server id (a ULID: it sorts by time) and merged by id,
 * so history that arrives twice (after a reconnect, or a "load older" overlapping a live message) is shown once.
 */

/** The public room's conversation id. */
export const ROOM = 'room';

/** How many `system` notes (joined, left, …) each conversation keeps; older ones are dropped. */
export const MAX_NOTES_PER_CONVERSATION = 50;

/** Messages asked for per "load older" page (the server allows 1–100, default 50). */
export const HISTORY_PAGE_SIZE = 50;

/** @param {string} group */
export function groupConversation(group) {
  return `group:${group}`;
}

/**
 * The private conversation of two users: the names sorted by UTF-16 code units, as the server sorts them.
 * @param {string} a
 * @param {string} b
 */
export function directConversation(a, b) {
  const [first, second] = a < b ? [a, b] : [b, a];
  return `dm:${first}:${second}`;
}

/**
 * What a conversation id names; `undefined` for anything else.
 * @param {string} id
 * @returns {{ kind: 'room' } | { kind: 'group', group: string } | { kind: 'dm', users: [string, string] } | undefined}
 */
export function parseConversation(id) {
  if (id === ROOM) return { kind: 'room' };
  if (id.startsWith('group:')) return { kind: 'group', group: id.slice('group:'.length) };
  if (id.startsWith('dm:')) {
    // Names cannot contain ':', so the split is unambiguous.
    const parts = id.slice('dm:'.length).split(':');
    if (parts.length === 2) return { kind: 'dm', users: /** @type {[string, string]} */ (parts) };
  }
  return undefined;
}

/**
 * A fresh state for `me`.
 * @param {string} me
 */
export function createChatState(me) {
  return {
    me,
    /**
     * Who is online, sorted: the pages of the online list loaded so far (the `welcome` carries the first,
     * `listOnline` fetches the next), kept exact by `presence` deltas.
     */
    online: /** @type {string[]} */ ([]),
    /** How many are online in all (the server's count with the newest `at`). */
    onlineCount: 0,
    /** The server time of `onlineCount`. */
    onlineAt: 0,
    /** The cursor of the next page of the online list; `null` when `online` is all of it. */
    onlineNext: /** @type {string | null} */ (null),
    /**
     * True while the list waits for a snapshot (a `welcome`, or the answer to a `listOnline` in flight):
     * deltas that arrive meanwhile are kept in `onlineBuffer` and applied on top of the snapshot.
     */
    onlineSyncing: true,
    /** @type {PresenceDelta[]} */
    onlineBuffer: [],
    /**
     * Display names by user id, for users whose name is not their id (signed in): from `welcome`, `online`,
     * `presence`, messages and notes. Without sign-in it stays empty and ids are the names.
     */
    names: /** @type {Record<string, string>} */ ({}),
    /** Groups `me` is a member of. */
    groups: /** @type {string[]} */ ([]),
    /** Every group this page has heard of (so a left group can be joined again with one click). */
    knownGroups: /** @type {string[]} */ ([]),
    /** @type {Record<string, Conversation>} */
    conversations: { [ROOM]: newConversation(ROOM) },
    activeId: ROOM,
    /** True once the first `welcome` arrived. */
    welcomed: false,
    /** Errors that belong to no conversation (e.g. a malformed event). */
    globalError: /** @type {string | null} */ (null),
    /** Which conversation last issued each command, so an `error` event is shown where it happened. */
    lastCommandConversation: /** @type {Record<string, string>} */ ({}),
  };
}

/**
 * @typedef {{ id: string, conversation: string, from: string, fromName?: string, to?: string, group?: string,
 *   text: string, sentAt: string, clientMessageId?: string }} ChatMessage
 * @typedef {{ clientMessageId: string, text: string, status: 'sending' | 'failed', error?: string,
 *   attempts: number }} PendingMessage
 * @typedef {{ key: string, kind: string, user: string, group?: string, at: string }} Note
 * @typedef {{ joined?: string[], left?: string[], names?: Record<string, string>, count?: number,
 *   at?: number }} PresenceDelta
 * @typedef {{ users?: string[], names?: Record<string, string>, count?: number, after?: string, next?: string,
 *   at?: number }} OnlinePage
 * @typedef {{ id: string, messages: ChatMessage[], pending: PendingMessage[], notes: Note[], hasMore: boolean,
 *   loaded: boolean, loadingOlder: boolean, olderBefore: string | null, unread: number,
 *   error: string | null }} Conversation
 */

/** @param {string} id @returns {Conversation} */
function newConversation(id) {
  return {
    id,
    messages: [],
    pending: [],
    notes: [],
    hasMore: false,
    loaded: false,
    loadingOlder: false,
    olderBefore: null,
    unread: 0,
    error: null,
  };
}

/**
 * The conversation with this id, created empty when new.
 * @param {ReturnType<typeof createChatState>} state
 * @param {string} id
 */
export function ensureConversation(state, id) {
  let conversation = state.conversations[id];
  if (!conversation) {
    conversation = newConversation(id);
    state.conversations[id] = conversation;
    // Read back through the state: with Vue's reactive() this is the tracked proxy, not the raw object.
    conversation = state.conversations[id];
  }
  return /** @type {Conversation} */ (conversation);
}

/**
 * Merges messages by id, sorted by id (ULIDs sort by time).
 * @param {ChatMessage[]} existing
 * @param {ChatMessage[]} incoming
 */
export function mergeMessages(existing, incoming) {
  const byId = new Map(existing.map((m) => [m.id, m]));
  for (const m of incoming) byId.set(m.id, m);
  return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** @param {unknown[]} list */
function sortedUnique(list) {
  return [...new Set(list.filter((x) => typeof x === 'string'))].sort((a, b) => a.localeCompare(b));
}

/** @param {ReturnType<typeof createChatState>} state @param {string} group */
function rememberGroup(state, group) {
  if (!state.knownGroups.includes(group)) state.knownGroups = sortedUnique([...state.knownGroups, group]);
}

/**
 * `welcome`: who I am to the server, the first page of who is online, my groups and the room's latest
 * history. Sent on every (re)connection, so it merges instead of replacing (the online list starts again
 * from its first page: a resync, exact whatever was missed while offline).
 * @param {ReturnType<typeof createChatState>} state
 * @param {{ user?: string, name?: string, online?: string[], names?: Record<string, string>,
 *   onlineCount?: number, onlineNext?: string, onlineAt?: number, groups?: string[],
 *   history?: { conversation: string, messages: ChatMessage[], hasMore: boolean } }} welcome
 */
export function applyWelcome(state, welcome) {
  if (typeof welcome.user === 'string') state.me = welcome.user;
  rememberNames(state, welcome.names);
  if (typeof welcome.user === 'string' && typeof welcome.name === 'string')
    rememberNames(state, { [welcome.user]: welcome.name });
  applyOnlineSnapshot(state, {
    users: welcome.online ?? [],
    count: welcome.onlineCount,
    next: welcome.onlineNext,
    at: welcome.onlineAt,
  });
  state.groups = sortedUnique(welcome.groups ?? []);
  for (const group of state.groups) {
    rememberGroup(state, group);
    ensureConversation(state, groupConversation(group));
  }
  if (welcome.history) applyHistory(state, welcome.history);
  state.welcomed = true;
}

/**
 * The online list was taken again from its first page (a `welcome`, or `online` without `after`): it replaces
 * what was shown, then the deltas that arrived while it was on its way are applied on top. A delta already
 * reflected in the snapshot changes nothing (the list is a set), so applying it again is harmless.
 * @param {ReturnType<typeof createChatState>} state
 * @param {OnlinePage} page
 */
function applyOnlineSnapshot(state, page) {
  state.online = sortedUnique(page.users ?? []);
  state.onlineNext = typeof page.next === 'string' ? page.next : null;
  state.onlineCount = typeof page.count === 'number' ? page.count : state.online.length;
  state.onlineAt = typeof page.at === 'number' ? page.at : 0;
  state.onlineSyncing = false;
  const buffered = state.onlineBuffer;
  state.onlineBuffer = [];
  for (const delta of buffered) applyPresence(state, delta, { quiet: true });
}

/**
 * `online`: a page of the online list, the answer to `listOnline`. Without `after` it is a fresh snapshot
 * (a resync); with `after` equal to the cursor this page is waiting for, it extends the list.
 * @param {ReturnType<typeof createChatState>} state
 * @param {OnlinePage} page
 */
export function applyOnline(state, page) {
  rememberNames(state, page.names);
  if (page.after === undefined) {
    applyOnlineSnapshot(state, page);
    return;
  }
  if (page.after !== state.onlineNext) return; // an answer to a page asked before the last resync
  state.online = sortedUnique([...state.online, ...(page.users ?? [])]);
  state.onlineNext = typeof page.next === 'string' ? page.next : null;
  takeCount(state, page);
  state.onlineSyncing = false;
  const buffered = state.onlineBuffer;
  state.onlineBuffer = [];
  for (const delta of buffered) applyPresence(state, delta, { quiet: true });
}

/**
 * Marks the online list as waiting for a snapshot or a page (a `listOnline` sent, or the connection lost):
 * deltas are kept until it arrives.
 * @param {ReturnType<typeof createChatState>} state
 */
export function awaitOnline(state) {
  state.onlineSyncing = true;
}

/** @param {ReturnType<typeof createChatState>} state @param {{ count?: number, at?: number }} source */
function takeCount(state, source) {
  if (typeof source.count === 'number' && (source.at ?? 0) >= state.onlineAt) {
    state.onlineCount = source.count;
    state.onlineAt = source.at ?? state.onlineAt;
  }
  // Never fewer than the people listed.
  if (state.onlineCount < state.online.length) state.onlineCount = state.online.length;
}

/**
 * `history`: a page of a conversation, oldest first. An answer to "load older" (`olderBefore` is set)
 * extends the conversation backwards; an answer for the latest page merges at the end, and when it does not
 * reach the messages already shown (more were missed while offline than one page holds) it replaces them,
 * so the list never has a silent hole in it.
 * @param {ReturnType<typeof createChatState>} state
 * @param {{ conversation: string, messages: ChatMessage[], hasMore: boolean }} history
 */
export function applyHistory(state, history) {
  const conversation = ensureConversation(state, history.conversation);
  const page = [...(history.messages ?? [])].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const m of page) if (typeof m.fromName === 'string') rememberNames(state, { [m.from]: m.fromName });
  const wasOlderPage = conversation.loadingOlder;
  conversation.loadingOlder = false;
  conversation.olderBefore = null;

  if (page.length === 0) {
    // An empty older page means there is nothing before; an empty latest page means the conversation is empty.
    if (wasOlderPage || conversation.messages.length === 0) conversation.hasMore = false;
    conversation.loaded = true;
    return;
  }

  const oldestKnown = conversation.messages[0];
  const newestKnown = conversation.messages.at(-1);
  const pageOldest = /** @type {ChatMessage} */ (page[0]);
  const leavesGap =
    !wasOlderPage && newestKnown !== undefined && history.hasMore && pageOldest.id > newestKnown.id;
  if (leavesGap) {
    conversation.messages = page;
    conversation.hasMore = true;
  } else {
    conversation.messages = mergeMessages(conversation.messages, page);
    // `hasMore` says whether there is anything older than the oldest message shown: take the server's word
    // only when this page reaches back at least as far as what is shown.
    if (oldestKnown === undefined || pageOldest.id <= oldestKnown.id)
      conversation.hasMore = Boolean(history.hasMore);
  }
  dropConfirmedPending(state, conversation);
  conversation.loaded = true;
}

/**
 * `message`: a new message in some conversation. Returns whether it was new (not already shown), so the page
 * can announce it and count it as unread.
 * @param {ReturnType<typeof createChatState>} state
 * @param {ChatMessage} message
 */
export function applyMessage(state, message) {
  const conversation = ensureConversation(state, message.conversation);
  if (typeof message.fromName === 'string') rememberNames(state, { [message.from]: message.fromName });
  const isNew = !conversation.messages.some((m) => m.id === message.id);
  conversation.messages = mergeMessages(conversation.messages, [message]);
  dropConfirmedPending(state, conversation);
  if (message.group) rememberGroup(state, message.group);
  if (isNew && message.from !== state.me && conversation.id !== state.activeId) conversation.unread += 1;
  return { isNew, conversation };
}

/**
 * Removes my pending messages that the server has now delivered (matched by `clientMessageId`).
 * @param {ReturnType<typeof createChatState>} state
 * @param {Conversation} conversation
 */
function dropConfirmedPending(state, conversation) {
  if (conversation.pending.length === 0) return;
  const delivered = new Set(
    conversation.messages
      .filter((m) => m.from === state.me && m.clientMessageId)
      .map((m) => m.clientMessageId),
  );
  conversation.pending = conversation.pending.filter((p) => !delivered.has(p.clientMessageId));
}

/**
 * `presence`: who came and who went. Applied as set operations to the loaded part of the list (a user who
 * sorts after the next page's cursor arrives with that page); the room notes each arrival and departure
 * that changes what is shown. While a snapshot is on its way the delta is kept for it (see `awaitOnline`).
 * @param {ReturnType<typeof createChatState>} state
 * @param {PresenceDelta & { online?: string[] }} delta
 * @param {{ quiet?: boolean }} [options] `quiet`: no notes (a delta applied again after a snapshot)
 */
export function applyPresence(state, delta, options = {}) {
  // Names first, so the notes below show them (a name for a user who left stays known for older messages).
  rememberNames(state, delta.names);
  if (Array.isArray(delta.online)) {
    // A whole list (an older server): take it as it is.
    applyOnlineSnapshot(state, { users: delta.online, count: delta.online.length });
    return;
  }
  if (state.onlineSyncing) {
    state.onlineBuffer = [...state.onlineBuffer, delta];
    // The notes are made now; the list changes once the snapshot is there.
    if (!options.quiet) notePresence(state, delta, () => true);
    return;
  }
  const inRange = (/** @type {string} */ user) => state.onlineNext === null || user <= state.onlineNext;
  const online = new Set(state.online);
  const joined = (delta.joined ?? []).filter((u) => typeof u === 'string');
  const left = (delta.left ?? []).filter((u) => typeof u === 'string');
  const changed = new Set();
  for (const user of left) {
    if (online.delete(user)) changed.add(user);
  }
  for (const user of joined) {
    if (inRange(user) && !online.has(user)) {
      online.add(user);
      changed.add(user);
    }
  }
  if (changed.size > 0) state.online = sortedUnique([...online]);
  takeCount(state, delta);
  if (!options.quiet) notePresence(state, delta, (user) => changed.has(user) || !inRange(user));
}

/**
 * Notes in the room who joined and who left (never myself), for the users `shows` accepts.
 * @param {ReturnType<typeof createChatState>} state
 * @param {PresenceDelta} delta
 * @param {(user: string) => boolean} shows
 */
function notePresence(state, delta, shows) {
  const at = new Date(typeof delta.at === 'number' ? delta.at : Date.now()).toISOString();
  for (const [kind, users] of /** @type {const} */ ([
    ['joined', delta.joined ?? []],
    ['left', delta.left ?? []],
  ])) {
    for (const user of users) {
      if (user !== state.me && shows(user)) applySystem(state, { kind, user, at });
    }
  }
}

/**
 * Adds display names (by user id) to what the page knows; anything that is not a string pair is ignored.
 * @param {ReturnType<typeof createChatState>} state
 * @param {unknown} names
 */
export function rememberNames(state, names) {
  if (typeof names !== 'object' || names === null) return;
  /** @type {Record<string, string>} */
  const added = {};
  for (const [id, name] of Object.entries(names)) {
    if (typeof name === 'string' && name !== '' && state.names[id] !== name) added[id] = name;
  }
  if (Object.keys(added).length > 0) state.names = { ...state.names, ...added };
}

/**
 * The name to show for a user id: its display name, followed by the start of the id when another known user
 * has the same display name (two people called Ann stay apart); the id itself without sign-in.
 * @param {ReturnType<typeof createChatState>} state
 * @param {string} id
 */
export function displayName(state, id) {
  const name = state.names[id];
  if (name === undefined) return id;
  const shared = Object.entries(state.names).some(([other, n]) => other !== id && n === name);
  return shared ? `${name} (${id.slice(0, 6)})` : name;
}

/**
 * `system`: someone joined or left the chat or a group. Joins and leaves of the chat are noted in the room,
 * those of a group in the group; my own group joins and leaves also change my membership.
 * @param {ReturnType<typeof createChatState>} state
 * @param {{ kind: string, user: string, name?: string, group?: string, at?: string }} event
 */
export function applySystem(state, event) {
  if (typeof event.name === 'string') rememberNames(state, { [event.user]: event.name });
  const at = event.at ?? new Date().toISOString();
  const inGroup = (event.kind === 'groupJoined' || event.kind === 'groupLeft') && event.group;
  if (inGroup) {
    const group = /** @type {string} */ (event.group);
    rememberGroup(state, group);
    if (event.user === state.me) {
      state.groups =
        event.kind === 'groupJoined'
          ? sortedUnique([...state.groups, group])
          : state.groups.filter((g) => g !== group);
    }
  }
  const conversation = ensureConversation(
    state,
    inGroup ? groupConversation(/** @type {string} */ (event.group)) : ROOM,
  );
  const key = `${event.kind}:${event.user}:${at}`;
  if (conversation.notes.some((n) => n.key === key)) return;
  conversation.notes = [
    ...conversation.notes,
    { key, kind: event.kind, user: event.user, group: event.group, at },
  ].slice(-MAX_NOTES_PER_CONVERSATION);
}

/**
 * `error`: shown in the conversation that issued the failing command (or page-wide when none did). A refused
 * `sendMessage` names its `clientMessageId` and goes to the outbox instead (../outbox.js), which shows it on
 * the message.
 * @param {ReturnType<typeof createChatState>} state
 * @param {{ code?: string, message?: string, command?: string }} error
 */
export function applyError(state, error) {
  const text = error.message || error.code || 'Something went wrong.';
  const where = error.command ? state.lastCommandConversation[error.command] : undefined;
  const conversation = where ? state.conversations[where] : undefined;
  if (!conversation) {
    state.globalError = text;
    return;
  }
  conversation.error = text;
  if (error.command === 'loadHistory') conversation.loadingOlder = false;
}

/**
 * Records that a command was issued from a conversation (see `applyError`).
 * @param {ReturnType<typeof createChatState>} state
 * @param {string} command
 * @param {string} conversationId
 */
export function noteCommand(state, command, conversationId) {
  state.lastCommandConversation[command] = conversationId;
}

/**
 * A change of one of my messages in the outbox (../outbox.js): shown as pending while `sending` or `failed`,
 * replaced by the stored message once `sent`, gone when `discarded`.
 * @param {ReturnType<typeof createChatState>} state
 * @param {{ clientMessageId: string, conversation: string, payload: Record<string, unknown>, status: string,
 *   error: string | null, attempts: number, message: ChatMessage | null }} entry
 */
export function applyOutboxChange(state, entry) {
  const conversation = ensureConversation(state, entry.conversation);
  const others = conversation.pending.filter((p) => p.clientMessageId !== entry.clientMessageId);
  if (entry.status === 'sent' || entry.status === 'discarded') {
    conversation.pending = others;
    if (entry.status === 'sent' && entry.message) applyMessage(state, entry.message);
    return;
  }
  /** @type {PendingMessage} */
  const shown = {
    clientMessageId: entry.clientMessageId,
    text: String(entry.payload.text ?? ''),
    status: entry.status === 'failed' ? 'failed' : 'sending',
    ...(entry.error ? { error: entry.error } : {}),
    attempts: entry.attempts,
  };
  const at = conversation.pending.findIndex((p) => p.clientMessageId === entry.clientMessageId);
  conversation.pending =
    at === -1 ? [...conversation.pending, shown] : conversation.pending.map((p, i) => (i === at ? shown : p));
}

/**
 * Makes a conversation the open one and clears its unread mark.
 * @param {ReturnType<typeof createChatState>} state
 * @param {string} id
 */
export function openConversation(state, id) {
  const conversation = ensureConversation(state, id);
  state.activeId = id;
  conversation.unread = 0;
  return conversation;
}

/**
 * The conversations to list, room first, then groups (mine and those I have messages from), then private
 * conversations, each group sorted by name.
 * @param {ReturnType<typeof createChatState>} state
 */
export function conversationList(state) {
  const groups = [];
  const direct = [];
  for (const conversation of Object.values(state.conversations)) {
    const parsed = parseConversation(conversation.id);
    if (parsed?.kind === 'group')
      groups.push({ conversation, name: parsed.group, member: state.groups.includes(parsed.group) });
    if (parsed?.kind === 'dm') {
      const other = parsed.users[0] === state.me ? parsed.users[1] : parsed.users[0];
      direct.push({ conversation, name: other, online: state.online.includes(other) });
    }
  }
  const byName = (/** @type {{ name: string }} */ a, /** @type {{ name: string }} */ b) =>
    a.name.localeCompare(b.name);
  return { groups: groups.sort(byName), direct: direct.sort(byName) };
}

/**
 * My messages in a list of stored ones that carry a `clientMessageId`: each acknowledges that send.
 * @param {ReturnType<typeof createChatState>} state
 * @param {ChatMessage[]} messages
 */
export function myAcknowledged(state, messages) {
  return messages.filter((m) => m.from === state.me && typeof m.clientMessageId === 'string');
}
