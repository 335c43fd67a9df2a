/**
 * The chat's logic, independent of the wire: what happens when a connection enters, sends a command or
 * leaves. The upstream adapter (src/app/upstream-adapter.ts) turns upstream events of both services into these calls and
 * their results into the caller's answer. The user always comes from the service (the token's `nameid`,
 * `X-ASRS-User-Id`), never from a command.
 * See docs/architecture.md, "The chat protocol".
 */

import { directConversation, groupConversation, ROOM } from '../conversation.js';
import {
  appendRecord,
  type ConversationListStore,
  changeOf,
  ListUpdates,
  type PeopleDirectory,
  type ReactionOptions,
  replyFields,
} from '../conversations/index.js';
import type { AppendResult, ChatMessage, HistoryPage, NewMessage, SizedLine } from '../history/index.js';
import { ATTRIBUTES, chatMetrics, inSpan, SPANS } from '../observability.js';
import { type AttachmentCheck, checkAttachment, removeAttachmentOf } from './attachment-check.js';
import type { ChatCommand } from './commands.js';
import { ChatCommandError, chatError, storing } from './errors.js';
import { deliverMessage, type Fanout } from './fanout.js';
import { GroupHandlers, type GroupStores } from './groups/groups.js';
import { type JoinDependencies, joinGroup, leaveGroup } from './groups/joins.js';
import type { ListedTitleSource } from './groups/listed-titles.js';
import { type MembershipStore, readRefusal } from './groups/memberships.js';
import { notAMember } from './groups/refusals.js';
import { isModerationCommand } from './moderation/commands.js';
import {
  type ModerationDependencies,
  ModerationHandlers,
  sanctionRefusal,
  typingSilencer,
} from './moderation/handlers.js';
import { type Caller, namesOf } from './people/caller.js';
import type { UserDirectory } from './people/directory.js';
import type { PresenceChanges, PresenceDeltas } from './presence/deltas.js';
import type { PresenceStore } from './presence/presence.js';
import { type Entry, enterChat } from './presence/welcome.js';
import type { JoinReads } from './reading/join-reads.js';
import { MarkedIds } from './reading/marked-ids.js';
import type { ReadPositionStore } from './reading/positions.js';
import { ReadingHandlers } from './reading/reading.js';
import type { SearchOptions } from './reading/search.js';
import { relayTyping, type TypingThrottle } from './typing.js';
import type { ChatEvent, ChatReply } from './wire/protocol.js';

export type { Caller } from './people/caller.js';
/** What the chat needs of the history store (src/lib/history). */
export interface ChatHistory {
  append(message: NewMessage): Promise<AppendResult>;
  read(conversation: string, options: { before?: string; limit: number }): Promise<HistoryPage>;
  sizedLinesBefore(conversation: string, options: { before?: string }): AsyncIterable<SizedLine>;
  find(
    conversation: string,
    id: string,
    options?: { exhaustive?: boolean },
  ): Promise<ChatMessage | undefined>;
  /** Deletes a conversation's whole history (a deleted group's). */
  deleteConversation(conversation: string): Promise<number>;
}

