/**
 * The rules of moderation (docs/architecture.md, "Moderation"): every command but `reportMessage` needs a
 * moderator's or admin's role, as the service vouches for it (never as the client says); every action is
 * appended to the audit log. Mutes and bans are checked before anything that others would see
 * ({@link SANCTIONED_COMMANDS}), from the per-instance cache.
 */
import { parseConversation } from '../../conversation.js';
import type { GroupRecordStore, ListUpdates } from '../../conversations/index.js';
import type { AppendResult, ChatMessage, NewMessage } from '../../history/index.js';
import { type AttachmentCheck, removeAttachmentOf } from '../attachment-check.js';
import type { ChatCommand } from '../commands.js';
import { type ChatErrorCode, type ChatErrorPayload, chatError, storing } from '../errors.js';
import type { Fanout } from '../fanout.js';
import { type MembershipStore, readRefusal } from '../groups/memberships.js';
import { type Caller, nameOf } from '../people/caller.js';
import type { UserDirectory } from '../people/directory.js';
import type { ChatEvent, ChatReply } from '../wire/protocol.js';
import type { AuditEntry, AuditLog } from './audit.js';
import type { ModerationCommand } from './commands.js';
import { auditedEvent, list } from './listings.js';
import type { ModerationNotice } from './protocol.js';
import { type ReportedHistory, reportedMessage } from './reported.js';
import type { ReportStore } from './reports.js';
import { canModerate, MODERATORS_GROUP } from './roles.js';
import type { ModerationStore } from './store.js';

export interface ModerationDependencies {
  /** `false` without sign-in: nobody has a role, and every moderation command is refused. */
  readonly enabled: boolean;
  readonly store: Pick<ModerationStore, 'sanctionsOf' | 'change' | 'current'>;
  readonly reports: Pick<ReportStore, 'add' | 'open' | 'resolve'>;
  readonly audit: Pick<AuditLog, 'append' | 'page'>;
  /** Closes every open connection of `user` (both services' REST APIs), with `reason`. */
  readonly disconnect: (user: string, reason: string) => Promise<void>;
}

/** What the handlers need of the chat around them; without the dependencies above, moderation is off. */
export interface ModerationContext extends Partial<ModerationDependencies> {
  readonly history: ReportedHistory & {
    find(conversation: string, id: string): Promise<ChatMessage | undefined>;
    append(message: NewMessage): Promise<AppendResult>;
  };
  /** See `DEFAULT_REPORT_CHANGE_LINES` (reported.ts). */
  readonly reportChangeLines?: number;
  readonly members: Pick<MembershipStore, 'isMember' | 'remove'>;
  readonly records: Pick<GroupRecordStore, 'read'>;
  readonly fanout: Pick<Fanout, 'toAll' | 'toGroup' | 'toUser' | 'removeUserFromGroup'>;
  readonly lists: Pick<ListUpdates, 'leaveGroup'>;
  /** Display names of signed-in users, for the audit log and who is muted or banned; without it ids only. */
  readonly directory?: Pick<UserDirectory, 'namesOf'>;
  /** Where a removed message's file is deleted; without it there are no files. */
  readonly attachments?: Pick<AttachmentCheck, 'remove'>;
  /** The time now, ISO 8601. */
  readonly at: () => string;
  readonly now?: () => number;
}

type Refusal = Extract<ChatEvent, { event: 'error' }>;

const error = (code: ChatErrorCode, command: string, detail?: string): Refusal => ({
  event: 'error',
  payload: chatError(code, command, detail),
});

/**
 * What a muted or banned user may not do: everything that adds to or changes what others see (a message, an
 * edit, a reaction, a report, a group or channel with its title and topic, a member added, a new title or topic).
 * Reading, leaving, marking read, listing, and taking back what is one's own (`deleteMessage`, `unreact`,
 * `removeMember` from a group one owns) stay allowed. `typing` is dropped without an answer instead
 * (`relayTyping`'s `silenced`), and a `joinGroup` is refused only when it would create a channel
 * (docs/architecture.md, "Moderation").
 */
export const SANCTIONED_COMMANDS = [
  'sendMessage',
  'editMessage',
  'react',
  'reportMessage',
  'createGroup',
  'addMember',
  'renameGroup',
  'setTopic',
] as const satisfies readonly ChatCommand['type'][];

