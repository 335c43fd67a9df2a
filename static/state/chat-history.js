/**
 * Messages: history pages and live messages merged into their conversation, and my own messages while the
 * outbox (outbox.js) still sends them. Messages of a conversation are kept sorted by their server id (a ULID: it
 * sorts by time) and merged by id, so history that arrives twice (after a reconnect, or a "load older"
 * overlapping a live message) is shown once.
 */
import { ensureConversation, isSeen, rememberGroup } from './chat-state.js';
import { rememberName } from './display-names.js';
import { applyRecord, foldLines, foldMessage } from './message-changes.js';

/**
 * @typedef {import('./chat-state.js').ChatState} ChatState
 * @typedef {import('./chat-state.js').ChatMessage} ChatMessage
 * @typedef {import('./chat-state.js').Conversation} Conversation
 * @typedef {import('./chat-state.js').PendingMessage} PendingMessage
 */

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

/**
 * `history`: a page of a conversation, oldest first. An answer to "load older" (`olderBefore` is set)
 * extends the conversation backwards; an answer for the latest page merges at the end, and when it does not
 * reach the messages already shown (more were missed while offline than one page holds) it replaces them,
 * so the list never has a silent hole in it.
 * @param {ChatState} state
 * @param {{ conversation: string, messages: ChatMessage[], hasMore: boolean }} history
 */
export function applyHistory(state, history) {
  const conversation = ensureConversation(state, history.conversation);
  const lines = history.messages ?? [];
  const page = foldLines(state, lines).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const m of page) rememberName(state, m.from, m.fromName);
  const wasOlderPage = conversation.loadingOlder;
  conversation.loadingOlder = false;
  conversation.olderBefore = null;

  if (page.length === 0) {
    // An empty older page means there is nothing before; an empty latest page means the conversation is empty.
    // (A page of edit and delete records alone holds no message, but older ones may exist.)
    if (wasOlderPage || conversation.messages.length === 0)
      conversation.hasMore = lines.length > 0 && Boolean(history.hasMore);
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
 * @param {ChatState} state
 * @param {ChatMessage} message
 */
export function applyMessage(state, message) {
  const conversation = ensureConversation(state, message.conversation);
  rememberName(state, message.from, message.fromName);
  if (message.kind) {
    applyRecord(state, message);
    return { isNew: false, conversation };
  }
  const isNew = !conversation.messages.some((m) => m.id === message.id);
  // Folded as a page is: a copy delivered again keeps the edits and reactions already applied to it.
  conversation.messages = mergeMessages(conversation.messages, [foldMessage(state, message)]);
  dropConfirmedPending(state, conversation);
  if (message.group) rememberGroup(state, message.group);
  if (isNew && message.from !== state.me && !isSeen(state, conversation.id)) conversation.unread += 1;
  return { isNew, conversation };
}

/**
 * Removes my pending messages that the server has now delivered (matched by `clientMessageId`).
 * @param {ChatState} state
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
 * A change of one of my messages in the outbox (../outbox.js): shown as pending while `sending` or `failed`,
 * replaced by the stored message once `sent`, gone when `discarded`.
 * @param {ChatState} state
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
    ...(entry.payload.attachment ? { attachment: /** @type {any} */ (entry.payload.attachment) } : {}),
    status: entry.status === 'failed' ? 'failed' : 'sending',
    ...(entry.error ? { error: entry.error } : {}),
    attempts: entry.attempts,
  };
  const at = conversation.pending.findIndex((p) => p.clientMessageId === entry.clientMessageId);
  conversation.pending =
    at === -1 ? [...conversation.pending, shown] : conversation.pending.map((p, i) => (i === at ? shown : p));
}

/**
 * My messages in a list of stored ones that carry a `clientMessageId`: each acknowledges that send.
 * @param {ChatState} state
 * @param {ChatMessage[]} messages
 */
export function myAcknowledged(state, messages) {
  return messages.filter(
    /** @returns {m is ChatMessage & { clientMessageId: string }} */
    (m) => m.from === state.me && typeof m.clientMessageId === 'string',
  );
}
