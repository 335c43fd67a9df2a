/**
 * My conversations, the people found, and edited, deleted or reacted-to messages, on the page
 * (docs/architecture.md, "My conversations", "Edit and delete", "Reactions and replies"). Edit and delete records are kept per target and author (the same
 * fold as src/lib/history/fold.ts): a message shows its latest text with `editedAt`, or `deleted`, whether the
 * record came before it (live, or on a newer history page) or after it.
 */
import { becomeMember, endMembership, ensureConversation, rememberGroup } from './chat-state.js';
import { rememberName } from './display-names.js';
import { excerptOf, reactionsOf, takeReaction } from './reactions.js';

/**
 * @typedef {import('./chat-state.js').ChatState} ChatState
 * @typedef {import('./chat-state.js').ChatMessage} ChatMessage
 * @typedef {{ conversation: string, kind: string, with?: string, withName?: string, group?: string,
 *   title?: string, groupKind?: 'private' | 'channel' }} ListEntry
 */

/** @param {string} target @param {string} from */
const keyOf = (target, from) => `${target}\u0000${from}`;

/**
 * Keeps a record for the messages it changes (an edit or delete by target and author, a reaction by
 * target, emoji and user: reactions.js).
 * @param {ChatState} state
 * @param {ChatMessage} record
 */
function takeRecord(state, record) {
  if (!record.target) return;
  if (record.kind === 'react' || record.kind === 'unreact') {
    takeReaction(state, record);
    return;
  }
  // A moderator's removal (written only by the server's moderator path) counts whoever wrote it.
  const key = record.kind === 'remove' ? record.target : keyOf(record.target, record.from);
  const known = state.changes.get(key);
  if (record.kind === 'delete') state.changes.set(key, { ...known, deleted: true });
  else if (record.kind === 'remove') state.changes.set(key, { deleted: true, removed: true });
  else if (record.kind === 'edit' && (!known?.edit || known.edit.id < record.id))
    state.changes.set(key, { ...known, edit: record });
}

/**
 * Folds again, in one pass over a conversation's shown messages, those that `targets` name and the replies
 * that quote them (a deleted message's quote says so).
 * @param {ChatState} state
 * @param {string} conversationId
 * @param {Set<string>} targets
 */
function refold(state, conversationId, targets) {
  const conversation = state.conversations.get(conversationId);
  if (!conversation || targets.size === 0) return;
  let changed = false;
  const messages = conversation.messages.map((m) => {
    if (!targets.has(m.id) && !(m.replyTo && targets.has(m.replyTo))) return m;
    changed = true;
    return foldMessage(state, m);
  });
  if (changed) conversation.messages = messages;
}

/**
 * Takes in an edit, delete or reaction record: kept for messages still to come, applied at once to its
 * message if shown.
 * @param {ChatState} state
 * @param {ChatMessage} record
 */
export function applyRecord(state, record) {
  if (!record.target) return;
  takeRecord(state, record);
  refold(state, record.conversation, new Set([record.target]));
}

/**
 * A message as the page shows it, after the records seen so far (an edit or delete by anyone but its author
 * counts not; reactions are anyone's), with a reply's quote as its message reads now.
 * @param {ChatState} state
 * @param {ChatMessage} message
 * @returns {ChatMessage}
 */
export function foldMessage(state, message) {
  const { reactions: _, ...bare } = message;
  if (state.changes.get(message.id)?.removed) return { ...bare, text: '', deleted: true, removed: true };
  const change = state.changes.get(keyOf(message.id, message.from));
  if (change?.deleted) return { ...bare, text: '', deleted: true };
  const reactions = reactionsOf(state, message.id);
  const quote = quoteOf(state, message);
  return {
    ...bare,
    ...(change?.edit ? { text: change.edit.text, editedAt: change.edit.sentAt } : {}),
    ...(reactions.length > 0 ? { reactions } : {}),
    ...(quote ? { quote } : {}),
  };
}

/**
 * A reply's quote after the records seen of the message it quotes: emptied once it is deleted, the edited
 * text's excerpt once it is edited (as src/lib/history/fold.ts).
 * @param {ChatState} state
 * @param {ChatMessage} message
 */
function quoteOf(state, message) {
  const { quote, replyTo } = message;
  if (!quote || !replyTo) return quote;
  const change = state.changes.get(keyOf(replyTo, quote.from));
  if (change?.deleted || state.changes.get(replyTo)?.removed)
    return { ...quote, text: '', deleted: /** @type {const} */ (true) };
  return change?.edit
    ? { ...quote, text: excerptOf(change.edit.text, state.reactionLimits.excerptLength) }
    : quote;
}

/**
 * The messages of a page or a live batch, folded, with its records taken in (and left out): one pass over
 * the lines, and one over the messages already shown that they change.
 * @param {ChatState} state
 * @param {ChatMessage[]} lines
 */
export function foldLines(state, lines) {
  /** @type {Map<string, Set<string>>} */
  const targets = new Map();
  for (const line of lines) {
    if (!line.kind || !line.target) continue;
    takeRecord(state, line);
    const set = targets.get(line.conversation) ?? new Set();
    targets.set(line.conversation, set.add(line.target));
  }
  for (const [conversation, set] of targets) refold(state, conversation, set);
  return lines.filter((line) => !line.kind).map((m) => foldMessage(state, m));
}

/**
 * `conversations` (and the `welcome`'s list): my private conversations and groups as the server keeps them;
 * each gets its place in the sidebar. An older list than one already applied changes nothing.
 *
 * A group new to a live list (not in the list applied before) is one the server has just made me a member of:
 * it lists a group for me only once the membership is in effect, and the group's record and note may arrive
 * after the list (docs/architecture.md, "My conversations"), so the list makes me a member at once and the
 * group never shows as one I am not in. The welcome's list does not: its `groups` say which groups I am in
 * (a group kept in the list after a membership that failed half-way stays a group I am not in). Returns the
 * groups it made me a member of.
 * @param {ChatState} state
 * @param {{ version?: number, entries?: ListEntry[] } | undefined} list
 * @param {boolean} [live] false for the welcome's list
 * @returns {string[]}
 */
export function applyConversationList(state, list, live = true) {
  if (!list || typeof list.version !== 'number' || list.version < state.listVersion) return [];
  state.listVersion = list.version;
  /** @type {Set<string>} */
  const listed = new Set();
  const admitted = [];
  for (const entry of list.entries ?? []) {
    if (entry.kind === 'dm' && entry.with) rememberName(state, entry.with, entry.withName);
    if (entry.kind === 'dm' || entry.kind === 'group') ensureConversation(state, entry.conversation);
    if (entry.kind !== 'group' || !entry.group) continue;
    listed.add(entry.group);
    rememberGroup(state, entry.group);
    if (typeof entry.title === 'string') state.listedTitles.set(entry.group, entry.title);
    if (entry.groupKind === 'private' || entry.groupKind === 'channel')
      state.listedKinds.set(entry.group, entry.groupKind);
    // Before the first welcome there is no list to tell a new group from, nor groups to add to.
    const isNew = live && state.welcomed && !state.listedGroups.has(entry.group);
    if (isNew && !state.groups.includes(entry.group)) {
      becomeMember(state, entry.group);
      admitted.push(entry.group);
    }
  }
  // A group my list held and holds no more, and that I am not in: left or lost, maybe while this page was away.
  for (const group of state.listedGroups)
    if (!listed.has(group) && !state.groups.includes(group)) endMembership(state, group);
  state.listedGroups = listed;
  return admitted;
}
