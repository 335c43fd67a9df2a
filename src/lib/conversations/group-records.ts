/**
 * Group records: one blob per group, `_groups/<group>`, holding its kind (private group or public channel), its
 * title and topic, its owners and, for a private group, its members. Every change is a read and an
 * ETag-conditional write, retried on a conflict, so two owners changing one group at once lose neither change
 * (docs/architecture.md, "Private groups and channels"). A group without a record (created before records
 * existed) is a public channel.
 */
import { type ContainerClient, RestError } from '@azure/storage-blob';
import { blobNameSegment } from '../blob-names.js';
import { streamText } from '../stream-text.js';
import { ConversationListError } from './errors.js';

/** The blob name prefix of group records. */
export const GROUPS_PREFIX = '_groups/';

/**
 * Members of a private group, its owners included (owners are members, so this bounds them too). The limits
 * below are the defaults of app settings (src/lib/settings.ts, `CHAT_MAX_GROUP_MEMBERS` and the rest), read in
 * src/app/services.ts and handed to the group handlers as {@link GroupLimits}.
 */
export const DEFAULT_MAX_GROUP_MEMBERS = 256;
/** Owners of one group (each is a member too); making one more is refused with `too-many-owners`. */
export const DEFAULT_MAX_GROUP_OWNERS = 32;
/**
 * Groups and channels one user is in by their own doing: those they created or joined themselves and have not
 * left (checked when they create or join one; `too-many-groups`). It counts what they are in now, not what they
 * ever created: leaving one makes room again, so what bounds creating is the daily count of
 * `DEFAULT_MAX_GROUPS_CREATED_PER_DAY` (group-creations.ts). Groups others added them to count apart, against
 * {@link DEFAULT_MAX_ADDED_GROUPS_PER_USER}, so nobody can fill another user's room to create and join.
 */
export const DEFAULT_MAX_GROUPS_PER_USER = 100;
/**
 * Private groups others added one user to (by `createGroup` or `addMember`) that they are still in, apart from
 * their own; one more is refused to the adder with `too-many-added-groups`. A user is in at most this plus
 * {@link DEFAULT_MAX_GROUPS_PER_USER} groups, which bounds what each of their connects re-applies (200).
 */
export const DEFAULT_MAX_ADDED_GROUPS_PER_USER = 100;
/**
 * Groups one user may have added a given other user to (counted over the memberships the other user still has);
 * one more is refused to the adder with `too-many-adds`. One account alone can fill neither bound above, and
 * sends that user at most this many "added to a group" list updates while they stay in those groups.
 */
export const DEFAULT_MAX_GROUPS_ADDED_BY_ONE_USER = 20;
/** Writes of one record change before it is refused with `group-contended`. */
export const DEFAULT_GROUP_WRITE_ATTEMPTS = 8;
/** Longest group title, in characters (code points). */
export const DEFAULT_MAX_GROUP_TITLE_LENGTH = 64;
/** Longest channel topic, in characters (code points). */
export const DEFAULT_MAX_GROUP_TOPIC_LENGTH = 200;

/**
 * The largest value each group limit may be set to. A command is checked against these before any work (its
 * size stays bounded whatever the settings say), then against the configured limit.
 */
export const GROUP_LIMIT_CEILINGS = {
  maxMembers: 5_000,
  maxOwners: 5_000,
  maxGroupsPerUser: 1_000,
  maxAddedGroupsPerUser: 1_000,
  maxGroupsAddedByOneUser: 1_000,
  maxGroupsCreatedPerDay: 1_000,
  maxTitleLength: 256,
  maxTopicLength: 2_000,
  writeAttempts: 50,
} as const;

/** The configured limits of groups (each defaults to its `DEFAULT_…` above). */
export interface GroupLimits {
  /** See {@link DEFAULT_MAX_GROUP_MEMBERS}. */
  readonly maxMembers?: number;
  /** See {@link DEFAULT_MAX_GROUP_OWNERS}. */
  readonly maxOwners?: number;
  /** See {@link DEFAULT_MAX_GROUPS_PER_USER}. */
  readonly maxGroupsPerUser?: number;
  /** See {@link DEFAULT_MAX_ADDED_GROUPS_PER_USER}. */
  readonly maxAddedGroupsPerUser?: number;
  /** See {@link DEFAULT_MAX_GROUPS_ADDED_BY_ONE_USER}. */
  readonly maxGroupsAddedByOneUser?: number;
  /** See `DEFAULT_MAX_GROUPS_CREATED_PER_DAY` (group-creations.ts). */
  readonly maxGroupsCreatedPerDay?: number;
  /** See {@link DEFAULT_MAX_GROUP_TITLE_LENGTH}. */
  readonly maxTitleLength?: number;
  /** See {@link DEFAULT_MAX_GROUP_TOPIC_LENGTH}. */
  readonly maxTopicLength?: number;
}

export type GroupKind = 'private' | 'channel';

