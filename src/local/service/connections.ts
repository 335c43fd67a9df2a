/**
 * The registry of one wing's live connections: by id, by user (a user may hold several) and by group (of
 * connections and of users, a user's membership applying to all of the user's connections)
 * (docs/local-service.md, "Wings").
 */
import { Rejection } from './errors.js';

/** A message the REST API sends; each wing frames it for its clients. */
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
  /**
   * Closes the connection from the service side; the reason reaches the client and the upstream. With
   * `allowReconnect` a SignalR client is told it may reconnect (as the REST API's closes do).
   */
  close(code: number, reason: string, allowReconnect?: boolean): void;
}

/** The connections, users and groups of one hub. */
export class HubRegistry {
  readonly #connections = new Map<string, RegisteredConnection>();
  readonly #users = new Map<string, Set<RegisteredConnection>>();
  readonly #groupConnections = new Map<string, Set<string>>();
  /** Group → user → when the membership ends (epoch ms). */
  readonly #groupUsers = new Map<string, Map<string, number>>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

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

  /** Takes a connection out of a group; false when it was not in it. */
  removeConnectionFromGroup(group: string, connectionId: string): boolean {
    return removeFrom(this.#groupConnections, group, connectionId);
  }

  /** Takes a connection out of every group it was added to. */
  removeConnectionFromAllGroups(connectionId: string): void {
    for (const group of [...this.#groupConnections.keys()]) {
      removeFrom(this.#groupConnections, group, connectionId);
    }
  }

  /**
   * Adds a user to a group for `ttlSeconds` (Azure's rule): absent → {@link DEFAULT_USER_GROUP_TTL_SECONDS};
   * 0 → only the user's current connections join, as connections; otherwise the membership ends after that
   * many seconds.
   */
  addUserToGroup(group: string, userId: string, ttlSeconds?: number): void {
    if (ttlSeconds === 0) {
      for (const connection of this.userConnections(userId))
        addTo(this.#groupConnections, group, connection.id);
      return;
    }
    let users = this.#groupUsers.get(group);
    if (!users) {
      users = new Map();
      this.#groupUsers.set(group, users);
    }
    users.set(userId, this.#now() + (ttlSeconds ?? DEFAULT_USER_GROUP_TTL_SECONDS) * 1000);
  }

  /** Removes the user's membership and takes each of the user's connections out of the group. */
  removeUserFromGroup(group: string, userId: string): void {
    const users = this.#groupUsers.get(group);
    if (users?.delete(userId) && users.size === 0) this.#groupUsers.delete(group);
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
    if (this.#userMember(group, userId)) return true;
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
    for (const userId of [...(this.#groupUsers.get(group)?.keys() ?? [])]) {
      if (!this.#userMember(group, userId)) continue;
      for (const connection of this.userConnections(userId)) members.add(connection);
    }
    return members;
  }

  /** Whether the user's membership of the group is live; an expired one is dropped here. */
  #userMember(group: string, userId: string): boolean {
    const users = this.#groupUsers.get(group);
    const expiresAt = users?.get(userId);
    if (users === undefined || expiresAt === undefined) return false;
    if (expiresAt > this.#now()) return true;
    users.delete(userId);
    if (users.size === 0) this.#groupUsers.delete(group);
    return false;
  }

  /** The groups a connection is in, through its own membership or its user's. */
  groupsOf(connection: RegisteredConnection): string[] {
    const names = new Set([...this.#groupConnections.keys(), ...this.#groupUsers.keys()]);
    return [...names].filter((group) => this.groupMembers(group).has(connection));
  }

  /** A group exists while it has at least one live connection (as Azure reports it). */
  hasGroup(group: string): boolean {
    return this.groupMembers(group).size > 0;
  }
}

/** Registries of one wing, one per hub. Hub names compare case-insensitively, as in Azure. */
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

/** How long a user stays in a group added without `ttl`: Azure keeps it "for 1 year at most". */
export const DEFAULT_USER_GROUP_TTL_SECONDS = 365 * 24 * 60 * 60;

/**
 * Hub names as the REST specs (2020-10-01, 2022-06-01) and Azure's emulator define them: a letter, then
 * letters, digits or `` _`,.[] ``; 1 to 128 characters.
 */
export const HUB_NAME = /^[A-Za-z][A-Za-z0-9_`,.[\]]{0,127}$/;

/** Why a hub name is refused (the emulator's wording). */
export const INVALID_HUB_NAME =
  'Invalid hub name. Valid hub name should be in between 1 and 128 characters long. The first character must be a letter, other characters can be letters, digits or the following symbols _`,.[]';

/** Refuses a missing or malformed hub name with 400; `example` shows the caller where the name goes. */
export function checkHubName(hub: string | null | undefined, example: string): string {
  if (!hub || !HUB_NAME.test(hub)) {
    throw new Rejection('invalid-hub', `${INVALID_HUB_NAME}, e.g. ${example}`);
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

function removeFrom<K, V>(map: Map<K, Set<V>>, key: K, value: V): boolean {
  const set = map.get(key);
  const removed = set?.delete(value) ?? false;
  if (removed && set?.size === 0) map.delete(key);
  return removed;
}
