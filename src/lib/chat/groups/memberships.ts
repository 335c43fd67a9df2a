/**
 * Which groups each user has joined: one empty blob per membership, `_members/<user>/<group>`, the source of
 * truth that every entry re-applies to the service (docs/architecture.md, "Presence and group memberships").
 * A membership someone else wrote (an owner added the user) names them in its metadata, `addedby`, so the
 * groups a user chose and those others put them in count against separate limits ({@link MembershipStore.origins};
 * docs/architecture.md, "Private groups and channels").
 * The same folder holds the user's list and read positions under names no membership can have (`$list`,
 * `$reads`: user-folder.ts), so one listing of it serves a join ({@link MembershipStore.folderOf}).
 * Names are blob-name segments (docs/architecture.md, "History in Blob Storage"); memberships written before a
 * trailing dot was escaped are still found, and moved to their escaped name when changed.
 */
import { type ContainerClient, RestError } from '@azure/storage-blob';
import { blobNameSegment } from '../../blob-names.js';
import { parseConversation } from '../../conversation.js';
import {
  LIST_BLOB,
  type ListedBlob,
  MEMBERS_PREFIX,
  READS_BLOB,
  type UserFolder,
  userFolderPrefix,
} from '../../user-folder.js';
import { type ChatErrorPayload, chatError } from '../errors.js';
import type { Fanout } from '../fanout.js';
import { notAMember, type RecordsToName } from './refusals.js';

export { MEMBERS_PREFIX };

/** The metadata key of a membership blob that names who added the user (percent-encoded). */
const ADDED_BY = 'addedby';

/** A user's groups, each with who added them to it (`undefined`: they created or joined it themselves). */
export type MembershipOrigins = ReadonlyMap<string, string | undefined>;

/** The blob name of one membership. */
export function membershipBlobName(user: string, group: string): string {
  return `${MEMBERS_PREFIX}${blobNameSegment(user)}/${blobNameSegment(group)}`;
}

/** The name the same membership had before trailing dots were escaped, when it differs. */
function legacyMembershipBlobName(user: string, group: string): string | undefined {
  // `.` and `..` were never valid names, and unescaped they would resolve as a relative path.
  if ([user, group].some((name) => name === '.' || name === '..')) return undefined;
  const legacy = `${MEMBERS_PREFIX}${encodeURIComponent(user)}/${encodeURIComponent(group)}`;
  return legacy === membershipBlobName(user, group) ? undefined : legacy;
}

export class MembershipStore {
  readonly #container: ContainerClient;

  constructor(container: ContainerClient) {
    this.#container = container;
  }

  /** The groups `user` belongs to, sorted. */
  async groupsOf(user: string): Promise<string[]> {
    return (await this.folderOf(user)).groups;
  }

  /**
   * One listing of the user's folder: their groups, sorted, and their list and read positions if stored,
   * with their ETags. (A user whose memberships predate the escaping of a trailing dot has that old folder
   * listed too; it holds memberships only.)
   */
  async folderOf(user: string): Promise<UserFolder> {
    const { groups, list, reads } = await this.#list(user, false);
    return {
      groups: [...groups.keys()].sort(),
      ...(list !== undefined ? { list } : {}),
      ...(reads !== undefined ? { reads } : {}),
    };
  }

  /**
   * The groups `user` belongs to, each with who added them (`undefined` for one they created or joined, and
   * for a membership written before adders were recorded): one listing of their folder, with metadata.
   */
  async origins(user: string): Promise<MembershipOrigins> {
    return (await this.#list(user, true)).groups;
  }

  async #list(user: string, withAdders: boolean) {
    const folder = userFolderPrefix(user);
    const prefixes = new Set([folder]);
    if (user !== '.' && user !== '..') prefixes.add(`${MEMBERS_PREFIX}${encodeURIComponent(user)}/`);
    const groups = new Map<string, string | undefined>();
    let list: ListedBlob | undefined;
    let reads: ListedBlob | undefined;
    for (const prefix of prefixes) {
      for await (const blob of this.#container.listBlobsFlat({ prefix, includeMetadata: withAdders })) {
        const name = blob.name.slice(prefix.length);
        // A group's segment is percent-encoded: `$` starts only the user's own blobs.
        if (name.startsWith('$')) {
          if (prefix !== folder) continue;
          const etag = blob.properties.etag ?? '';
          if (name === LIST_BLOB) list = { etag };
          else if (name === READS_BLOB) reads = { etag };
          continue;
        }
        const group = decodeURIComponent(name);
        // The folder comes first: a membership there stands for its old name's.
        if (!groups.has(group)) groups.set(group, adderOf(blob.metadata?.[ADDED_BY]));
      }
    }
    return { groups, list, reads };
  }