export interface ChatDependencies {
  readonly history: ChatHistory;
  readonly presence: PresenceStore;
  /** This instance's batcher of presence deltas (one per process, shared by all invocations). */
  readonly presenceDeltas: PresenceDeltas;
  /** Users in the welcome's page of the online list (default `DEFAULT_ONLINE_PAGE_SIZE`). */
  readonly onlinePageSize?: number;
  readonly members: MembershipStore;
  readonly fanout: Fanout;
  /** Each user's list of private conversations and groups. */
  readonly lists: Pick<ConversationListStore, 'read' | 'add' | 'remove' | 'retitle' | 'remembers'>;
  /** Everyone who has used the chat, searchable by name. */
  readonly people: Pick<PeopleDirectory, 'seen' | 'find'>;
  /** Private groups' and channels' records and the channel directory (groups.ts). */
  readonly groups: GroupStores;
  /** Display names of signed-in users, for presence lists; without it lists carry ids only. */
  readonly directory?: Pick<UserDirectory, 'namesOf'>;
  /** This instance's throttle of `typing` events (shared by all invocations); without it none is dropped. */
  readonly typing?: Pick<TypingThrottle, 'allow'>;
  /** The emoji offered, distinct reactions folded, a reply's excerpt (default `REACTION_DEFAULTS`). */
  readonly reactions?: Partial<ReactionOptions>;
  /** This instance's sharing of the history reads of joins (one per process); without it each join reads alone. */
  readonly joinReads?: JoinReads;
  /** Each user's last-read positions (docs/architecture.md, "Read state"), shared by all invocations. */
  readonly reads: Pick<ReadPositionStore, 'positions' | 'mark' | 'flush'>;
  /**
   * This instance's check that a `markRead` names a stored line (one per process), which learns the messages
   * this instance stores; without it each mark checks anew.
   */
  readonly markedIds?: MarkedIds;
  /** The scan bounds of `searchMessages` (default `DEFAULT_SEARCH_SCAN_MESSAGES`, `DEFAULT_SEARCH_SCAN_BYTES`). */
  readonly search?: SearchOptions;
  /** Mutes, bans, reports and the audit log (docs/architecture.md, "Moderation"); without it moderation is off. */
  readonly moderation?: ModerationDependencies;
  /** The attachment store a message's attachment is checked against; without it attachments are refused. */
  readonly attachments?: AttachmentCheck;
  /**
   * How long a SignalR service's mark of a user's applied memberships lasts, in seconds (default
   * `DEFAULT_MEMBERSHIP_RECHECK_SECONDS`): an entry applies them all again at most this often while the service
   * keeps them (groups/memberships.ts).
   */
  readonly membershipRecheckSeconds?: number;
  /**
   * This instance's short-lived copy of the titles and kinds of group records the welcome shows (one per
   * process, groups/listed-titles.ts); without it each welcome reads the records.
   */
  readonly titles?: ListedTitleSource;
  /** The clock, for tests. */
  readonly now?: () => number;
}

export type { Entry } from './presence/welcome.js';

export class ChatHandlers {
  readonly #deps: ChatDependencies;

  constructor(deps: ChatDependencies) {
    this.#deps = deps;
  }

