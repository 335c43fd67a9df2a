/**
 * Joins and leaves of groups, and the changes of a group's record (its creation, title, topic and owners), noted
 * in the group (and for me a change of my groups). Each conversation keeps the latest few notes. Joins and
 * leaves of the chat are not noted: the online list shows who is here.
 */

import { groupConversation } from '../conversation.js';
import {
  becomeMember,
  clearGroupError,
  endMembership,
  ensureConversation,
  rememberGroup,
  stopJoining,
} from './chat-state.js';
import { rememberName } from './display-names.js';

/** @typedef {import('./chat-state.js').ChatState} ChatState */

/** How many `system` notes (joined, left, …) each conversation keeps; older ones are dropped. */
export const MAX_NOTES_PER_CONVERSATION = 50;
/** Members a creation's note names; the others are counted ("and 3 others"). */
export const MAX_NOTED_MEMBERS = 5;

/** The notes that change no membership: `user` is who changed the group. */
const RECORD_NOTES = ['groupCreated', 'groupRenamed', 'topicSet', 'ownerAdded', 'groupDeleted'];

/**
 * `system`: someone joined or left a group, or was added to or removed from it, or changed its record (created,
 * renamed, topic, new owner): noted in the group; my own joins and leaves also change my membership. Anything
 * else (no group) is not noted.
 * @param {ChatState} state
 * @param {{ kind: string, user: string, name?: string, group?: string, at?: string } & Record<string, unknown>} event
 */
export function applySystem(state, event) {
  rememberName(state, event.user, event.name);
  const joins = event.kind === 'groupJoined' || event.kind === 'memberAdded';
  const moves = joins || event.kind === 'groupLeft' || event.kind === 'memberRemoved';
  if (!(moves || RECORD_NOTES.includes(event.kind)) || !event.group) return;
  const at = event.at ?? new Date().toISOString();
  const group = event.group;
  const conversation = ensureConversation(state, groupConversation(group));
  if (moves) {
    rememberGroup(state, group);
    if (event.user === state.me) clearGroupError(state, group);
    if (event.user === state.me && joins) becomeMember(state, group);
    else if (event.user === state.me) {
      stopJoining(state, group);
      endMembership(state, group);
      state.groups = state.groups.filter((g) => g !== group);
      if (state.groupRecords.get(group)?.kind === 'private') closePrivateGroup(conversation);
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

/** What a membership note says before the word `group` or `channel`. */
const NOTE_TEXT = {
  groupJoined: 'joined the',
  groupLeft: 'left the',
  memberAdded: 'was added to the',
  memberRemoved: 'was removed from the',
};

/**
 * What a note says after the name of its `user`: "renamed the group to Design Crew", "made bob an owner";
 * `channel`: the note is of a public channel, and says so.
 * @param {import('./chat-state.js').Note} note @param {(id: string) => string} nameOf @param {boolean} [channel]
 */
export function noteText(note, nameOf, channel = false) {
  const word = channel ? 'channel' : 'group';
  switch (note.kind) {
    case 'groupRenamed':
      return `renamed the ${word} to ${note.title ?? ''}`;
    case 'topicSet':
      return note.topic ? `set the topic: ${note.topic}` : 'cleared the topic';
    case 'ownerAdded':
      return `made ${nameOf(note.member ?? '')} an owner`;
    case 'groupDeleted':
      return `deleted the ${word}`;
    case 'groupCreated': {
      const members = note.members ?? [];
      if (members.length === 0) return `created the ${word}`;
      const named = members.slice(0, MAX_NOTED_MEMBERS).map(nameOf).join(', ');
      const more = members.length - MAX_NOTED_MEMBERS;
      return `created the ${word} with ${named}${more > 0 ? ` and ${more} other${more === 1 ? '' : 's'}` : ''}`;
    }
    default: {
      const words = NOTE_TEXT[/** @type {keyof typeof NOTE_TEXT} */ (note.kind)];
      return words ? `${words} ${word}` : note.kind;
    }
  }
}

/**
 * I left, was removed from or lost by its deletion a private group: the server no longer lets me read it, so its messages leave the
 * page at once (a reload would not show them either), and nothing offers to join it again: only its owners
 * can add me. Its notes stay, so the person sees what happened.
 * @param {import('./chat-state.js').Conversation} conversation
 */
export function closePrivateGroup(conversation) {
  conversation.closed = true;
  conversation.messages = [];
  conversation.hasMore = false;
  conversation.loaded = false;
  conversation.loadingOlder = false;
  conversation.olderBefore = null;
  conversation.unread = 0;
  conversation.mentions = 0;
}
