/**
 * The rules of private groups and public channels (docs/architecture.md, "Private groups and channels"): who
 * may create, join, add, remove, rename, set a topic and see the members, each checked against the user the
 * service vouches for. The group's record (src/lib/conversations/group-records.ts) says who the owners and
 * members are; each member's membership blob, realtime group and conversation list follow it. Sending and
 * reading stay one membership check (memberships.ts), whatever the number of members.
 */
import { groupConversation } from '../../conversation.js';
import {
  type ChannelDirectory,
  ConversationListError,
  DEFAULT_MAX_ADDED_GROUPS_PER_USER,
  DEFAULT_MAX_GROUP_MEMBERS,
  DEFAULT_MAX_GROUP_OWNERS,
  DEFAULT_MAX_GROUP_TITLE_LENGTH,
  DEFAULT_MAX_GROUP_TOPIC_LENGTH,
  DEFAULT_MAX_GROUPS_ADDED_BY_ONE_USER,
  DEFAULT_MAX_GROUPS_CREATED_PER_DAY,
  DEFAULT_MAX_GROUPS_PER_USER,
  type GroupCreationStore,
  type GroupLimits,
  type GroupRecord,
  type GroupRecordStore,
  isGroupMember,
  type ListUpdates,
} from '../../conversations/index.js';
import type { HistoryPage } from '../../history/index.js';
import { mapLimited } from '../../map-limited.js';
import { type ChatErrorPayload, chatError } from '../errors.js';
import type { Fanout } from '../fanout.js';
import type { ChatEvent, SystemPayload } from '../wire/protocol.js';
import type { GroupCommand } from './commands.js';
import { deleteGroup, type GroupDeletion } from './deletion.js';
import {
  legacyChannel,
  listedTitle,
  mayAdd,
  named,
  notDeleted,
  refusal,
  refuse,
  without,
} from './group-rules.js';
import type { MembershipOrigins, MembershipStore } from './memberships.js';
import { notAMemberOf } from './refusals.js';

/**
 * The members whose checks and state one `createGroup` works on at once: a group of 256 is 16 at a time, so
 * one command never puts hundreds of Blob requests in flight together.
 */
export const DEFAULT_MEMBER_WORK_CONCURRENCY = 16;

/** The stores and limits of groups, as the app composes them (the limits from app settings). */
export interface GroupStores extends GroupLimits {
  readonly records: Pick<GroupRecordStore, 'read' | 'create' | 'change'>;
  readonly channels: Pick<ChannelDirectory, 'put' | 'page'>;
  /** Each user's recent creations (`CHAT_MAX_GROUPS_CREATED_PER_DAY`). */
  readonly creations: Pick<GroupCreationStore, 'take' | 'giveBack'>;
  /** See {@link DEFAULT_MEMBER_WORK_CONCURRENCY}. */
  readonly memberWorkConcurrency?: number;
}

export interface GroupDependencies extends GroupStores, Omit<GroupDeletion, 'records' | 'concurrency'> {
  readonly members: Pick<MembershipStore, 'origins' | 'isMember' | 'add' | 'remove'>;
  readonly fanout: Pick<Fanout, 'addUserToGroup' | 'removeUserFromGroup' | 'toGroup' | 'toUser'>;
  readonly lists: Pick<ListUpdates, 'joinGroup' | 'leaveGroup' | 'retitleGroup'>;
  readonly history: GroupDeletion['history'] & {
    read(conversation: string, options: { limit: number }): Promise<HistoryPage>;
  };
  /** The time now, ISO 8601. */
  readonly at: () => string;
}

export class GroupHandlers {
  readonly #deps: GroupDependencies;

  constructor(deps: GroupDependencies) {
    this.#deps = deps;
  }

  /** Runs a group command for `user`; a refusal is an `error` event of its code. */
  async run(user: string, command: GroupCommand): Promise<ChatEvent | undefined> {
    try {
      return await this.#run(user, command);
    } catch (error) {
      if (error instanceof ConversationListError) return refusal(error, command.type);
      throw error;
    }
  }

