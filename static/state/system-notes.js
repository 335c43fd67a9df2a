/**
 * Joins and leaves, of the chat (noted in the room) and of groups (noted in the group, and for me a change of
 * my groups), and the changes of a group's record (its creation, title, topic and owners, noted in the group).
 * Each conversation keeps the latest few notes.
 */

import { groupConversation, ROOM } from '../conversation.js';
import { ensureConversation, rememberGroup, sortedUnique, stopJoining } from './chat-state.js';
import { rememberName } from './display-names.js';

/** @typedef {import('./chat-state.js').ChatState} ChatState */

/** How many `system` notes (joined, left, …) each conversation keeps; older ones are dropped. */
export const MAX_NOTES_PER_CONVERSATION = 50;
/** Members a creation's note names; the others are counted ("and 3 others"). */
export const MAX_NOTED_MEMBERS = 5;

/** The notes that change no membership: `user` is who changed the group. */
const RECORD_NOTES = ['groupCreated', 'groupRenamed', 'topicSet', 'ownerAdded'];

/**
 * `system`: someone joined or left the chat or a group. Joins and leaves of the chat are noted in the room,
 * those of a group in the group; my own group joins and leaves also change my membership. A change of a
 * group's record (created, renamed, topic, new owner) is noted in the group.
 * @param {ChatState} state
 * @param {{ kind: string, user: string, name?: string, group?: string, at?: string } & Record<string, unknown>} event
 */
export function applySystem(state, event) {
  rememberName(state, event.user, event.name);
  const at = event.at ?? new Date().toISOString();
  const joins = event.kind === 'groupJoined' || event.kind === 'memberAdded';
  const moves = joins || event.kind === 'groupLeft' || event.kind === 'memberRemoved';
  const inGroup = (moves || RECORD_NOTES.includes(event.kind)) && event.group;
  const conversation = ensureConversation(
    state,
    inGroup ? groupConversation(/** @type {string} */ (event.group)) : ROOM,
  );
  if (inGroup && moves) {
    const group = /** @type {string} */ (event.group);
    rememberGroup(state, group);
    if (event.user === state.me) {
      stopJoining(state, group);
      state.groups = joins ? sortedUnique([...state.groups, group]) : state.groups.filter((g) => g !== group);
      if (joins) conversation.closed = false;
      else if (state.groupRecords.get(group)?.kind === 'private') closePrivateGroup(conversation);
    }
  }
  const key = `${event.kind}:${event.user}:${at}`;
  if (conversation.notes.some((n) => n.key === key)) return;
  conversation.notes = [
    ...conversation.notes,
    { key, kind: event.kind, user: event.user, group: event.group, at, ...details(event) },
  ].slice(-MAX_NOTES_PER_CONVERSATION);
}

/**
 * What a record's note says beyond who and when (strings only: the page shows them as text).
 * @param {Record<string, unknown>} event
 */
function details(event) {
  const text = (/** @type {unknown} */ v) => (typeof v === 'string' ? v : undefined);
  const members = Array.isArray(event.members)
    ? event.members.filter((m) => typeof m === 'string')
    : undefined;
  const found = { member: text(event.member), title: text(event.title), topic: text(event.topic), members };
  return Object.fromEntries(Object.entries(found).filter(([, v]) => v !== undefined));
}

const NOTE_TEXT = {
  joined: 'joined the chat',
  left: 'left the chat',
  groupJoined: 'joined the group',
  groupLeft: 'left the group',
  memberAdded: 'was added to the group',
  memberRemoved: 'was removed from the group',
};

/**
 * What a note says after the name of its `user`: "renamed the group to Design Crew", "made bob an owner".
 * @param {import('./chat-state.js').Note} note @param {(id: string) => string} nameOf
 */
export function noteText(note, nameOf) {
  switch (note.kind) {
    case 'groupRenamed':
      return `renamed the group to ${note.title ?? ''}`;
    case 'topicSet':
      return note.topic ? `set the topic: ${note.topic}` : 'cleared the topic';
    case 'ownerAdded':
      return `made ${nameOf(note.member ?? '')} an owner`;
    case 'groupCreated': {
      const members = note.members ?? [];
      if (members.length === 0) return 'created the group';
      const named = members.slice(0, MAX_NOTED_MEMBERS).map(nameOf).join(', ');
      const more = members.length - MAX_NOTED_MEMBERS;
      return `created the group with ${named}${more > 0 ? ` and ${more} other${more === 1 ? '' : 's'}` : ''}`;
    }
    default:
      return NOTE_TEXT[/** @type {keyof typeof NOTE_TEXT} */ (note.kind)] ?? note.kind;
  }
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
