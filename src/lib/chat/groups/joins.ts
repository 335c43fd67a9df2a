/**
 * A user's own join and leave of a group (`joinGroup`, `leaveGroup`): the membership blob, the user in the
 * realtime group, their list and the note to the group (docs/architecture.md, "Presence and group
 * memberships"). Adding and removing others is the owners' (groups.ts).
 */
import type { GroupRecordStore, ListUpdates } from '../../conversations/index.js';
import { type ChatErrorPayload, chatError, storing } from '../errors.js';
import type { Fanout } from '../fanout.js';
import { type ModerationDependencies, sanctionOf } from '../moderation/handlers.js';
import { type Caller, nameOf } from '../people/caller.js';
import type { ChatEvent } from '../wire/protocol.js';
import type { GroupHandlers } from './groups.js';
import type { MembershipStore } from './memberships.js';
import { recordToName } from './refusals.js';

export interface JoinDependencies {
  readonly members: Pick<MembershipStore, 'isMember' | 'add' | 'remove'>;
  readonly fanout: Pick<Fanout, 'addUserToGroup' | 'removeUserFromGroup' | 'toGroup' | 'toUser'>;
  readonly records: Pick<GroupRecordStore, 'read'>;
  readonly groups: Pick<GroupHandlers, 'joinRefusal' | 'leaving'>;
  readonly lists: Pick<ListUpdates, 'holding' | 'leaveGroup'>;
  readonly moderation?: Pick<ModerationDependencies, 'enabled' | 'store'> | undefined;
  readonly at: () => string;
}

/** `joinGroup`: an error event for the joiner when refused, else `undefined` (the note tells everyone). */
export async function joinGroup(
  deps: JoinDependencies,
  caller: Caller,
  group: string,
): Promise<ChatEvent | undefined> {
  const { members, fanout, groups, lists, at } = deps;
  const sanctioned = await channelCreationRefusal(deps, caller, group);
  if (sanctioned !== undefined) return { event: 'error', payload: sanctioned };
  const refused = await groups.joinRefusal(caller.user, group);
  if (refused !== undefined) return { event: 'error', payload: refused };
  // The list is written first (a full one refuses the join) but sent only once the membership is in effect,
  // as an owner's add sends it (groups.ts): a page takes a group new to its list as joined.
  const { updates, send } = lists.holding();
  const listed = await storing(() => updates.joinGroup(caller.user, group, at()));
  if (listed !== undefined) return { event: 'error', payload: chatError(listed, 'joinGroup') };
  await members.add(caller.user, group);
  await fanout.addUserToGroup(group, caller.user);
  await send();
  // Sent after the join, so the joiner's own connections (now members) hear it too.
  await fanout.toGroup(group, {
    event: 'system',
    payload: { kind: 'groupJoined', user: caller.user, ...nameOf(caller), group, at: at() },
  });
  return undefined;
}

/** `leaveGroup`: an error event for the leaver when refused, else `undefined` (the note tells everyone). */
export async function leaveGroup(
  deps: JoinDependencies,
  caller: Caller,
  group: string,
): Promise<ChatEvent | undefined> {
  const { members, fanout, groups, lists, at } = deps;
  const { refusal, record: changed } = await groups.leaving(caller.user, group);
  if (refusal !== undefined) return { event: 'error', payload: refusal };
  if (!(await members.isMember(caller.user, group))) {
    const record = await recordToName(deps.records, group);
    const message = `You are not in "${record?.title ?? group}", so there is nothing to leave`;
    return { event: 'error', payload: { ...chatError('not-a-member', 'leaveGroup'), message } };
  }
  await members.remove(caller.user, group);
  await fanout.removeUserFromGroup(group, caller.user);
  await storing(() => lists.leaveGroup(caller.user, group));
  // Sent after the leave, to the group and to the leaver's own connections: once a connection has the note,
  // nothing more of the group reaches it.
  const note: ChatEvent = {
    event: 'system',
    payload: { kind: 'groupLeft', user: caller.user, ...nameOf(caller), group, at: at() },
  };
  await Promise.all([fanout.toGroup(group, note), fanout.toUser(caller.user, note)]);
  // A private group's members see its record change, as for a removal: who is left, and who owns it.
  if (changed !== undefined) await fanout.toGroup(group, { event: 'group', payload: changed });
  return undefined;
}

/**
 * A muted or banned user may join what exists, but not create a channel by joining a name that has none (its
 * name would be listed to everyone): the refusal then, `undefined` otherwise. Reads the group's record only
 * for a sanctioned user.
 */
async function channelCreationRefusal(
  { moderation, records }: JoinDependencies,
  caller: Caller,
  group: string,
): Promise<ChatErrorPayload | undefined> {
  if (!moderation?.enabled) return undefined;
  const why = `"${group}" has no group or channel yet, and joining it would create a channel`;
  const sanctioned = await sanctionOf(moderation.store, caller, 'joinGroup', why);
  if (sanctioned === undefined || (await records.read(group)) !== undefined) return undefined;
  return sanctioned;
}
