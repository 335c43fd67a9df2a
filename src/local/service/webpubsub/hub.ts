/**
 * The Web PubSub wing's hub state: every hub's connections, by id, by user and by group, and each
 * connection's permissions (Azure's role strings). The client endpoint adds and removes connections; the
 * REST API and the subprotocol messages read and change membership and permissions through
 * {@link WebPubSubHubs} (docs/local-service.md, "The Web PubSub wing").
 */

/** A server message as REST delivered it, or a group message as a client or REST sent it. */
export type WebPubSubOutbound =
  | { dataType: 'text' | 'json' | 'binary'; data: Buffer; from: 'server' }
  | { from: 'group'; group: string; dataType: 'text' | 'json' | 'binary'; data: Buffer; fromUserId?: string };

/** One Web PubSub client connection, as the hub state sees it. */
export interface WebPubSubConnection {
  readonly connectionId: string;
  readonly hub: string;
  readonly userId: string | undefined;
  readonly groups: ReadonlySet<string>;
  /** e.g. 'webpubsub.sendToGroup', 'webpubsub.joinLeaveGroup.<group>' (Azure's role strings). */
  readonly roles: ReadonlySet<string>;
  /**
   * Sends a server or group message ('text' | 'json' | 'binary' data, as REST delivered it) in this
   * connection's subprotocol framing. One message object sent to many connections is framed once.
   */
  sendMessage(message: WebPubSubOutbound): void;
  /** Closes the connection (REST close, removal), with Azure's close code/reason. */
  closeConnection(reason?: string): void;
}

/** The two permissions Azure grants per connection, optionally scoped to one group. */
export type WebPubSubPermission = 'joinLeaveGroup' | 'sendToGroup';

export interface WebPubSubHubs {
  connection(hub: string, connectionId: string): WebPubSubConnection | undefined;
  connections(hub: string): Iterable<WebPubSubConnection>;
  userConnections(hub: string, userId: string): Iterable<WebPubSubConnection>;
  groupConnections(hub: string, group: string): Iterable<WebPubSubConnection>;
  /** False: no such connection. */
  addToGroup(hub: string, connectionId: string, group: string): boolean;
  /** False: no such connection. */
  removeFromGroup(hub: string, connectionId: string, group: string): boolean;
  /** Azure: applies to the user's current connections. */
  addUserToGroup(hub: string, userId: string, group: string): void;
  /** No group: from all groups. */
  removeUserFromGroup(hub: string, userId: string, group?: string): void;
  /** False: no such connection. */
  grant(hub: string, connectionId: string, permission: WebPubSubPermission, group?: string): boolean;
  /** False: no such connection. */
  revoke(hub: string, connectionId: string, permission: WebPubSubPermission, group?: string): boolean;
  has(hub: string, connectionId: string, permission: WebPubSubPermission, group?: string): boolean;
}

/**
 * A connection the wing registers: the hub state owns its `groups` and `roles` and changes them, so the
 * connection always reads its current membership. Start them with {@link memberSet}.
 */
export interface MemberConnection extends WebPubSubConnection {
  groups: ReadonlySet<string>;
  roles: ReadonlySet<string>;
}

/** The groups or roles of a connection that has none: one empty set shared by all of them, never changed. */
const NONE: ReadonlySet<string> = new Set();

/** The start of a connection's groups or roles: without any, the shared empty set (an idle connection's). */
export function memberSet(values: readonly string[]): ReadonlySet<string> {
  return values.length === 0 ? NONE : new Set(values);
}

/** `set` with `value`: a set of the hub state's own is changed in place, an empty one replaced. */
function withValue(set: ReadonlySet<string>, value: string): ReadonlySet<string> {
  if (set.size === 0) return new Set([value]); // never adds to NONE
  (set as Set<string>).add(value); // not NONE: made here or by memberSet, so a Set
  return set;
}

/** `set` without `value` (the shared empty set once nothing is left). */
function withoutValue(set: ReadonlySet<string>, value: string): ReadonlySet<string> {
  if (!set.has(value)) return set;
  if (set.size === 1) return NONE;
  (set as Set<string>).delete(value);
  return set;
}

/** Azure's role string of a permission: `webpubsub.<permission>` or `webpubsub.<permission>.<group>`. */
export function roleOf(permission: WebPubSubPermission, group?: string): string {
  return group === undefined ? `webpubsub.${permission}` : `webpubsub.${permission}.${group}`;
}

/**
 * Whether a set of roles allows a permission on a group: the unscoped role allows every group, a scoped one
 * only its group. Without a group only the unscoped role counts.
 */
export function allows(roles: ReadonlySet<string>, permission: WebPubSubPermission, group?: string): boolean {
  if (roles.has(roleOf(permission))) return true;
  return group !== undefined && roles.has(roleOf(permission, group));
}