  /**
   * A connection enters: it is put in its groups in the service, its presence recorded, and everyone hears
   * it in the next `presence` delta. Returns the `welcome`, with the first page of the online list and the
   * count, as soon as it is ready, and `announced`, which resolves once the delta is sent (at most one
   * presence window later): the caller delivers the welcome first and ends only once the delta is out.
   * `connected`: the service already has the connection (a `connected` event, not a blocking connect).
   */
  async enter(caller: Caller, options: { connected?: boolean } = {}): Promise<Entry> {
    return enterChat(this.#deps, caller, options, {
      announce: (changes) => this.#announce(changes),
      namesOf: (users) => this.#namesOf(users),
      now: () => this.#nowMs(),
    });
  }

  /** The recorded display names of `users` (signed-in users), by id; empty without a directory. */
  async #namesOf(users: readonly string[]): Promise<Record<string, string>> {
    const { directory } = this.#deps;
    if (directory === undefined || users.length === 0) return {};
    return directory.namesOf(users);
  }

  /** A connection left: its user's read marks are written; if it was their last, everyone hears it in a delta. */
  async leave(caller: Caller): Promise<void> {
    const flushed = this.#deps.reads.flush(caller.user).catch(() => undefined);
    const { lastConnection } = await this.#deps.presence.leave(caller.user, caller.connectionId);
    await flushed;
    if (!lastConnection) return;
    await Promise.all([
      this.#announce({ left: [caller.user], names: namesOf([caller]) }),
      this.#deps.people.seen(caller.user, caller.name ?? caller.user, { force: true }),
    ]);
  }

  /** Adds presence changes to this instance's open batch; resolves once the batch is sent. */
  #announce(changes: Partial<PresenceChanges>): Promise<void> {
    const { presence, presenceDeltas, fanout } = this.#deps;
    if ((changes.joined?.length ?? 0) + (changes.left?.length ?? 0) === 0) return Promise.resolve();
    return presenceDeltas.announce(changes, async ({ joined, left, names }) => {
      // What the blobs say when the delta leaves, not what the changes said when they were collected: a
      // `joined` that waited in this batch while another instance announced the user's `left` goes out as
      // `left` (or with an older `at` than that one's), and the count is every instance's.
      const settled = await presence.settle([...joined, ...left]).catch(() => undefined);
      await fanout.toAll({
        event: 'presence',
        payload: {
          joined: settled?.joined ?? joined,
          left: settled?.left ?? left,
          ...(names !== undefined ? { names } : {}),
          count: settled?.count ?? presence.count(),
          at: settled?.at ?? this.#nowMs(),
        },
      });
    });
  }

  /** `listOnline`: one page of who is online, for the sender alone; stale entries it finds are announced gone. */
  async #listOnline(command: Extract<ChatCommand, { type: 'listOnline' }>): Promise<ChatEvent> {
    const { presence, fanout } = this.#deps;
    const page = await presence.page((u) => fanout.userExists(u), {
      limit: command.limit,
      ...(command.after !== undefined ? { after: command.after } : {}),
    });
    if (page.gone.length > 0) await this.#announce({ left: page.gone });
    const names = await this.#namesOf(page.users);
    return {
      event: 'online',
      payload: {
        users: page.users,
        ...(Object.keys(names).length > 0 ? { names } : {}),
        count: page.count,
        ...(command.after !== undefined ? { after: command.after } : {}),
        ...(page.next !== undefined ? { next: page.next } : {}),
        at: page.at,
      },
    };
  }

  /**
   * Runs a validated command. Returns the event for the sender alone (`ack`, `history`, `error`), or
   * `undefined` when everything the sender needs arrives through the fan-out. An `ack` marked
   * `alreadyDelivered` repeats what the fan-out carried to the sender: it is worth sending only where it costs
   * no extra message (an invocation's Completion). Throws {@link ChatCommandError} for a failure the sender
   * should hear by its code, anything else for an unexpected one.
   */
  async run(caller: Caller, command: ChatCommand): Promise<ChatReply | undefined> {
    const { moderation, groups, ...deps } = this.#deps;
    const sanctioned = moderation?.enabled && (await sanctionRefusal(moderation.store, caller, command));
    if (sanctioned) return { event: 'error', payload: sanctioned };
    if (isModerationCommand(command)) {
      const context = { ...deps, records: groups.records, lists: this.#listUpdates(), at: () => this.#at() };
      return new ModerationHandlers({ enabled: false, ...moderation, ...context }).run(caller, command);
    }
    switch (command.type) {
      case 'sendMessage':
        return this.#sendMessage(caller, command);
      case 'loadHistory':
        return this.#loadHistory(caller, command);
      case 'joinGroup':
        return joinGroup(this.#joins(), caller, command.group);
      case 'leaveGroup':
        return leaveGroup(this.#joins(), caller, command.group);
      case 'listOnline':
        return this.#listOnline(command);
      case 'editMessage':
      case 'deleteMessage':
      case 'react':
      case 'unreact':
        return this.#changeMessage(caller, command);
      case 'findPeople':
        return {
          event: 'people',
          payload: await this.#deps.people.find(command.query, command.limit, command.after),
        };
      case 'typing':
        return relayTyping(
          { ...this.#deps, ...typingSilencer(moderation, caller) },
          caller,
          command.conversation,
        );
      case 'markRead':
      case 'loadReadState':
      case 'searchMessages':
        return new ReadingHandlers(this.#deps).run(
          caller,
          command,
          this.#deps.markedIds ?? new MarkedIds(this.#deps.history),
        );
      default:
        return this.#groups().run(caller.user, command);
    }
  }

  /**
   * Stores the message, then delivers it, then acknowledges it to the sender (docs/architecture.md, "The chat
   * protocol"). Nothing is delivered before it is stored: when the store fails the sender gets
   * `storage-unavailable` and nobody sees the message. A retry of a message already stored (same sender and
   * `clientMessageId`) is delivered again and acknowledged again: the first delivery may have been cut short by
   * a crash between the store and the fan-out, and receivers merge by message id.
   *
   * The acknowledgement of a room or direct message is the sender's own copy of the stored message: the
   * fan-out reaches every connection of the hub, or every connection of the sender's user, so the sending
   * connection always gets it, `clientMessageId` included. The returned `ack` is then marked
   * `alreadyDelivered` (a second message per send would cost a REST call and a billed message for nothing).
   * A group message is delivered to the group's members as the service knows them, which a connection may
   * not have caught up with (a restarted service learns memberships again as users reconnect), so it gets
   * its `ack`.
   */
  async #sendMessage(
    caller: Caller,
    command: Extract<ChatCommand, { type: 'sendMessage' }>,
  ): Promise<ChatReply | undefined> {
    const { history, members, attachments } = this.#deps;
    const { text, group, to, clientMessageId, replyTo } = command;
    const which = clientMessageId !== undefined ? { clientMessageId } : {};
    if (group !== undefined && !(await members.isMember(caller.user, group))) {
      const refused = await notAMember(this.#deps.groups.records, command.type, group);
      return { event: 'error', payload: { ...refused, ...which } };
    }
    const conversation =
      group !== undefined
        ? groupConversation(group)
        : to !== undefined
          ? directConversation(caller.user, to)
          : ROOM;
    const reply = await storing(() => replyFields(history, conversation, replyTo, this.#deps.reactions));
    if (!reply.ok) return { event: 'error', payload: { ...chatError(reply.code, command.type), ...which } };
    const attached = await storing(() => checkAttachment(attachments, conversation, caller.user, command));
    if (!attached.ok) return { event: 'error', payload: attached.error };
    const { attachment } = attached;
    const kind = {
      [ATTRIBUTES.conversationKind]: group !== undefined ? 'group' : to !== undefined ? 'dm' : 'room',
    };
    const stored: AppendResult = await storing(() =>
      inSpan(SPANS.historyAppend, kind, async (span) => {
        const result = await history.append({
          conversation,
          from: caller.user,
          ...(caller.name !== undefined ? { fromName: caller.name } : {}),
          text,
          ...(attachment !== undefined ? { attachment } : {}),
          ...(group !== undefined ? { group } : {}),
          ...(to !== undefined ? { to } : {}),
          ...which,
          ...reply.fields,
        });
        span.setAttribute(ATTRIBUTES.duplicate, result.duplicate);
        return result;
      }),
    );
    chatMetrics().messages.add(1, { ...kind, [ATTRIBUTES.duplicate]: stored.duplicate });
    const { message } = stored;
    // Its readers will mark it read: this instance knows it is stored.
    this.#deps.markedIds?.remember(conversation, message.id);
    // Before the delivery: a recipient who is offline finds the conversation in their list when they come,
    // and a failure here is a failed send, whose retry (stored once) lists it again.
    const { lists } = this.#deps;
    if (
      to !== undefined &&
      !(lists.remembers(caller.user, conversation) && lists.remembers(to, conversation))
    ) {
      const toName = to === caller.user ? undefined : (await this.#namesOf([to]))[to];
      const refused = await storing(() =>
        this.#listUpdates().direct(caller, { user: to, name: toName }, conversation, this.#at()),
      );
      if (refused !== undefined) throw new ChatCommandError(refused, undefined);
    }
    await deliverMessage(this.#deps.fanout, caller, message);
    return {
      event: 'ack',
      payload: { ...(clientMessageId !== undefined ? { clientMessageId } : {}), message },
      ...(group === undefined ? { alreadyDelivered: true as const } : {}),
    };
  }

  async #loadHistory(
    caller: Caller,
    command: Extract<ChatCommand, { type: 'loadHistory' }>,
  ): Promise<ChatEvent> {
    const refused = await this.#refuseReader(caller, command.type, command.conversation);
    if (refused !== undefined) return refused;
    const page = await this.#deps.history.read(command.conversation, {
      limit: command.limit,
      ...(command.before !== undefined ? { before: command.before } : {}),
    });
    return { event: 'history', payload: page };
  }

  /** The refusal when `caller` may not read `id` (memberships.ts, `readRefusal`), as an error event. */
  async #refuseReader(caller: Caller, command: string, id: string): Promise<ChatEvent | undefined> {
    const refusal = await readRefusal(
      this.#deps.members,
      caller.user,
      command,
      id,
      this.#deps.groups.records,
    );
    return refusal === undefined ? undefined : { event: 'error', payload: refusal };
  }

  /**
   * `editMessage`, `deleteMessage`: a record appended after the author is checked against the stored message
   * (docs/architecture.md, "Edit and delete"; a delete takes its file too), delivered and acknowledged as usual.
   * `react`, `unreact`: the same, except that one which changes nothing is acknowledged `unchanged` and neither
   * stored nor delivered (docs/architecture.md, "Reactions and replies").
   */
  async #changeMessage(
    caller: Caller,
    command: Extract<ChatCommand, { type: 'editMessage' | 'deleteMessage' | 'react' | 'unreact' }>,
  ): Promise<ChatReply> {
    const { clientMessageId } = command;
    const which = clientMessageId !== undefined ? { clientMessageId } : {};
    const refused = await this.#refuseReader(caller, command.type, command.conversation);
    if (refused?.event === 'error') return { event: 'error', payload: { ...refused.payload, ...which } };
    const outcome = await storing(() =>
      appendRecord(this.#deps.history, changeOf(caller, command), this.#deps.reactions),
    );
    if (!outcome.ok)
      return { event: 'error', payload: { ...chatError(outcome.code, command.type), ...which } };
    // A reaction that changes nothing: answered as done, with nothing stored or delivered.
    if ('unchanged' in outcome) return { event: 'ack', payload: { ...which, unchanged: true } };
    const { message } = outcome.stored;
    await storing(() => removeAttachmentOf(this.#deps.attachments, message, outcome.original));
    await deliverMessage(this.#deps.fanout, caller, message);
    return {
      event: 'ack',
      payload: { ...which, message },
      ...(message.group === undefined ? { alreadyDelivered: true as const } : {}),
    };
  }

  /** The list changes of this invocation, each sent on to its user's connections. */
  #listUpdates(): ListUpdates {
    return new ListUpdates(this.#deps.lists, (user, list) =>
      this.#deps.fanout.toUser(user, { event: 'conversations', payload: list }),
    );
  }

  /** Private groups and channels, for this invocation. */
  #groups(): GroupHandlers {
    const lists = this.#listUpdates();
    return new GroupHandlers({ ...this.#deps, ...this.#deps.groups, lists, at: () => this.#at() });
  }

  /** The caller's own joins and leaves, for this invocation. */
  #joins(): JoinDependencies {
    const { moderation, groups } = this.#deps;
    const lists = this.#listUpdates();
    return {
      ...this.#deps,
      records: groups.records,
      groups: this.#groups(),
      lists,
      moderation,
      at: () => this.#at(),
    };
  }

  #at(): string {
    return new Date(this.#nowMs()).toISOString();
  }

  #nowMs(): number {
    return this.#deps.now?.() ?? Date.now();
  }
}
