/**
 * Delivery of chat events through the service's REST API, to clients of both dialects.
 *
 * Decision: one hub serves both dialects, but the websocket-dialect REST prefix (`/ws/api/v1`) reaches only
 * raw clients and the signalr prefix (`/api/v1`) only hub-protocol clients. So every fan-out (all, group,
 * user) and every group-membership change goes through both prefixes, in parallel; each client receives
 * exactly one copy in its own framing. A reply to one connection uses only that connection's dialect.
 * Which prefixes exist is the setting `CHAT_DIALECTS`: `signalr` by default (Azure SignalR today has no
 * `/ws/api/v1`), `signalr,websocket` for the local service (npm start and the test stack set it).
 * A delivery that fails for one dialect is logged and does not fail the command: the message is already
 * stored, and the other dialect's clients still get it.
 */
import type { HubClient } from '../signalr/index.js';
import type { Dialect } from '../signalr/tokens.js';
import { type ChatEvent, toFrame, toInvocation } from './protocol.js';
import { toServiceUserId } from './user-id.js';

export interface FanoutClients {
  readonly signalr: HubClient<'signalr'>;
  readonly websocket: HubClient<'websocket'>;
}

/** Where failures are reported (an `InvocationContext`). */
export interface FanoutLog {
  warn(...args: unknown[]): void;
}

export class Fanout {
  readonly #clients: FanoutClients;
  readonly #dialects: readonly Dialect[];
  readonly #log: FanoutLog;

  constructor(clients: FanoutClients, dialects: readonly Dialect[], log: FanoutLog) {
    this.#clients = clients;
    this.#dialects = dialects;
    this.#log = log;
  }

  /** To every connection of the hub except `excluded`. */
  toAll(event: ChatEvent, excluded: readonly string[] = []): Promise<void> {
    const options = excluded.length > 0 ? { excluded } : {};
    return this.#each(`sendToAll ${event.event}`, {
      signalr: (c) => c.sendToAll(toInvocation(event), options),
      websocket: (c) => c.sendToAll(toFrame(event), options),
    });
  }

  /** To every connection in `group`. */
  toGroup(group: string, event: ChatEvent): Promise<void> {
    return this.#each(`sendToGroup ${event.event}`, {
      signalr: (c) => c.sendToGroup(group, toInvocation(event)),
      websocket: (c) => c.sendToGroup(group, toFrame(event)),
    });
  }

  /** To every connection of `user`, whatever its dialect. */
  toUser(user: string, event: ChatEvent): Promise<void> {
    const id = toServiceUserId(user);
    return this.#each(`sendToUser ${event.event}`, {
      signalr: (c) => c.sendToUser(id, toInvocation(event)),
      websocket: (c) => c.sendToUser(id, toFrame(event)),
    });
  }

  /** To one connection, in its own dialect. Failures propagate: the caller is answering that connection. */
  async toConnection(connectionId: string, dialect: Dialect, event: ChatEvent): Promise<void> {
    if (dialect === 'signalr')
      await this.#clients.signalr.sendToConnection(connectionId, toInvocation(event));
    else await this.#clients.websocket.sendToConnection(connectionId, toFrame(event));
  }

  /** Adds all of `user`'s connections, present and future, of every dialect, to `group`. */
  addUserToGroup(group: string, user: string): Promise<void> {
    const id = toServiceUserId(user);
    return this.#each('addUserToGroup', {
      signalr: (c) => c.addUserToGroup(group, id),
      websocket: (c) => c.addUserToGroup(group, id),
    });
  }

  removeUserFromGroup(group: string, user: string): Promise<void> {
    const id = toServiceUserId(user);
    return this.#each('removeUserFromGroup', {
      signalr: (c) => c.removeUserFromGroup(group, id),
      websocket: (c) => c.removeUserFromGroup(group, id),
    });
  }

  /** Whether the service has a connection of `user` in any dialect (a failed check counts as no). */
  async userExists(user: string): Promise<boolean> {
    const id = toServiceUserId(user);
    const answers = await Promise.allSettled(
      this.#dialects.map((d) =>
        d === 'signalr' ? this.#clients.signalr.userExists(id) : this.#clients.websocket.userExists(id),
      ),
    );
    return answers.some((a) => a.status === 'fulfilled' && a.value);
  }

  async #each(
    what: string,
    calls: {
      signalr: (client: HubClient<'signalr'>) => Promise<void>;
      websocket: (client: HubClient<'websocket'>) => Promise<void>;
    },
  ): Promise<void> {
    const results = await Promise.allSettled(
      this.#dialects.map((d) =>
        d === 'signalr' ? calls.signalr(this.#clients.signalr) : calls.websocket(this.#clients.websocket),
      ),
    );
    results.forEach((result, i) => {
      if (result.status === 'rejected') {
        this.#log.warn(`${what} (${this.#dialects[i]} dialect) failed: ${(result.reason as Error)?.message}`);
      }
    });
  }
}