  async isMember(user: string, group: string): Promise<boolean> {
    if (await this.#blob(membershipBlobName(user, group)).exists()) return true;
    const legacy = legacyMembershipBlobName(user, group);
    return legacy !== undefined && (await this.#blob(legacy).exists());
  }

  /**
   * Writes the membership, naming `addedBy` when that is someone else. A membership that exists already is kept
   * as it is (`If-None-Match: *`): it keeps the origin it was first written with, whoever writes it again.
   */
  async add(user: string, group: string, addedBy?: string): Promise<void> {
    const by: Record<string, string> =
      addedBy !== undefined && addedBy !== user ? { [ADDED_BY]: encodeURIComponent(addedBy) } : {};
    try {
      await this.#blob(membershipBlobName(user, group)).upload('', 0, {
        metadata: by,
        conditions: { ifNoneMatch: '*' },
      });
    } catch (error) {
      if (!(error instanceof RestError && (error.statusCode === 409 || error.statusCode === 412)))
        throw error;
    }
    const legacy = legacyMembershipBlobName(user, group);
    if (legacy !== undefined) await this.#blob(legacy).deleteIfExists();
  }

  async remove(user: string, group: string): Promise<void> {
    await this.#blob(membershipBlobName(user, group)).deleteIfExists();
    const legacy = legacyMembershipBlobName(user, group);
    if (legacy !== undefined) await this.#blob(legacy).deleteIfExists();
  }

  #blob(name: string) {
    return this.#container.getBlockBlobClient(name);
  }
}

/** The adder a membership's metadata names; `undefined` when none (or one this app did not write). */
function adderOf(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

/**
 * Why `user` may not read (or change a message of) the conversation `id`, or `undefined` when they may: a group
 * needs membership, a private conversation must be theirs, the room is everyone's. A group's refusal names it
 * by its title when `records` are given (refusals.ts: one record read, only when refusing).
 */
export async function readRefusal(
  members: Pick<MembershipStore, 'isMember'>,
  user: string,
  command: string,
  id: string,
  records?: RecordsToName,
): Promise<ChatErrorPayload | undefined> {
  const conversation = parseConversation(id);
  if (conversation === undefined) return chatError('invalid-conversation', command);
  if (conversation.kind === 'group' && !(await members.isMember(user, conversation.group))) {
    return notAMember(records, command, conversation.group);
  }
  if (conversation.kind === 'dm' && !conversation.users.includes(user)) {
    return chatError('forbidden-conversation', command);
  }
  return undefined;
}

/**
 * Puts `user` in the realtime group of each group they belong to, as their memberships say once it is done
 * (docs/architecture.md, "Private groups and channels"), and returns those groups. A removal that runs
 * meanwhile deletes the membership and then takes the user out of the realtime group; the memberships are
 * listed once more after the adds, and any group that is gone from them is taken out again. Either the
 * listing sees the removal, or the removal's own "remove user from group" comes after the add: the user is
 * never left in a group they were removed from. A group added meanwhile is applied too. A user listed with
 * no group was added to none, so there is nothing to take back and no second listing: a group added
 * meanwhile was put in the service by its adder, after the membership was written, and reaches the
 * connection by its own note. `listed`: the groups a listing just found (a join's
 * {@link MembershipStore.folderOf}), which then stands for the first listing.
 */
export async function applyMemberships(
  members: Pick<MembershipStore, 'groupsOf'>,
  fanout: Pick<Fanout, 'addUserToGroup' | 'removeUserFromGroup'>,
  user: string,
  listed?: readonly string[],
): Promise<string[]> {
  const first = listed !== undefined ? [...listed] : await members.groupsOf(user);
  if (first.length === 0) return first;
  await Promise.all(first.map((group) => fanout.addUserToGroup(group, user)));
  const now = await members.groupsOf(user);
  const kept = new Set(now);
  const before = new Set(first);
  await Promise.all([
    ...first.filter((g) => !kept.has(g)).map((group) => fanout.removeUserFromGroup(group, user)),
    ...now.filter((g) => !before.has(g)).map((group) => fanout.addUserToGroup(group, user)),
  ]);
  return now;
}