const isSanctioned = (type: string): boolean => (SANCTIONED_COMMANDS as readonly string[]).includes(type);

/**
 * The refusal of a command of {@link SANCTIONED_COMMANDS} by a banned or muted user, from the cached state;
 * `undefined` when they may (and, without a store read, for every other command). A mute's refusal says when it
 * ends.
 */
export async function sanctionRefusal(
  store: Pick<ModerationStore, 'sanctionsOf'>,
  caller: Caller,
  command: ChatCommand,
): Promise<ChatErrorPayload | undefined> {
  if (!isSanctioned(command.type)) return undefined;
  const which =
    'clientMessageId' in command && command.clientMessageId !== undefined
      ? { clientMessageId: command.clientMessageId }
      : {};
  const refusal = await sanctionOf(store, caller, command.type);
  return refusal === undefined ? undefined : { ...refusal, ...which };
}

/**
 * The `banned` or `muted` refusal of `command` when `caller` is banned or muted now, whatever the command;
 * `undefined` when they are neither. `why` says what the command would have done, before the mute's end.
 */
export async function sanctionOf(
  store: Pick<ModerationStore, 'sanctionsOf'>,
  caller: Caller,
  command: string,
  why?: string,
): Promise<ChatErrorPayload | undefined> {
  const { mute, ban } = await store.sanctionsOf(caller.user);
  const detail = (...parts: (string | undefined)[]) => parts.filter((p) => p).join('; ') || undefined;
  if (ban !== undefined) return chatError('banned', command, detail(why, ban.reason));
  if (mute === undefined) return undefined;
  const ends = `it ends at ${mute.until}${mute.reason ? ` (${mute.reason})` : ''}`;
  return { ...chatError('muted', command, detail(why, ends)), until: mute.until };
}

/**
 * What `relayTyping` needs to drop the `typing` of a muted or banned user: nothing while moderation is off, so
 * no lookup is made then.
 */
export function typingSilencer(
  moderation: Pick<ModerationDependencies, 'enabled' | 'store'> | undefined,
  caller: Caller,
): { silenced?: () => Promise<boolean> } {
  const store = moderation?.enabled ? moderation.store : undefined;
  if (store === undefined) return {};
  return { silenced: async () => (await sanctionOf(store, caller, 'typing')) !== undefined };
}

export class ModerationHandlers {
  readonly #deps: ModerationContext;

  readonly #on: ModerationDependencies | undefined;

  constructor(deps: ModerationContext) {
    this.#deps = deps;
    const { enabled, store, reports, audit, disconnect } = deps;
    this.#on =
      enabled && store && reports && audit && disconnect
        ? { enabled, store, reports, audit, disconnect }
        : undefined;
  }

  /** The dependencies, once {@link run} has found moderation on. */
  get #active(): ModerationDependencies {
    if (this.#on === undefined) throw new Error('moderation is off');
    return this.#on;
  }

  async run(caller: Caller, command: ModerationCommand): Promise<ChatReply | undefined> {
    const on = this.#on;
    if (on === undefined) return error('moderation-off', command.type);
    return this.#run(on, caller, command);
  }