export interface GroupRecord {
  /** The group's name: its id in `group:<name>`, which never changes. */
  readonly group: string;
  readonly kind: GroupKind;
  /** The name shown for it; `renameGroup` changes it. */
  readonly title: string;
  /** A channel's topic line. */
  readonly topic?: string;
  readonly owners: readonly string[];
  /** A private group's members, its owners included; empty for a channel (anyone may join one). */
  readonly members: readonly string[];
  /** Incremented by every change. */
  readonly version: number;
  /**
   * The group was deleted (a private group only): its record stays as a tombstone, so nobody joins it, nobody is
   * added, and its name is never used again (docs/architecture.md, "Deleting a group").
   */
  readonly deleted?: true;
}

export interface GroupRecordOptions {
  /** See {@link DEFAULT_GROUP_WRITE_ATTEMPTS}. */
  writeAttempts?: number;
}

/** A change's outcome: the record after it, and whether anything was written. */
export interface GroupChange {
  readonly record: GroupRecord;
  readonly changed: boolean;
}

export class GroupRecordStore {
  readonly #container: ContainerClient;
  readonly #attempts: number;

  constructor(container: ContainerClient, options: GroupRecordOptions = {}) {
    this.#container = container;
    this.#attempts = options.writeAttempts ?? DEFAULT_GROUP_WRITE_ATTEMPTS;
  }

  /** The group's record; `undefined` for a group without one (a public channel from before records). */
  async read(group: string): Promise<GroupRecord | undefined> {
    return (await this.#load(group))?.record;
  }

  /** Writes the record of a new group: one conditional write; `group-exists` when it has one already. */
  async create(record: Omit<GroupRecord, 'version'>): Promise<GroupRecord> {
    const created: GroupRecord = { ...record, version: 1 };
    try {
      await this.#write(record.group, created, { ifNoneMatch: '*' });
    } catch (error) {
      if (isConflict(error)) throw new ConversationListError('group-exists', `"${record.group}"`);
      throw error;
    }
    return created;
  }

  /**
   * Applies `edit` to the newest record (returning `undefined`: nothing to change), retrying on every
   * conflict: a read and a write per attempt. `unknown-group` when the group has no record; `edit` may throw
   * a {@link ConversationListError} to refuse.
   */
  async change(
    group: string,
    edit: (record: GroupRecord) => Omit<GroupRecord, 'version'> | undefined,
  ): Promise<GroupChange> {
    for (let attempt = 1; ; attempt++) {
      const loaded = await this.#load(group);
      if (loaded === undefined) throw new ConversationListError('unknown-group', `"${group}"`);
      const edited = edit(loaded.record);
      if (edited === undefined) return { record: loaded.record, changed: false };
      const next: GroupRecord = { ...edited, version: loaded.record.version + 1 };
      try {
        await this.#write(group, next, { ifMatch: loaded.etag });
        return { record: next, changed: true };
      } catch (error) {
        if (!isConflict(error)) throw error;
        if (attempt >= this.#attempts) {
          throw new ConversationListError('group-contended', `${this.#attempts} attempts`);
        }
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
      }
    }
  }

  async #write(group: string, record: GroupRecord, conditions: { ifMatch?: string; ifNoneMatch?: string }) {
    const body = JSON.stringify(record);
    await this.#blob(group).upload(body, Buffer.byteLength(body), {
      blobHTTPHeaders: { blobContentType: 'application/json' },
      conditions,
    });
  }

  async #load(group: string): Promise<{ record: GroupRecord; etag: string } | undefined> {
    try {
      const response = await this.#blob(group).download();
      const record = parseRecord(await streamText(response.readableStreamBody), group);
      return { record, etag: response.etag ?? '*' };
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return undefined;
      throw error;
    }
  }

  #blob(group: string) {
    return this.#container.getBlockBlobClient(`${GROUPS_PREFIX}${blobNameSegment(group)}`);
  }
}

/** Whether `user` may see and write a private group (always true of a channel; never of a deleted group). */
export function isGroupMember(record: GroupRecord, user: string): boolean {
  if (record.deleted === true) return false;
  return record.kind === 'channel' || record.members.includes(user);
}

/** 412: changed since it was read; 409: created meanwhile. */
function isConflict(error: unknown): boolean {
  const status = error instanceof RestError ? error.statusCode : undefined;
  return status === 412 || status === 409;
}

/**
 * A stored record. One that cannot be read is kept private with no members rather than opened to everyone:
 * an unreadable record must not make a private group public.
 */
function parseRecord(text: string, group: string): GroupRecord {
  try {
    const value = JSON.parse(text) as Partial<GroupRecord>;
    if (
      (value.kind === 'private' || value.kind === 'channel') &&
      Array.isArray(value.owners) &&
      Array.isArray(value.members) &&
      typeof value.version === 'number'
    ) {
      return {
        group,
        kind: value.kind,
        title: typeof value.title === 'string' ? value.title : group,
        ...(typeof value.topic === 'string' ? { topic: value.topic } : {}),
        owners: value.owners.filter((u): u is string => typeof u === 'string'),
        members: value.members.filter((u): u is string => typeof u === 'string'),
        version: value.version,
        ...(value.deleted === true ? { deleted: true as const } : {}),
      };
    }
  } catch {
    // Falls through to the closed record.
  }
  return { group, kind: 'private', title: group, owners: [], members: [], version: 0 };
}
