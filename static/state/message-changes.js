/**
 * My conversations, the people found, and edited or deleted messages, on the page (docs/architecture.md,
 * "My conversations", "Edit and delete"). Edit and delete records are kept per target and author (the same
 * fold as src/lib/history/fold.ts): a message shows its latest text with `editedAt`, or `deleted`, whether the
 * record came before it (live, or on a newer history page) or after it.
 */
import { ensureConversation, rememberGroup } from './chat-state.js';
import { rememberName } from './display-names.js';

/**
 * @typedef {import('./chat-state.js').ChatState} ChatState
 * @typedef {import('./chat-state.js').ChatMessage} ChatMessage
 * @typedef {{ conversation: string, kind: string, with?: string, withName?: string, group?: string }} ListEntry
 */

/** @param {string} target @param {string} from */
const keyOf = (target, from) => `${target}\u0000${from}`;

/**
 * Takes in an edit or delete record: kept for messages still to come, applied at once to its message if shown.
 * @param {ChatState} state
 * @param {ChatMessage} record
 */
export function applyRecord(state, record) {
  if (!record.target) return;
  // A moderator's removal (written only by the server's moderator path) counts whoever wrote it.
  const key = record.kind === 'remove' ? record.target : keyOf(record.target, record.from);
  const known = state.changes.get(key);
  if (record.kind === 'delete') state.changes.set(key, { ...known, deleted: true });
  else if (record.kind === 'remove') state.changes.set(key, { deleted: true, removed: true });
  else if (record.kind === 'edit' && (!known?.edit || known.edit.id < record.id))
    state.changes.set(key, { ...known, edit: record });
  const conversation = state.conversations.get(record.conversation);
  if (!conversation) return;
  const at = conversation.messages.findIndex((m) => m.id === record.target);
  if (at !== -1) {
    conversation.messages = conversation.messages.map((m, i) => (i === at ? foldMessage(state, m) : m));
  }
}

/**
 * A message as the page shows it, after the records seen so far (a record by anyone but its author counts not).
 * @param {ChatState} state
 * @param {ChatMessage} message
 * @returns {ChatMessage}
 */
export function foldMessage(state, message) {
  if (state.changes.get(message.id)?.removed) return { ...message, text: '', deleted: true, removed: true };
  const change = state.changes.get(keyOf(message.id, message.from));
  if (!change) return message;
  if (change.deleted) return { ...message, text: '', deleted: true };
  return change.edit ? { ...message, text: change.edit.text, editedAt: change.edit.sentAt } : message;
}

/**
 * The messages of a page or a live batch, folded, with its records taken in (and left out).
 * @param {ChatState} state
 * @param {ChatMessage[]} lines
 */
export function foldLines(state, lines) {
  for (const line of lines) if (line.kind) applyRecord(state, line);
  return lines.filter((line) => !line.kind).map((m) => foldMessage(state, m));
}

/**
 * `conversations` (and the `welcome`'s list): my private conversations and groups as the server keeps them;
 * each gets its place in the sidebar. An older list than one already applied changes nothing.
 * @param {ChatState} state
 * @param {{ version?: number, entries?: ListEntry[] } | undefined} list
 */
export function applyConversationList(state, list) {
  if (!list || typeof list.version !== 'number' || list.version < state.listVersion) return;
  state.listVersion = list.version;
  for (const entry of list.entries ?? []) {
    if (entry.kind === 'dm' && entry.with) rememberName(state, entry.with, entry.withName);
    if (entry.kind === 'group' && entry.group) rememberGroup(state, entry.group);
    if (entry.kind === 'dm' || entry.kind === 'group') ensureConversation(state, entry.conversation);
  }
}