  /**
   * Whether `user` may join `group` by its name: a private group only re-admits its members; a name without a
   * record becomes a public channel with `user` as its owner. `undefined` when they may.
   */
  async joinRefusal(user: string, group: string): Promise<ChatErrorPayload | undefined> {
    const { records, channels } = this.#deps;
    try {
      const record = await records.read(group);
      if (record !== undefined) notDeleted(record);
      if (record !== undefined && !isGroupMember(record, user)) refuse('private-group', named(record));
      await this.#roomForOneMore(user, group);
      if (record === undefined) {
        const created = await this.#createCounted(user, {
          group,
          kind: 'channel',
          title: group,
          owners: [user],
          members: [],
        }).catch((error: unknown) => {
          // Created meanwhile by another joiner: theirs stands.
          if (error instanceof ConversationListError && error.code === 'group-exists') return undefined;
          throw error;
        });
        if (created !== undefined) await channels.put(created);
      }
      return undefined;
    } catch (error) {
      if (error instanceof ConversationListError) return refusal(error, 'joinGroup').payload;
      throw error;
    }
  }

  /** Whether `user` may leave `group` (see {@link leaving}): the refusal, or `undefined`. */
  async leaveRefusal(user: string, group: string): Promise<ChatErrorPayload | undefined> {
    return (await this.leaving(user, group)).refusal;
  }

  /**
   * Takes `user` out of a private group's record before they leave it: the record as it changed (for the
   * members to see), or the refusal: the last owner of a group that keeps members may not leave, nor its last
   * member (who deletes it instead).
   */
  async leaving(user: string, group: string): Promise<{ refusal?: ChatErrorPayload; record?: GroupRecord }> {
    try {
      const record = await this.#deps.records.read(group);
      // A deleted group is left with its deletion (deletion.ts), which takes every membership away.
      if (record?.kind !== 'private' || record.deleted === true) return {};
      const change = await this.#deps.records.change(group, (r) => without(r, user));
      return change.changed ? { record: change.record } : {};
    } catch (error) {
      if (error instanceof ConversationListError) return { refusal: refusal(error, 'leaveGroup').payload };
      throw error;
    }
  }

  async #run(user: string, command: GroupCommand): Promise<ChatEvent | undefined> {
    const { records, channels } = this.#deps;
    const tooLong = this.#tooLong(command);
    if (tooLong !== undefined) return tooLong;
    switch (command.type) {
      case 'createGroup':
        return this.#create(user, command);
      case 'addMember':
        return this.#add(user, command.group, command.user, command.owner);
      case 'removeMember':
        return this.#remove(user, command.group, command.user);
      case 'renameGroup':
      case 'setTopic': {
        const { record, changed } = await records.change(command.group, (r) => {
          notDeleted(r);
          if (!r.owners.includes(user)) refuse('not-an-owner', named(r));
          if (command.type === 'renameGroup')
            return r.title === command.title ? undefined : { ...r, title: command.title };
          if ((r.topic ?? '') === command.topic) return undefined;
          const { topic: _old, ...rest } = r;
          return command.topic === '' ? rest : { ...rest, topic: command.topic };
        });
        // A change to what it is: answered with the record, and nothing written or sent to anyone else.
        if (!changed) return { event: 'group', payload: record };
        if (command.type === 'renameGroup') await this.#retitle(record);
        if (record.kind === 'channel') await channels.put(record);
        const at = this.#deps.at();
        const note: SystemPayload =
          command.type === 'renameGroup'
            ? { kind: 'groupRenamed', user, group: command.group, title: command.title, at }
            : { kind: 'topicSet', user, group: command.group, topic: command.topic, at };
        await this.#deps.fanout.toGroup(command.group, { event: 'group', payload: record });
        await this.#deps.fanout.toGroup(command.group, { event: 'system', payload: note });
        return undefined;
      }
      case 'listMembers': {
        const record = await records.read(command.group);
        if (record === undefined) return { event: 'group', payload: legacyChannel(command.group) };
        notDeleted(record);
        if (!isGroupMember(record, user))
          return { event: 'error', payload: notAMemberOf(record, command.type, command.group) };
        return { event: 'group', payload: record };
      }
      case 'listChannels':
        return { event: 'channels', payload: await channels.page(command.limit, command.after) };
      case 'deleteGroup':
        return deleteGroup({ ...this.#deps, concurrency: this.#concurrency }, user, command.group);
    }
  }

  async #create(user: string, command: Extract<GroupCommand, { type: 'createGroup' }>): Promise<undefined> {
    const { channels, history, fanout } = this.#deps;
    const { group, kind } = command;
    const invited = command.members.filter((m) => m !== user);
    if (kind === 'private' && invited.length + 1 > this.#maxMembers) {
      refuse('group-full', `at most ${this.#maxMembers} members`);
    }
    await this.#roomForOneMore(user, group);
    // Nobody can fill another user's groups: those others add them to count apart, and one adder adds few.
    await mapLimited(invited, this.#concurrency, (member) => this.#roomToAdd(user, member, group));
    // A group from before records has no record but may have history: its name is taken.
    const earlier = await history.read(groupConversation(group), { limit: 1 });
    if (earlier.messages.length > 0) refuse('group-exists', `"${group}"`);
    const record = await this.#createCounted(user, {
      group,
      kind,
      title: command.title ?? group,
      ...(command.topic !== undefined ? { topic: command.topic } : {}),
      owners: [user],
      members: kind === 'private' ? [user, ...invited] : [],
    });
    if (kind === 'channel') await channels.put(record);
    await this.#admit(user, record);
    await mapLimited(invited, this.#concurrency, (member) => this.#admit(member, record, user));
    await fanout.toGroup(group, { event: 'group', payload: record });
    if (kind === 'private') {
      const payload = { kind: 'groupCreated', user, group, members: invited, at: this.#deps.at() } as const;
      await fanout.toGroup(group, { event: 'system', payload });
    }
    // The creator of a channel joined it, as anyone joins one (a private group's record names its members).
    if (kind === 'channel') {
      const payload = { kind: 'groupJoined', user, group, at: this.#deps.at() } as const;
      await fanout.toGroup(group, { event: 'system', payload });
    }
    return undefined;
  }

  /**
   * Writes the record of a group `user` creates, once the creation is counted against their daily bound
   * (`too-many-groups-created` past it; an extra read and write of their creation record). Last of the
   * checks, so no other refusal counts; a name taken meanwhile (`group-exists`) gives the creation back. A
   * failure of the record's write itself leaves it counted: it may have been written.
   */
  async #createCounted(user: string, record: Omit<GroupRecord, 'version'>): Promise<GroupRecord> {
    const { records, creations } = this.#deps;
    const max = this.#deps.maxGroupsCreatedPerDay ?? DEFAULT_MAX_GROUPS_CREATED_PER_DAY;
    const counted = await creations.take(user, Date.parse(this.#deps.at()), max);
    try {
      return await records.create(record);
    } catch (error) {
      if (error instanceof ConversationListError && error.code === 'group-exists') {
        // The refusal is what the user hears: a give-back that fails leaves one creation too many counted.
        await creations.giveBack(user, counted, Date.parse(this.#deps.at())).catch(() => undefined);
      }
      throw error;
    }
  }

  /** An owner adds `member` (or makes a member an owner): a record change, then the member's own state. */
  async #add(by: string, group: string, member: string, owner: boolean): Promise<ChatEvent | undefined> {
    const { records, fanout } = this.#deps;
    await this.#roomToAdd(by, member, group).catch(async (error: unknown) => {
      // Only an owner hears how many groups the member is in: anyone else hears why they may not add at all.
      const r = await records.read(group);
      if (r === undefined) refuse('unknown-group', `"${group}"`);
      mayAdd(r, by);
      throw error;
    });
    let wasMember = false;
    const { record, changed } = await records.change(group, (r) => {
      mayAdd(r, by);
      wasMember = r.members.includes(member);
      const owners = owner && !r.owners.includes(member) ? [...r.owners, member] : r.owners;
      const maxOwners = this.#deps.maxOwners ?? DEFAULT_MAX_GROUP_OWNERS;
      if (owners.length > maxOwners) refuse('too-many-owners', `at most ${maxOwners} owners`);
      if (r.members.includes(member)) return owners === r.owners ? undefined : { ...r, owners };
      if (r.members.length >= this.#maxMembers) refuse('group-full', `at most ${this.#maxMembers} members`);
      return { ...r, owners, members: [...r.members, member] };
    });
    // Also when nothing changed: a retry after a failure half-way completes the member's state.
    await this.#admit(member, record, by);
    if (!changed) return { event: 'group', payload: record };
    const at = this.#deps.at();
    // A member made an owner was not added: the note says who made whom an owner.
    const payload: SystemPayload = wasMember
      ? { kind: 'ownerAdded', user: by, member, group, at }
      : { kind: 'memberAdded', user: member, by, group, at };
    await Promise.all([
      fanout.toGroup(group, { event: 'group', payload: record }),
      fanout.toGroup(group, { event: 'system', payload }),
    ]);
    return undefined;
  }

  /**
   * An owner removes `member`: out of the record, then out of the membership (reads and sends check it), the
   * realtime group (every connection of theirs) and their list, at once.
   */
  async #remove(by: string, group: string, member: string): Promise<ChatEvent | undefined> {
    const { records, members, fanout, lists } = this.#deps;
    const { record, changed } = await records.change(group, (r) => {
      notDeleted(r);
      if (r.kind !== 'private') refuse('not-private', named(r));
      if (!r.owners.includes(by)) refuse('not-an-owner', named(r));
      return without(r, member);
    });
    // Also when nothing changed: a retry after a failure half-way completes the removal.
    await members.remove(member, group);
    await fanout.removeUserFromGroup(group, member);
    await lists.leaveGroup(member, group);
    if (!changed) return { event: 'group', payload: record };
    const note: ChatEvent = {
      event: 'system',
      payload: { kind: 'memberRemoved', user: member, by, group, at: this.#deps.at() },
    };
    await Promise.all([
      fanout.toGroup(group, { event: 'group', payload: record }),
      fanout.toGroup(group, note),
      fanout.toUser(member, note),
    ]);
    return undefined;
  }

  /**
   * A member's own state: the membership blob (naming `by`, who added them, when that is someone else), every
   * connection in the realtime group, the list entry, in this order: the list reaches the member's pages before
   * the group's record and note, and a page takes a group new to its list as joined, so it comes last.
   */
  async #admit(member: string, record: GroupRecord, by?: string): Promise<void> {
    const { members, fanout, lists } = this.#deps;
    const { group } = record;
    await members.add(member, group, by);
    await fanout.addUserToGroup(group, member);
    // A full list leaves the group out of the list only: the membership stands.
    const title = listedTitle(record);
    await lists.joinGroup(member, group, this.#deps.at(), {
      groupKind: record.kind,
      ...(title !== undefined ? { title } : {}),
    });
  }

  /**
   * A private group's title into each member's list, so a reload shows it at no cost to the welcome: one list
   * read and write per member whose entry shows another title, 16 members at a time. A channel's members are
   * not known (anyone joins one): its entries have no title, and the welcome reads it.
   */
  async #retitle(record: GroupRecord): Promise<void> {
    const title = listedTitle(record);
    if (title === undefined) return;
    await mapLimited(record.members, this.#concurrency, (member) =>
      this.#deps.lists.retitleGroup(member, record.group, title),
    );
  }

  /** `invalid-title` or `invalid-topic` when a title or topic is longer than the configured limit. */
  #tooLong(command: GroupCommand): ChatEvent | undefined {
    const maxTitle = this.#deps.maxTitleLength ?? DEFAULT_MAX_GROUP_TITLE_LENGTH;
    const maxTopic = this.#deps.maxTopicLength ?? DEFAULT_MAX_GROUP_TOPIC_LENGTH;
    const title = 'title' in command ? command.title : undefined;
    const topic = 'topic' in command ? command.topic : undefined;
    const code =
      title !== undefined && [...title].length > maxTitle
        ? 'invalid-title'
        : topic !== undefined && [...topic].length > maxTopic
          ? 'invalid-topic'
          : undefined;
    if (code === undefined) return undefined;
    const max = code === 'invalid-title' ? maxTitle : maxTopic;
    return { event: 'error', payload: chatError(code, command.type, `1–${max} characters`) };
  }

  /**
   * `too-many-groups` when `user`, not yet in `group`, is in as many groups they created or joined (and have
   * not left) as allowed (those others added them to count apart): one listing of their memberships.
   */
  async #roomForOneMore(user: string, group: string): Promise<void> {
    const origins = await this.#deps.members.origins(user);
    if (origins.has(group)) return;
    const max = this.#deps.maxGroupsPerUser ?? DEFAULT_MAX_GROUPS_PER_USER;
    if (count(origins, (by) => by === undefined) >= max) {
      refuse(
        'too-many-groups',
        `at most ${max} groups you created or joined and are still in; groups others added you to count apart`,
      );
    }
  }

  /**
   * Whether `by` may add `member`, not yet in `group`, to it: `too-many-added-groups` when others have added
   * `member` to as many groups as allowed, `too-many-adds` when `by` has added them to as many as one user may
   * (of the groups they are still in). One listing of their memberships.
   */
  async #roomToAdd(by: string, member: string, group: string): Promise<void> {
    if (member === by) return this.#roomForOneMore(member, group);
    const origins = await this.#deps.members.origins(member);
    if (origins.has(group)) return;
    const maxAdded = this.#deps.maxAddedGroupsPerUser ?? DEFAULT_MAX_ADDED_GROUPS_PER_USER;
    if (count(origins, (adder) => adder !== undefined) >= maxAdded) {
      refuse('too-many-added-groups', `"${member}": at most ${maxAdded} groups others added them to`);
    }
    const maxByOne = this.#deps.maxGroupsAddedByOneUser ?? DEFAULT_MAX_GROUPS_ADDED_BY_ONE_USER;
    if (count(origins, (adder) => adder === by) >= maxByOne) {
      refuse('too-many-adds', `"${member}": at most ${maxByOne} groups added by one user`);
    }
  }

  get #concurrency(): number {
    return Math.max(1, this.#deps.memberWorkConcurrency ?? DEFAULT_MEMBER_WORK_CONCURRENCY);
  }

  get #maxMembers(): number {
    return this.#deps.maxMembers ?? DEFAULT_MAX_GROUP_MEMBERS;
  }
}

/** How many of a user's memberships have an adder that `test` accepts. */
function count(origins: MembershipOrigins, test: (adder: string | undefined) => boolean): number {
  let n = 0;
  for (const adder of origins.values()) if (test(adder)) n++;
  return n;
}
