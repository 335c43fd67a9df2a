/**
 * Delivery of chat events through the REST API of the service of every dialect in `CHAT_DIALECTS` (Azure
 * SignalR for `signalr`, Azure Web PubSub for `websocket`), so each client gets one copy in its own framing
 * (docs/architecture.md, "Two services").
 */

import type { ChatMessage } from '../history/index.js';
import {
  ATTRIBUTES,
  chatMetrics,
  countFailure,
  errorType,
  inSpan,
  markFailed,
  SPANS,
} from '../observability.js';
import type { Dialect, HubClient } from '../signalr/index.js';
import { APPLIED_MARK_GROUP } from './groups/memberships.js';
import type { Caller } from './people/caller.js';
import { toServiceUserId } from './people/user-id.js';
import { type ChatChannel, signalrChannel } from './wire/codec.js';
import type { ChatEvent } from './wire/protocol.js';

/**
 * Azure SignalR's REST client (the signalr dialect), and with `REALTIME_SERVICE=webpubsub` the Web PubSub
 * channel (the websocket dialect); `dialects` says which ones fan-out uses.
 */
export interface FanoutClients {
  readonly signalr: HubClient;
  readonly webPubSubChannel?: ChatChannel | undefined;
}

/**
 * The group calls of one connection's entry, bound to its user and connection (docs/architecture.md,
 * "Presence and group memberships"): the user's memberships where its service keeps them for later
 * connections (`user`: SignalR), else the connection's own (`connection`: Web PubSub): `GroupReach` in
 * wire/codec.ts.
 */
export type EntryGroups =
  | {
      readonly kind: 'user';
      /** Whether the user is in `group`. */
      has(group: string): Promise<boolean>;
      add(group: string, options?: { ttlSeconds?: number }): Promise<void>;
      remove(group: string): Promise<void>;
    }
  | {
      readonly kind: 'connection';
      /** The connection into every group of `groups` (at least one), in one call. */
      add(groups: readonly string[]): Promise<void>;
      /** The connection out of every group of `groups` (at least one), in one call. */
      remove(groups: readonly string[]): Promise<void>;
    };

/** Where failures are reported (an `InvocationContext`). */
export interface FanoutLog {
  warn(...args: unknown[]): void;
}

export class Fanout {
  /** The channel of every configured dialect: each fan-out goes through all of them. */
  readonly #channels: readonly ChatChannel[];
  readonly #clients: FanoutClients;
  readonly #log: FanoutLog;

  constructor(clients: FanoutClients, dialects: readonly Dialect[], log: FanoutLog) {
    this.#clients = clients;
    this.#channels = dialects.map((dialect) => this.channel(dialect));
    this.#log = log;
  }

  /** To every connection of the hub except `excluded`. */
  toAll(event: ChatEvent, excluded: readonly string[] = []): Promise<void> {
    const options = excluded.length > 0 ? { excluded } : {};
    return this.#each(`sendToAll ${event.event}`, (c) => c.sendToAll(event, options));
  }

  /** To every connection in `group`. */
  toGroup(group: string, event: ChatEvent): Promise<void> {
    return this.#each(`sendToGroup ${event.event}`, (c) => c.sendToGroup(group, event));
  }

  /** To every connection of `user`, whatever its dialect. */
  toUser(user: string, event: ChatEvent): Promise<void> {
    const id = toServiceUserId(user);
    return this.#each(`sendToUser ${event.event}`, (c) => c.sendToUser(id, event));
  }

  /**
   * The channel of one connection's dialect, for replies to that connection alone (whether or not the
   * dialect is one fan-out uses). Failures of its sends propagate: the caller is answering that connection.
   */
  channel(dialect: Dialect): ChatChannel {
    if (dialect === 'signalr') return signalrChannel(this.#clients.signalr);
    const { webPubSubChannel } = this.#clients;
    if (!webPubSubChannel) {
      throw new Error('The websocket dialect goes through Azure Web PubSub, and none is configured');
    }
    return webPubSubChannel;
  }

  /**
   * Adds all of `user`'s connections of every dialect to `group`: later ones too where the service keeps
   * memberships (SignalR). Where such an add fails, the user's mark of applied memberships goes too, so their
   * next entry applies them all again (`enterGroups` in groups/memberships.ts).
   */
  addUserToGroup(group: string, user: string): Promise<void> {
    const id = toServiceUserId(user);
    return this.#each('addUserToGroup', (c) =>
      c.addUserToGroup(group, id).catch(async (error: unknown) => {
        if (c.memberships.kind === 'user') {
          await c.memberships.removeUserFromGroup(APPLIED_MARK_GROUP, id).catch(() => undefined);
        }
        throw error;
      }),
    );
  }

  removeUserFromGroup(group: string, user: string): Promise<void> {
    const id = toServiceUserId(user);
    return this.#each('removeUserFromGroup', (c) => c.removeUserFromGroup(group, id));
  }