/** One hub's connections and groups. */
class Hub {
  readonly connections = new Map<string, MemberConnection>();
  readonly users = new Map<string, Set<MemberConnection>>();
  readonly groups = new Map<string, Set<MemberConnection>>();

  join(connection: MemberConnection, group: string): void {
    connection.groups = withValue(connection.groups, group);
    let members = this.groups.get(group);
    if (!members) {
      members = new Set();
      this.groups.set(group, members);
    }
    members.add(connection);
  }

  leave(connection: MemberConnection, group: string): void {
    connection.groups = withoutValue(connection.groups, group);
    const members = this.groups.get(group);
    if (members?.delete(connection) && members.size === 0) this.groups.delete(group);
  }
}

/**
 * The state of every hub of the wing. Hub names compare case-insensitively, as in Azure; group names and
 * user ids are case-sensitive.
 */
export class WebPubSubHubState implements WebPubSubHubs {
  readonly #hubs = new Map<string, Hub>();

  #hub(name: string): Hub | undefined {
    return this.#hubs.get(name.toLowerCase());
  }

  /** Registers a connection once its `connect` is accepted; its initial groups are indexed too. */
  add(connection: MemberConnection): void {
    const key = connection.hub.toLowerCase();
    let hub = this.#hubs.get(key);
    if (!hub) {
      hub = new Hub();
      this.#hubs.set(key, hub);
    }
    hub.connections.set(connection.connectionId, connection);
    if (connection.userId !== undefined) {
      let mine = hub.users.get(connection.userId);
      if (!mine) {
        mine = new Set();
        hub.users.set(connection.userId, mine);
      }
      mine.add(connection);
    }
    for (const group of [...connection.groups]) hub.join(connection, group);
  }

  /** Forgets a connection (it left every group); a no-op for one registered under a newer object. */
  remove(connection: MemberConnection): void {
    const key = connection.hub.toLowerCase();
    const hub = this.#hubs.get(key);
    if (!hub || hub.connections.get(connection.connectionId) !== connection) return;
    hub.connections.delete(connection.connectionId);
    for (const group of [...connection.groups]) hub.leave(connection, group);
    if (connection.userId !== undefined) {
      const mine = hub.users.get(connection.userId);
      if (mine?.delete(connection) && mine.size === 0) hub.users.delete(connection.userId);
    }
    if (hub.connections.size === 0) this.#hubs.delete(key);
  }

  connection(hub: string, connectionId: string): MemberConnection | undefined {
    return this.#hub(hub)?.connections.get(connectionId);
  }

  connections(hub: string): Iterable<MemberConnection> {
    return [...(this.#hub(hub)?.connections.values() ?? [])];
  }

  userConnections(hub: string, userId: string): Iterable<MemberConnection> {
    return [...(this.#hub(hub)?.users.get(userId) ?? [])];
  }

  groupConnections(hub: string, group: string): Iterable<MemberConnection> {
    return [...(this.#hub(hub)?.groups.get(group) ?? [])];
  }

  addToGroup(hub: string, connectionId: string, group: string): boolean {
    const state = this.#hub(hub);
    const connection = state?.connections.get(connectionId);
    if (!state || !connection) return false;
    state.join(connection, group);
    return true;
  }

  removeFromGroup(hub: string, connectionId: string, group: string): boolean {
    const state = this.#hub(hub);
    const connection = state?.connections.get(connectionId);
    if (!state || !connection) return false;
    state.leave(connection, group);
    return true;
  }

  addUserToGroup(hub: string, userId: string, group: string): void {
    const state = this.#hub(hub);
    for (const connection of state?.users.get(userId) ?? []) state?.join(connection, group);
  }

  removeUserFromGroup(hub: string, userId: string, group?: string): void {
    const state = this.#hub(hub);
    if (!state) return;
    for (const connection of state.users.get(userId) ?? []) {
      for (const joined of group === undefined ? [...connection.groups] : [group])
        state.leave(connection, joined);
    }
  }

  grant(hub: string, connectionId: string, permission: WebPubSubPermission, group?: string): boolean {
    const connection = this.connection(hub, connectionId);
    if (connection) connection.roles = withValue(connection.roles, roleOf(permission, group));
    return connection !== undefined;
  }

  revoke(hub: string, connectionId: string, permission: WebPubSubPermission, group?: string): boolean {
    const connection = this.connection(hub, connectionId);
    if (connection) connection.roles = withoutValue(connection.roles, roleOf(permission, group));
    return connection !== undefined;
  }

  has(hub: string, connectionId: string, permission: WebPubSubPermission, group?: string): boolean {
    const connection = this.connection(hub, connectionId);
    return connection !== undefined && allows(connection.roles, permission, group);
  }
}