  async #run(
    on: ModerationDependencies,
    caller: Caller,
    command: ModerationCommand,
  ): Promise<ChatReply | undefined> {
    if (command.type === 'reportMessage') return this.#report(caller, command);
    if (!canModerate(caller.roles)) return error('not-a-moderator', command.type);
    switch (command.type) {
      case 'removeMessage':
        return this.#remove(caller, command);
      case 'muteUser': {
        const until = new Date((this.#deps.now?.() ?? Date.now()) + command.minutes * 60_000).toISOString();
        const mute = { by: caller.user, at: this.#deps.at(), until, ...why(command) };
        await on.store.change(command.user, (s) => ({ ...s, mute }));
        return this.#acted(caller, command, command.user, { until, tell: command.user });
      }
      case 'unmuteUser':
        await on.store.change(command.user, ({ mute: _lifted, ...rest }) => rest);
        return this.#acted(caller, command, command.user, { tell: command.user });
      case 'banUser': {
        const ban = { by: caller.user, at: this.#deps.at(), ...why(command) };
        await on.store.change(command.user, (s) => ({ ...s, ban }));
        const reply = await this.#acted(caller, command, command.user);
        const reason = `${chatError('banned').message}${command.reason ? `: ${command.reason}` : ''}`;
        await on.disconnect(command.user, reason);
        return reply;
      }
      case 'unbanUser':
        await on.store.change(command.user, ({ ban: _lifted, ...rest }) => rest);
        return this.#acted(caller, command, command.user);
      case 'removeFromChannel':
        return this.#removeFromChannel(caller, command);
      case 'listReports':
      case 'listAudit':
      case 'listSanctions':
        return list({ ...on, directory: this.#deps.directory }, command);
      case 'resolveReport': {
        if (!(await on.reports.resolve(command.report))) return error('report-not-found', command.type);
        const reply = await this.#acted(caller, command, command.report);
        await this.#deps.fanout.toGroup(MODERATORS_GROUP, {
          event: 'reportResolved',
          payload: { id: command.report, by: caller.user, at: this.#deps.at() },
        });
        return reply;
      }
    }
  }

  /**
   * Anyone who may read the conversation reports a stored message: one open report per message, which later
   * reporters join, sent to connected moderators each time it changes. A repeat by the same reporter is
   * refused (`already-reported`) and tells the moderators nothing. The report copies the message as readers see
   * it (edits folded, the first text too when edited: reported.ts) and, in a group, the group's title and kind
   * (one read of its record); a deleted or removed one is refused
   * (`message-deleted`), and so is a report past the reporter's bound of open ones (`too-many-reports`).
   */
  async #report(
    caller: Caller,
    command: Extract<ModerationCommand, { type: 'reportMessage' }>,
  ): Promise<ChatReply> {
    const { members, records } = this.#deps;
    const refused = await readRefusal(members, caller.user, command.type, command.conversation, records);
    if (refused !== undefined) return { event: 'error', payload: refused };
    const { history, reportChangeLines } = this.#deps;
    const found = await reportedMessage(history, command.conversation, command.messageId, reportChangeLines);
    if (!found.ok) return error(found.code, command.type, found.detail);
    const { message, originalText } = found;
    const where = parseConversation(command.conversation);
    const record = where?.kind === 'group' ? await this.#deps.records.read(where.group) : undefined;
    const outcome = await this.#active.reports.add({
      conversation: command.conversation,
      ...(record !== undefined ? { groupTitle: record.title, groupKind: record.kind } : {}),
      messageId: command.messageId,
      author: message.from,
      ...(message.fromName !== undefined ? { authorName: message.fromName } : {}),
      text: message.text,
      ...(originalText !== undefined && message.editedAt !== undefined
        ? { originalText, editedAt: message.editedAt }
        : {}),
      reporter: caller.user,
      ...(caller.name !== undefined && caller.name !== caller.user ? { reporterName: caller.name } : {}),
      ...why(command),
    });
    if (outcome.status === 'contended') return error('report-contended', command.type);
    if (outcome.status === 'too-many') {
      return error('too-many-reports', command.type, `you have ${outcome.limit} open reports`);
    }
    if (outcome.status === 'repeat') {
      return error('already-reported', command.type, `you reported it at ${outcome.at}`);
    }
    // A report that keeps no more reporters is answered as done: the moderators have it already.
    if (outcome.status !== 'full') {
      await this.#deps.fanout.toGroup(MODERATORS_GROUP, { event: 'report', payload: outcome.report });
    }
    return {
      event: 'moderation',
      payload: {
        action: 'reported',
        target: `${command.conversation} ${command.messageId}`,
        by: caller.user,
        at: outcome.at,
      },
    };
  }

  /**
   * A moderator's delete of anyone's message: a `remove` record addressed as the message (its author's `from`,
   * its `to` or `group`, so it is filed in a private conversation of two others as their lines are) and naming
   * the moderator in `by`, delivered where the message was.
   */
  async #remove(
    caller: Caller,
    command: Extract<ModerationCommand, { type: 'removeMessage' }>,
  ): Promise<ChatReply> {
    const { history, fanout } = this.#deps;
    const original = await history.find(command.conversation, command.messageId);
    if (original === undefined) return error('message-not-found', command.type);
    if (original.kind !== undefined) return error('not-a-message', command.type);
    const { message } = await storing(() =>
      history.append({
        conversation: command.conversation,
        from: original.from,
        ...(original.fromName !== undefined ? { fromName: original.fromName } : {}),
        ...(original.to !== undefined ? { to: original.to } : {}),
        ...(original.group !== undefined ? { group: original.group } : {}),
        text: '',
        kind: 'remove',
        target: command.messageId,
        by: caller.user,
      }),
    );
    // Only now that the record is stored: the file goes with its message.
    await storing(() => removeAttachmentOf(this.#deps.attachments, message, original));
    const event: ChatEvent = { event: 'message', payload: message };
    const where = parseConversation(command.conversation);
    if (where?.kind === 'group') await fanout.toGroup(where.group, event);
    else if (where?.kind === 'dm') await Promise.all(where.users.map((u) => fanout.toUser(u, event)));
    else await fanout.toAll(event);
    await this.#audit(caller, command, `${command.conversation} ${command.messageId}`, {
      author: original.from,
    });
    // The moderator may not be in the conversation: the record is their answer too.
    return { event: 'ack', payload: { message } };
  }

  /** Takes `user` out of a public channel: membership, realtime group and list, with a note to both. */
  async #removeFromChannel(
    caller: Caller,
    command: Extract<ModerationCommand, { type: 'removeFromChannel' }>,
  ): Promise<ChatReply | undefined> {
    const { records, members, fanout, lists } = this.#deps;
    const { group, user } = command;
    const record = await records.read(group);
    if (record !== undefined && record.kind !== 'channel')
      return error('not-a-channel', command.type, `"${group}"`);
    if (!(await members.isMember(user, group)))
      return error('not-a-member', command.type, `"${user}" is not in "${group}"`);
    await members.remove(user, group);
    await fanout.removeUserFromGroup(group, user);
    await lists.leaveGroup(user, group);
    const note: ChatEvent = {
      event: 'system',
      payload: { kind: 'memberRemoved', user, by: caller.user, group, at: this.#deps.at() },
    };
    await Promise.all([fanout.toGroup(group, note), fanout.toUser(user, note)]);
    return this.#acted(caller, command, user, { group });
  }

  /** Audits an action and answers the moderator (and tells `tell`, the user it concerns). */
  async #acted(
    caller: Caller,
    command: ModerationCommand,
    target: string,
    extra: { until?: string; tell?: string; group?: string } = {},
  ): Promise<ChatReply> {
    const { until, group } = extra;
    const entry = await this.#audit(caller, command, target, {
      ...(until !== undefined ? { until } : {}),
      ...(group !== undefined ? { group } : {}),
    });
    const notice: ModerationNotice = {
      action: command.type as ModerationNotice['action'],
      target,
      by: caller.user,
      at: entry.at,
      ...(extra.until !== undefined ? { until: extra.until } : {}),
      ...(entry.reason !== undefined ? { reason: entry.reason } : {}),
      ...(extra.group !== undefined ? { group: extra.group } : {}),
    };
    if (extra.tell !== undefined && extra.tell !== caller.user) {
      await this.#deps.fanout.toUser(extra.tell, { event: 'moderation', payload: notice });
    }
    return { event: 'moderation', payload: notice };
  }

  /**
   * Appends an action to the audit log and tells the connected moderators (`audited`), so every open panel
   * shows it and who is muted or banned now without asking again.
   */
  async #audit(
    caller: Caller,
    command: ModerationCommand,
    target: string,
    extra: Pick<AuditEntry, 'until' | 'group' | 'author'> = {},
  ): Promise<AuditEntry> {
    const entry: AuditEntry = {
      at: this.#deps.at(),
      by: caller.user,
      ...(nameOf(caller).name !== undefined ? { byName: nameOf(caller).name } : {}),
      action: command.type,
      target,
      ...why(command),
      ...extra,
    };
    await this.#active.audit.append(entry);
    await this.#deps.fanout.toGroup(MODERATORS_GROUP, await auditedEvent(this.#deps, entry));
    return entry;
  }
}

function why(command: ModerationCommand): { reason?: string } {
  return 'reason' in command && command.reason !== undefined ? { reason: command.reason } : {};
}
