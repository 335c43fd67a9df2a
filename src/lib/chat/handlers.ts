/**
 * The chat's logic, independent of the wire: what happens when a connection enters, sends a command or
 * leaves. The upstream adapter (src/app/upstream-adapter.ts) turns upstream events of both dialects into these calls and
 * their results into the dialect's answer. The user always comes from the service (the token's `nameid`,
 * `X-ASRS-User-Id`), never from a command.
 */

import {
  DEFAULT_HISTORY_LIMIT,
  directConversation,
  groupConversation,
  parseConversation,
  ROOM,
} from '../conversation.js';
import { HistoryError } from '../history/errors.js';
import type { AppendResult, HistoryPage, NewMessage } from '../history/message.js';
import type { Dialect } from '../upstream/contract.js';
import type { ChatCommand } from './commands.js';
import type { UserDirectory } from './directory.js';
import { ChatCommandError, chatError } from './errors.js';
import type { Fanout } from './fanout.js';
import type { MembershipStore } from './memberships.js';
import type { PresenceStore } from './presence.js';
import type { ChatEvent, WelcomePayload } from './protocol.js';

/** What the chat needs of the history store (src/lib/history). */
export interface ChatHistory {
  append(message: NewMessage): Promise<AppendResult>;
  read(conversation: string, options: { before?: string; limit: number }): Promise<HistoryPage>;
}

export interface ChatDependencies {
  readonly history: ChatHistory;
  readonly presence: PresenceStore;
  readonly members: MembershipStore;
  readonly fanout: Fanout;
  /** Display names of signed-in users, for presence lists; without it lists carry ids only. */
  readonly directory?: Pick<UserDirectory, 'namesOf'>;
  /** The clock, for tests. */
  readonly now?: () => number;
}

/** One connection of one user. */
export interface Caller {
  /** The user id, as the service names the connection (`X-ASRS-User-Id`). */
  readonly user: string;
  /** The display name, when it differs from the id (signed-in users). */
  readonly name?: string;
  readonly connectionId: string;
  readonly dialect: Dialect;
}

export class ChatHandlers {
  readonly #deps: ChatDependencies;

  constructor(deps: ChatDependencies) {
    this.#deps = deps;
  }

  /**
   * A connection enters: its groups are re-applied in the service, its presence recorded, and everyone else
   * hears `system joined` (for the user's first connection) and a fresh `presence`. Returns the `welcome`.
   */
  async enter(caller: Caller): Promise<WelcomePayload> {
    const { history, presence, fanout } = this.#deps;
    // The four are independent, so they run at once: a join costs the slowest of them, not their sum. The
    // listing may or may not see the caller's own new entry; `include` counts the caller either way.
    const [groups, { firstConnection }, online, page] = await Promise.all([
      this.#reapplyGroups(caller.user),
      presence.enter(caller.user, caller.connectionId),
      presence.online((u) => fanout.userExists(u), caller.user),
      history.read(ROOM, { limit: DEFAULT_HISTORY_LIMIT }),
    ]);
    const excluded = [caller.connectionId];
    const names = await this.#namesOf(online);
    if (caller.name !== undefined) names.names = { ...names.names, [caller.user]: caller.name };
    if (firstConnection) {
      await fanout.toAll(
        {
          event: 'system',
          payload: { kind: 'joined', user: caller.user, ...nameOf(caller), at: this.#at() },
        },
        excluded,
      );
    }
    await fanout.toAll({ event: 'presence', payload: { online, ...names } }, excluded);
    return { user: caller.user, ...nameOf(caller), online, ...names, groups, history: page };
  }

  /** `{ names }` for the listed users who have a display name, or nothing. */
  async #namesOf(users: readonly string[]): Promise<{ names?: Record<string, string> }> {
    const { directory } = this.#deps;
    if (directory === undefined || users.length === 0) return {};
    const names = await directory.namesOf(users);
    return Object.keys(names).length > 0 ? { names } : {};
  }