  /**
   * The group calls of the service of `caller`'s own connection, bound to its user and connection, for the
   * connection's entry (`enterGroups` in groups/memberships.ts); `undefined` when fan-out does not go through
   * that dialect (its connections are sent nothing of a group). Each call is counted and a failure logged, as
   * fan-out's are, and then thrown: the entry needs to know whether its groups were applied.
   */
  entryGroups(caller: Pick<Caller, 'user' | 'connectionId' | 'dialect'>): EntryGroups | undefined {
    const channel = this.#channels.find((c) => c.dialect === caller.dialect);
    if (channel === undefined) return undefined;
    const id = toServiceUserId(caller.user);
    const { connectionId } = caller;
    const reach = channel.memberships;
    const call = <T>(operation: string, run: () => Promise<T>) => this.#one(channel, operation, run);
    if (reach.kind === 'connection') {
      return {
        kind: 'connection',
        add: (groups) =>
          call('addConnectionsToGroups', () => reach.addConnectionToGroups(groups, connectionId)),
        remove: (groups) =>
          call('removeConnectionsFromGroups', () => reach.removeConnectionFromGroups(groups, connectionId)),
      };
    }
    return {
      kind: 'user',
      has: (group) => call('isUserInGroup', () => reach.isUserInGroup(group, id)),
      add: (group, options) => call('addUserToGroup', () => reach.addUserToGroup(group, id, options)),
      remove: (group) => call('removeUserFromGroup', () => reach.removeUserFromGroup(group, id)),
    };
  }

  /** Whether the service has a connection of `user` in any dialect (a failed check counts as no). */
  async userExists(user: string): Promise<boolean> {
    const id = toServiceUserId(user);
    const answers = await Promise.allSettled(this.#channels.map((c) => c.userExists(id)));
    return answers.some((a) => a.status === 'fulfilled' && a.value);
  }

  /** One REST call to one dialect's service, in a `fanout <operation>` span and counted; a failure is logged and thrown. */
  #one<T>(channel: ChatChannel, operation: string, run: () => Promise<T>): Promise<T> {
    const { dialect } = channel;
    return inSpan(
      `${SPANS.fanout} ${operation}`,
      { [ATTRIBUTES.operation]: operation, [ATTRIBUTES.dialects]: [dialect] },
      async (span) => {
        try {
          const result = await run();
          chatMetrics().deliveries.add(1, {
            [ATTRIBUTES.operation]: operation,
            [ATTRIBUTES.dialect]: dialect,
            [ATTRIBUTES.outcome]: 'ok',
          });
          return result;
        } catch (error) {
          chatMetrics().deliveries.add(1, {
            [ATTRIBUTES.operation]: operation,
            [ATTRIBUTES.dialect]: dialect,
            [ATTRIBUTES.outcome]: 'failed',
          });
          countFailure('delivery', errorType(error));
          this.#log.warn(`${operation} (${dialect} dialect) failed: ${(error as Error)?.message}`);
          span.setAttribute(ATTRIBUTES.failedDialects, [dialect]);
          markFailed(span, 'delivery-failed');
          throw error;
        }
      },
    );
  }

  /** One REST call per dialect, in one `fanout <operation>` span; each call is counted as a delivery. */
  #each(what: string, call: (channel: ChatChannel) => Promise<void>): Promise<void> {
    const operation = what.split(' ', 1)[0] ?? what;
    const channels = this.#channels;
    return inSpan(
      `${SPANS.fanout} ${operation}`,
      { [ATTRIBUTES.operation]: operation, [ATTRIBUTES.dialects]: channels.map((c) => c.dialect) },
      async (span) => {
        const results = await Promise.allSettled(channels.map(call));
        const { deliveries } = chatMetrics();
        const failed: string[] = [];
        results.forEach((result, i) => {
          const dialect = channels[i]?.dialect ?? 'unknown';
          const ok = result.status === 'fulfilled';
          deliveries.add(1, {
            [ATTRIBUTES.operation]: operation,
            [ATTRIBUTES.dialect]: dialect,
            [ATTRIBUTES.outcome]: ok ? 'ok' : 'failed',
          });
          if (result.status === 'rejected') {
            failed.push(dialect);
            countFailure('delivery', errorType(result.reason));
            this.#log.warn(`${what} (${dialect} dialect) failed: ${(result.reason as Error)?.message}`);
          }
        });
        // A failed dialect does not fail the fan-out (see above), but its span says so.
        if (failed.length > 0) {
          span.setAttribute(ATTRIBUTES.failedDialects, failed);
          markFailed(span, 'delivery-failed');
        }
      },
    );
  }
}

/** Delivers a stored message or record to its conversation: its group, its two users, or everyone. */
export async function deliverMessage(fanout: Fanout, caller: Caller, message: ChatMessage): Promise<void> {
  const event: ChatEvent = { event: 'message', payload: message };
  if (message.group !== undefined) await fanout.toGroup(message.group, event);
  else if (message.to !== undefined) {
    const other = message.to === caller.user ? message.from : message.to;
    await Promise.all([
      fanout.toUser(other, event),
      other !== caller.user ? fanout.toUser(caller.user, event) : undefined,
    ]);
  } else await fanout.toAll(event);
}
