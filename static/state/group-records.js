/**
 * Private groups' and channels' records and the channel directory, as the server sends them (`group`,
 * `channels`; docs/architecture.md, "Private groups and channels"). The server decides who may see and change
 * what; the page only shows it.
 */

import { groupConversation } from '../conversation.js';
import { becomeMember, clearGroupError, endMembership, stopJoining } from './chat-state.js';
import { closePrivateGroup } from './system-notes.js';

/** @typedef {import('./chat-state.js').ChatState} ChatState */
/**
 * @typedef {{ group: string, kind: 'private' | 'channel', title: string, topic?: string, owners: string[],
 *   members: string[], version: number, deleted?: true }} GroupRecord
 * @typedef {{ channels: { group: string, title: string, topic?: string }[], next?: string }} ChannelPage
 */

/**
 * `group`: a group's record; an older version than the one shown changes nothing. A private group's record
 * that lists me makes me a member (a group I was created into or added to). Returns whether it did. A deleted
 * group's record (its tombstone) ends my membership, here and now: its messages leave the page, and the group
 * leaves the list once it is not the open one.
 * @param {ChatState} state @param {GroupRecord} record
 */
export function applyGroupRecord(state, record) {
  if (typeof record?.group !== 'string') return false;
  const known = state.groupRecords.get(record.group);
  if (known && known.version > record.version) return false;
  if (known && known.version < record.version) clearGroupError(state, record.group);
  // A deleted group's tombstone keeps only its name: the page goes on showing the title it knew.
  const title = record.deleted === true ? (known?.title ?? state.listedTitles.get(record.group)) : undefined;
  state.groupRecords.set(record.group, title === undefined ? record : { ...record, title });
  // The group I asked to create exists, mine: the creation succeeded (a taken name brings no record of mine).
  if (state.creating?.group === record.group && record.owners.includes(state.me))
    state.creating = { ...state.creating, created: true, error: null };
  // A channel shown in the directory shows its new title and topic at once.
  if (state.channels?.channels.some((c) => c.group === record.group)) {
    state.channels = {
      ...state.channels,
      channels: state.channels.channels.map((c) =>
        c.group === record.group
          ? { group: c.group, title: record.title, ...(record.topic ? { topic: record.topic } : {}) }
          : c,
      ),
    };
  }
  if (record.deleted === true) {
    const conversation = state.conversations.get(groupConversation(record.group));
    stopJoining(state, record.group);
    endMembership(state, record.group);
    state.groups = state.groups.filter((g) => g !== record.group);
    if (conversation) closePrivateGroup(conversation);
    return false;
  }
  const joined =
    record.kind === 'private' && record.members.includes(state.me) && !state.groups.includes(record.group);
  if (joined) becomeMember(state, record.group);
  return joined;
}

/**
 * `channels`: a page of the directory; a page asked for with `after` adds to the shown list.
 * @param {ChatState} state @param {ChannelPage} page @param {boolean} more
 */
export function applyChannels(state, page, more) {
  const earlier = more && state.channels ? state.channels.channels : [];
  state.channels = { channels: [...earlier, ...(page.channels ?? [])], next: page.next };
}

/**
 * What kind of group `group` is, as far as the page knows: its record's kind, else my list's, else `channel` when
 * the channel directory lists it, else null (a group opened by its name or address, whose record has not come).
 * @param {ChatState} state @param {string} group
 * @returns {'private' | 'channel' | null}
 */
export function groupKind(state, group) {
  const kind = state.groupRecords.get(group)?.kind ?? state.listedKinds.get(group);
  if (kind) return kind;
  return state.channels?.channels.some((c) => c.group === group) ? 'channel' : null;
}

/**
 * I was removed from a group: a private group's record is no longer mine to see. A channel's is anyone's, and
 * keeps telling the page that the group is a channel (its notes and buttons say "channel").
 * @param {ChatState} state @param {string} group
 */
export function forgetGroupRecord(state, group) {
  if (state.groupRecords.get(group)?.kind === 'private') state.groupRecords.delete(group);
}

/**
 * Splits a typed list of members (commas or new lines) into user ids, without blanks or repeats.
 * @param {string} text
 */
export function typedMembers(text) {
  return [
    ...new Set(
      text
        .split(/[,\n]/)
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    ),
  ];
}