  /** The user's groups, each re-applied in the service (it forgets memberships when it restarts; this heals that). */
  async #reapplyGroups(user: string): Promise<string[]> {
    const { members, fanout } = this.#deps;
    const groups = await members.groupsOf(user);
    await Promise.all(groups.map((group) => fanout.addUserToGroup(group, user)));
    return groups;
  }

  /** A connection left: when it was the user's last, everyone hears `system left` and a fresh `presence`. */
  async leave(caller: Caller): Promise<void> {
    const { presence, fanout } = this.#deps;
    const { lastConnection } = await presence.leave(caller.user, caller.connectionId);
    if (!lastConnection) return;
    await fanout.toAll({
      event: 'system',
      payload: { kind: 'left', user: caller.user, ...nameOf(caller), at: this.#at() },
    });
    // The user's entries are gone, so the listing leaves them out (unless they reconnected meanwhile: then they count).
    const online = await presence.online((u) => fanout.userExists(u));
    await fanout.toAll({ event: 'presence', payload: { online, ...(await this.#namesOf(online)) } });
  }

  /**
   * Runs a validated command. Returns the event for the sender alone (`ack`, `history`, `error`), or
   * `undefined` when everything the sender needs arrives through the fan-out. Throws {@link ChatCommandError}
   * for a failure the sender should hear by its code, anything else for an unexpected one.
   */
  async run(caller: Caller, command: ChatCommand): Promise<ChatEvent | undefined> {
    switch (command.type) {
      case 'sendMessage':
        return this.#sendMessage(caller, command);
      case 'loadHistory':
        return this.#loadHistory(caller, command);
      case 'joinGroup':
        return this.#joinGroup(caller, command.group);
      case 'leaveGroup':
        return this.#leaveGroup(caller, command.group);
    }
  }

  /**
   * Stores the message, then delivers it, then acknowledges it to the sender with an `ack` (docs/architecture.md,
   * "The chat protocol"). Nothing is delivered before it is stored: when the store fails the sender gets
   * `storage-unavailable` and nobody sees the message. A retry of a message already stored (same sender and
   * `clientMessageId`) is delivered again and acknowledged again: the first delivery may have been cut short by
   * a crash between the store and the fan-out, and receivers merge by message id.
   */
  async #sendMessage(
    caller: Caller,
    command: Extract<ChatCommand, { type: 'sendMessage' }>,
  ): Promise<ChatEvent | undefined> {
    const { history, members, fanout } = this.#deps;
    const { text, group, to, clientMessageId } = command;
    if (group !== undefined && !(await members.isMember(caller.user, group))) {
      return {
        event: 'error',
        payload: {
          ...chatError('not-a-member', command.type, `group "${group}"`),
          ...(clientMessageId !== undefined ? { clientMessageId } : {}),
        },
      };
    }
    const conversation =
      group !== undefined
        ? groupConversation(group)
        : to !== undefined
          ? directConversation(caller.user, to)
          : ROOM;
    let stored: AppendResult;
    try {
      stored = await history.append({
        conversation,
        from: caller.user,
        ...(caller.name !== undefined ? { fromName: caller.name } : {}),
        text,
        ...(group !== undefined ? { group } : {}),
        ...(to !== undefined ? { to } : {}),
        ...(clientMessageId !== undefined ? { clientMessageId } : {}),
      });
    } catch (error) {
      // The store refusing the message (bad input it caught) is not an outage: only the rest is worth a resend.
      if (error instanceof HistoryError) throw error;
      throw new ChatCommandError('storage-unavailable', error);
    }
    const { message } = stored;
    const event: ChatEvent = { event: 'message', payload: message };
    if (group !== undefined) await fanout.toGroup(group, event);
    else if (to !== undefined) {
      await Promise.all([
        fanout.toUser(to, event),
        to !== caller.user ? fanout.toUser(caller.user, event) : undefined,
      ]);
    } else await fanout.toAll(event);
    return {
      event: 'ack',
      payload: { ...(clientMessageId !== undefined ? { clientMessageId } : {}), message },
    };
  }

  async #loadHistory(
    caller: Caller,
    command: Extract<ChatCommand, { type: 'loadHistory' }>,
  ): Promise<ChatEvent> {
    const { history, members } = this.#deps;
    const conversation = parseConversation(command.conversation);
    if (conversation === undefined)
      return { event: 'error', payload: chatError('invalid-conversation', command.type) };
    if (conversation.kind === 'group' && !(await members.isMember(caller.user, conversation.group))) {
      return {
        event: 'error',
        payload: chatError('not-a-member', command.type, `group "${conversation.group}"`),
      };
    }
    if (conversation.kind === 'dm' && !conversation.users.includes(caller.user)) {
      return { event: 'error', payload: chatError('forbidden-conversation', command.type) };
    }
    const page = await history.read(command.conversation, {
      limit: command.limit,
      ...(command.before !== undefined ? { before: command.before } : {}),
    });
    return { event: 'history', payload: page };
  }

  async #joinGroup(caller: Caller, group: string): Promise<undefined> {
    const { members, fanout } = this.#deps;
    await members.add(caller.user, group);
    await fanout.addUserToGroup(group, caller.user);
    // Sent after the join, so the joiner's own connections (now members) hear it too.
    await fanout.toGroup(group, {
      event: 'system',
      payload: { kind: 'groupJoined', user: caller.user, ...nameOf(caller), group, at: this.#at() },
    });
    return undefined;
  }

  async #leaveGroup(caller: Caller, group: string): Promise<undefined> {
    const { members, fanout } = this.#deps;
    if (!(await members.isMember(caller.user, group))) return undefined;
    // Sent before the leave, so the leaver's own connections hear it too.
    await fanout.toGroup(group, {
      event: 'system',
      payload: { kind: 'groupLeft', user: caller.user, ...nameOf(caller), group, at: this.#at() },
    });
    await members.remove(caller.user, group);
    await fanout.removeUserFromGroup(group, caller.user);
    return undefined;
  }

  #at(): string {
    return new Date(this.#deps.now?.() ?? Date.now()).toISOString();
  }
}

/** `{ name }` when the caller has a display name other than its id, else nothing. */
function nameOf(caller: Caller): { name?: string } {
  return caller.name !== undefined && caller.name !== caller.user ? { name: caller.name } : {};
}
