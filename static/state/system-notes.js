/**
 * Joins and leaves of groups, noted in the group (and for me a change of my groups). Each conversation keeps
 * the latest few notes. Joins and leaves of the chat are not noted: the online list shows who is here.
 */

import { groupConversation } from '../conversation.js';
import { ensureConversation, rememberGroup, sortedUnique, stopJoining } from './chat-state.js';
import { rememberName } from './display-names.js';

/** @typedef {import('./chat-state.js').ChatState} ChatState */

/** How many `system` notes (joined, left, …) each conversation keeps; older ones are dropped. */
export const MAX_NOTES_PER_CONVERSATION = 50;

/**
 * `system`: someone joined or left a group, or was added to or removed from it: noted in the group; my own
 * joins and leaves also change my membership. Anything else (no group) is not noted.
 * @param {ChatState} state
 * @param {{ kind: string, user: string, name?: string, group?: string, at?: string }} event
 */
export function applySystem(state, event) {
  rememberName(state, event.user, event.name);
  const joins = event.kind === 'groupJoined' || event.kind === 'memberAdded';
  if (!(joins || event.kind === 'groupLeft' || event.kind === 'memberRemoved') || !event.group) return;
  const at = event.at ?? new Date().toISOString();
  const group = event.group;
  const conversation = ensureConversation(state, groupConversation(group));
  rememberGroup(state, group);
  if (event.user === state.me) {
    stopJoining(state, group);
    state.groups = joins ? sortedUnique([...state.groups, group]) : state.groups.filter((g) => g !== group);
    if (joins) conversation.closed = false;
    else if (state.groupRecords.get(group)?.kind === 'private') closePrivateGroup(conversation);
  }
  const key = `${event.kind}:${event.user}:${at}`;
  if (conversation.notes.some((n) => n.key === key)) return;
  conversation.notes = [
    ...conversation.notes,
    { key, kind: event.kind, user: event.user, group: event.group, at },
  ].slice(-MAX_NOTES_PER_CONVERSATION);
}

/**
 * I left or was removed from a private group: the server no longer lets me read it, so its messages leave the
 * page at once (a reload would not show them either), and nothing offers to join it again: only its owners
 * can add me. Its notes stay, so the person sees what happened.
 * @param {import('./chat-state.js').Conversation} conversation
 */
function closePrivateGroup(conversation) {
  conversation.closed = true;
  conversation.messages = [];
  conversation.hasMore = false;
  conversation.loaded = false;
  conversation.loadingOlder = false;
  conversation.olderBefore = null;
  conversation.unread = 0;
  conversation.mentions = 0;
}
