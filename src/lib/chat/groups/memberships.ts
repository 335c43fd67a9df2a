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
import type { EntryGroups } from '../fanout.js';
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
 * The realtime group whose membership marks a user whose groups are all in a service that keeps memberships
 * for later connections (SignalR): no message is ever sent to it, and `:` is in no chat group's name. It is
 * added before the groups and taken out again if they could not all be added, so a service that restarted
 * since (and forgot everything) has no mark either.
 */
export const APPLIED_MARK_GROUP = 'chat:memberships-applied';

/**
 * How long the mark lasts (its `ttl`, in seconds): past it, the user's next entry applies their groups again,
 * which also repairs a membership whose "add user to group" failed elsewhere.
 */
export const DEFAULT_MEMBERSHIP_RECHECK_SECONDS = 600;

/**
 * Puts a connection that enters in the realtime groups of its user's memberships (docs/architecture.md,
 * "Presence and group memberships") and returns them, as listed once more after the entry's calls. `listed`: the
 * groups the listing of the user's folder found. Nothing the entry does grows with the groups but a re-application:
 *
 * - Where the service keeps a user's memberships for the user's later connections (`user`: SignalR), one call
 *   checks the mark ({@link APPLIED_MARK_GROUP}). Only when it is missing (the service restarted, the mark expired,
 *   or an add failed) are the mark and then every group added: at most once per user per
 *   {@link DEFAULT_MEMBERSHIP_RECHECK_SECONDS} while the service keeps them.
 * - Where it does not (`connection`: Web PubSub), the connection is put in every group with one call.
 *
 * Then the memberships are listed once more, and a group that is gone from them is taken out again: a removal
 * that ran meanwhile deleted the membership and then took the user out of the realtime group, and either that
 * listing sees the deletion or the removal's own "remove" came after this entry's add. A group added meanwhile
 * is applied too, and the welcome shows the groups of that listing. A user listed with no group is added to
 * none and listed once. A failed call (logged by `groups`) does not fail the entry: the mark is taken out again,
 * so the next entry applies the groups again.
 */
export async function enterGroups(
  members: Pick<MembershipStore, 'groupsOf'>,
  groups: EntryGroups | undefined,
  user: string,
  listed: readonly string[],
  options: { recheckSeconds?: number } = {},
): Promise<string[]> {
  const first = [...listed];
  if (first.length === 0 || groups === undefined) return first;
  let complete = true;
  const quietly = (call: Promise<void>) =>
    call.catch(() => {
      complete = false;
    });
  if (groups.kind === 'connection') {
    await quietly(groups.add(first));
    return correct(
      members,
      user,
      first,
      (gone) => quietly(groups.remove(gone)),
      (added) => quietly(groups.add(added)),
    );
  }
  const each = (call: (group: string) => Promise<void>) => async (some: readonly string[]) => {
    await Promise.all(some.map((group) => quietly(call(group))));
  };
  const takeMarkBack = () => groups.remove(APPLIED_MARK_GROUP).catch(() => undefined);
  const applied = await groups.has(APPLIED_MARK_GROUP).catch(() => false);
  let now: string[];
  try {
    if (!applied) {
      await quietly(
        groups.add(APPLIED_MARK_GROUP, {
          ttlSeconds: options.recheckSeconds ?? DEFAULT_MEMBERSHIP_RECHECK_SECONDS,
        }),
      );
      await each((group) => groups.add(group))(first);
    }
    now = await correct(
      members,
      user,
      first,
      each(groups.remove),
      each((group) => groups.add(group)),
    );
  } catch (error) {
    // The memberships could not be listed again: without the mark, a retry of the entry applies them again.
    await takeMarkBack();
    throw error;
  }
  if (!complete) await takeMarkBack();
  return now;
}

/**
 * Lists the memberships again after `first` was added, takes out what is gone from them and adds what is new;
 * returns the new listing.
 */
async function correct(
  members: Pick<MembershipStore, 'groupsOf'>,
  user: string,
  first: readonly string[],
  remove: (groups: readonly string[]) => Promise<void>,
  add: (groups: readonly string[]) => Promise<void>,
): Promise<string[]> {
  const now = await members.groupsOf(user);
  const kept = new Set(now);
  const before = new Set(first);
  const removed = first.filter((g) => !kept.has(g));
  const added = now.filter((g) => !before.has(g));
  await Promise.all([
    removed.length > 0 ? remove(removed) : undefined,
    added.length > 0 ? add(added) : undefined,
  ]);
  return now;
}
