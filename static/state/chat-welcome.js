/**
 * The `welcome` that opens every (re)connection: who I am, the first page of who is online, my groups and the
 * room's latest history.
 */

import { groupConversation } from '../conversation.js';
import { applyHistory } from './chat-history.js';
import { ensureConversation, rememberGroup, sortedUnique } from './chat-state.js';
import { rememberName, rememberNames } from './display-names.js';
import { applyConversationList } from './message-changes.js';
import { applyOnlineSnapshot } from './online-list.js';
import { applyWelcomeReads } from './read-state.js';

/**
 * @typedef {import('./chat-state.js').ChatState} ChatState
 * @typedef {import('./chat-state.js').ChatMessage} ChatMessage
 */

/**
 * `welcome`: who I am to the server, the first page of who is online, my groups and the room's latest
 * history. Sent on every (re)connection, so it merges instead of replacing (the online list starts again
 * from its first page: a resync, exact whatever was missed while offline).
 * @param {ChatState} state
 * @param {{ user?: string, name?: string, online?: string[], names?: Record<string, string>,
 *   onlineCount?: number, onlineNext?: string, onlineAt?: number, groups?: string[],
 *   conversations?: { version?: number, entries?: import('./message-changes.js').ListEntry[] },
 *   history?: { conversation: string, messages: ChatMessage[], hasMore: boolean },
 *   reads?: import('./read-state.js').ReadMark[] }} welcome
 */
export function applyWelcome(state, welcome) {
  if (typeof welcome.user === 'string') state.me = welcome.user;
  rememberNames(state, welcome.names);
  if (typeof welcome.user === 'string') rememberName(state, welcome.user, welcome.name);
  applyOnlineSnapshot(state, {
    users: welcome.online ?? [],
    count: welcome.onlineCount,
    next: welcome.onlineNext,
    at: welcome.onlineAt,
  });
  state.groups = sortedUnique(welcome.groups ?? []);
  // A join asked for before the link dropped may have been lost with it: the welcome's groups are what holds,
  // and a group not among them can be joined again.
  state.joining = [];
  for (const group of state.groups) {
    rememberGroup(state, group);
    ensureConversation(state, groupConversation(group));
  }
  // The welcome's groups are my memberships: its list adds none (a live list's new groups do, message-changes.js).
  applyConversationList(state, welcome.conversations, false);
  if (welcome.history) applyHistory(state, welcome.history);
  applyWelcomeReads(state, welcome.reads);
  state.welcomed = true;
}
