/**
 * The rules a group's record is checked against before a change (docs/architecture.md, "Private groups and
 * channels"), each refusal a code of the catalogue naming the group by its title: who may add and remove, who
 * may leave, and that a deleted group changes no more.
 */
import { ConversationListError, type GroupRecord } from '../../conversations/index.js';
import { chatError } from '../errors.js';
import type { ChatEvent } from '../wire/protocol.js';

/** Refuses with a code of the catalogue (caught by `GroupHandlers.run`). */
export function refuse(code: ConversationListError['code'], detail?: string): never {
  throw new ConversationListError(code, detail);
}

/** A refusal as the `error` event that answers `command`. */
export function refusal(
  error: ConversationListError,
  command: string,
): Extract<ChatEvent, { event: 'error' }> {
  const payload = chatError(error.code, command);
  const until = error.until === undefined ? {} : { until: error.until };
  return { event: 'error', payload: { ...payload, message: error.message, ...until } };
}

/** The group as people see it, for a refusal's detail. */
export const named = (record: GroupRecord): string => `"${record.title}"`;

/** Refuses any change of a deleted group (`group-deleted`): its record is a tombstone. */
export function notDeleted(record: GroupRecord): void {
  if (record.deleted === true) refuse('group-deleted');
}

/** Refuses unless `by` may add members to the group of `record`: a private group they own. */
export function mayAdd(record: GroupRecord, by: string): void {
  notDeleted(record);
  if (record.kind !== 'private') refuse('not-private', named(record));
  if (!record.owners.includes(by)) refuse('not-an-owner', named(record));
}

/**
 * The record without `user`. The last owner of a group that keeps other members may not go (`last-owner`), nor
 * the last member of a private group (`last-member`), which nobody could join again: they delete it instead.
 */
export function without(record: GroupRecord, user: string): Omit<GroupRecord, 'version'> | undefined {
  if (!record.members.includes(user) && !record.owners.includes(user)) return undefined;
  const owners = record.owners.filter((o) => o !== user);
  const members = record.members.filter((m) => m !== user);
  if (owners.length === 0 && members.length > 0) {
    // The catalogue's message says what to do; the detail which group, with how many others.
    refuse(
      'last-owner',
      `${named(record)} keeps ${members.length} other member${members.length === 1 ? '' : 's'}`,
    );
  }
  if (record.kind === 'private' && members.length === 0) refuse('last-member', named(record));
  return { ...record, owners, members };
}

/** The title a member's list keeps of a group: a private group's; none for a channel (see `#retitle`). */
export function listedTitle(record: GroupRecord): string | undefined {
  return record.kind === 'private' ? record.title : undefined;
}

/** What a group from before records is: a public channel without owners. */
export function legacyChannel(group: string): GroupRecord {
  return { group, kind: 'channel', title: group, owners: [], members: [], version: 0 };
}
