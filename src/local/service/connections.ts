/**
 * The registry of live connections of one dialect: connections by id, users (a user may hold several
 * connections) and groups. A group holds connections directly (add connection to group) and users (add user
 * to group); a user's membership applies to all of the user's connections, present and future, until the
 * user is removed from the group.
 */
import { Rejection } from './errors.js';

/** A message the REST API sends; each dialect frames it for its clients. */
export type OutboundMessage =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'binary'; readonly data: Buffer }
  | { readonly kind: 'invocation'; readonly target: string; readonly arguments: readonly unknown[] };

/** A connection as the registry sees it. */
export interface RegisteredConnection {
  readonly id: string;
  readonly hub: string;
  readonly userId: string | undefined;
  /** Queues a message to the client (a slow consumer is closed instead of buffered without bound). */
  deliver(message: OutboundMessage): void;
  /** Closes the connection from the service side; the reason reaches the client and the upstream. */
  close(code: number, reason: string): void;
}

/** The connections, users and groups of one hub. */
export class HubRegistry {
  readonly #connections = new Map<string, RegisteredConnection>();
  readonly #users = new Map<string, Set<RegisteredConnection>>();
  readonly #groupConnections = new Map<string, Set<string>>();
  readonly #groupUsers = new Map<string, Set<string>>();

  add(connection: RegisteredConnection): void {
    this.#connections.set(connection.id, connection);
    if (connection.userId !== undefined) addTo(this.#users, connection.userId, connection);
  }

  remove(connection: RegisteredConnection): void {
    if (this.#connections.get(connection.id) !== connection) return;
    this.#connections.delete(connection.id);
    if (connection.userId !== undefined) removeFrom(this.#users, connection.userId, connection);
    for (const [group, members] of this.#groupConnections) {
      if (members.delete(connection.id) && members.size === 0) this.#groupConnections.delete(group);
    }
  }

  connection(id: string): RegisteredConnection | undefined {
    return this.#connections.get(id);
  }

  all(): IterableIterator<RegisteredConnection> {
    return this.#connections.values();
  }

  userConnections(userId: string): ReadonlySet<RegisteredConnection> {
    return this.#users.get(userId) ?? new Set();
  }

  hasUser(userId: string): boolean {
    return this.#users.has(userId);
  }

  /** Adds a live connection to a group; false when the connection does not exist. */
  addConnectionToGroup(group: string, connectionId: string): boolean {
    if (!this.#connections.has(connectionId)) return false;
    addTo(this.#groupConnections, group, connectionId);
    return true;
  }

  removeConnectionFromGroup(group: string, connectionId: string): void {
    removeFrom(this.#groupConnections, group, connectionId);
  }

  addUserToGroup(group: string, userId: string): void {
    addTo(this.#groupUsers, group, userId);
  }

  /** Removes the user's membership and takes each of the user's connections out of the group. */
  removeUserFromGroup(group: string, userId: string): void {
    removeFrom(this.#groupUsers, group, userId);
    for (const connection of this.userConnections(userId)) {
      removeFrom(this.#groupConnections, group, connection.id);
    }
  }

  removeUserFromAllGroups(userId: string): void {
    for (const group of [...this.#groupUsers.keys(), ...this.#groupConnections.keys()]) {
      this.removeUserFromGroup(group, userId);
    }
  }

  /** Whether the user is in the group (as a user, or through one of the user's connections). */
  isUserInGroup(group: string, userId: string): boolean {
    if (this.#groupUsers.get(group)?.has(userId)) return true;
    const members = this.#groupConnections.get(group);
    if (!members) return false;
    for (const connection of this.userConnections(userId)) if (members.has(connection.id)) return true;
    return false;
  }

  /** The live connections of a group: its own connections plus every connection of its users. */
  groupMembers(group: string): Set<RegisteredConnection> {
    const members = new Set<RegisteredConnection>();
    for (const id of this.#groupConnections.get(group) ?? []) {
      const connection = this.#connections.get(id);
      if (connection) members.add(connection);
    }
    for (const userId of this.#groupUsers.get(group) ?? []) {
      for (const connection of this.userConnections(userId)) members.add(connection);
    }
    return members;
  }

  /** A group exists while it has at least one live connection (as Azure reports it). */
  hasGroup(group: string): boolean {
    return this.groupMembers(group).size > 0;
  }
}

/** Registries of one dialect, one per hub. Hub names compare case-insensitively, as in Azure. */
export class ConnectionRegistry {
  readonly #hubs = new Map<string, HubRegistry>();

  hub(name: string): HubRegistry {
    const key = name.toLowerCase();
    let registry = this.#hubs.get(key);
    if (!registry) {
      registry = new HubRegistry();
      this.#hubs.set(key, registry);
    }
    return registry;
  }
}

/** Hub names: a letter, then letters, digits or underscores; at most 128 characters. */
export const HUB_NAME = /^[A-Za-z][A-Za-z0-9_]{0,127}$/;

/** Refuses a missing or malformed hub name with 400; `example` shows the caller where the name goes. */
export function checkHubName(hub: string | null | undefined, example: string): string {
  if (!hub || !HUB_NAME.test(hub)) {
    throw new Rejection(
      'invalid-hub',
      `Invalid hub name: use a letter, then letters, digits or underscores (at most 128), e.g. ${example}`,
    );
  }
  return hub;
}

function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  set.add(value);
}

function removeFrom<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (set?.delete(value) && set.size === 0) map.delete(key);
}
