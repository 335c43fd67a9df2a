/**
 * Deleting a private group (docs/architecture.md, "Deleting a group"): an owner
 * may at any time, and the last member must instead of leaving. The record turns into a tombstone first, so
 * nobody joins, is added or changes anything from then on; the members hear it, then lose their memberships,
 * realtime group and list entries (nobody reads or writes the group any more); then its files and history are
 * deleted; last, the tombstone is emptied of all but the name. Every step can run again: a deletion that
 * stopped half-way (a storage failure) is completed by an owner sending it again. The name stays taken by the
 * tombstone, so no later group of that name can ever read what a send still in flight at the deletion may
 * have added to the old history. Costs are linear in what is deleted: per member a membership delete, a
 * service call and a list read and write; a listing and a delete per history segment and per file.
 */
import { groupConversation } from '../../conversation.js';
import type { GroupRecord, GroupRecordStore, ListUpdates } from '../../conversations/index.js';
import { mapLimited } from '../../map-limited.js';
import type { Fanout } from '../fanout.js';
import type { ChatEvent } from '../wire/protocol.js';
import { named, refuse } from './group-rules.js';
import type { MembershipStore } from './memberships.js';

/** What a deletion needs. */
export interface GroupDeletion {
  readonly records: Pick<GroupRecordStore, 'change'>;
  readonly members: Pick<MembershipStore, 'remove'>;
  readonly fanout: Pick<Fanout, 'removeUserFromGroup' | 'toGroup'>;
  readonly lists: Pick<ListUpdates, 'leaveGroup'>;
  /** Deletes a conversation's whole history (src/lib/history, `HistoryStore.deleteConversation`). */
  readonly history: { deleteConversation(conversation: string): Promise<unknown> };
  /** Deletes a conversation's files; absent with attachments off. */
  readonly attachments?: { removeConversation?(conversation: string): Promise<unknown> } | undefined;
  /** Members worked on at once. */
  readonly concurrency: number;
  /** The time now, ISO 8601. */
  readonly at: () => string;
}

/**
 * `deleteGroup` by `user`: refused unless the group is a private group (`not-deletable`) they own
 * (`not-an-owner`; once the tombstone is emptied, `group-deleted`). Answers the emptied tombstone.
 */
export async function deleteGroup(deps: GroupDeletion, user: string, group: string): Promise<ChatEvent> {
  const { records, members, fanout, lists } = deps;
  const { record } = await records.change(group, (r) => {
    if (r.kind !== 'private') refuse('not-deletable', named(r));
    if (!r.owners.includes(user)) refuse(r.deleted === true ? 'group-deleted' : 'not-an-owner', named(r));
    // Deleted already by an owner whose deletion stopped half-way: this one completes it.
    return r.deleted === true ? undefined : { ...r, deleted: true };
  });
  // While they are still in the realtime group, everyone in it hears it: the tombstone, then who deleted it.
  const at = deps.at();
  await fanout.toGroup(group, { event: 'group', payload: record });
  await fanout.toGroup(group, { event: 'system', payload: { kind: 'groupDeleted', user, group, at } });
  await mapLimited(record.members, Math.max(1, deps.concurrency), async (member) => {
    await members.remove(member, group);
    await fanout.removeUserFromGroup(group, member);
    await lists.leaveGroup(member, group);
  });
  const conversation = groupConversation(group);
  await deps.attachments?.removeConversation?.(conversation);
  await deps.history.deleteConversation(conversation);
  const { record: emptied } = await records.change(group, (r) => (isEmptied(r) ? undefined : emptiedOf(r)));
  return { event: 'group', payload: emptied };
}

/** The tombstone that keeps the name taken and nothing else of the group. */
function emptiedOf(record: GroupRecord): Omit<GroupRecord, 'version'> {
  const { group } = record;
  return { group, kind: 'private', title: group, owners: [], members: [], deleted: true };
}

function isEmptied(record: GroupRecord): boolean {
  return (
    record.deleted === true &&
    record.owners.length === 0 &&
    record.members.length === 0 &&
    record.title === record.group &&
    record.topic === undefined
  );
}
