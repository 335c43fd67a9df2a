/**
 * How each dialect carries a chat event (docs/architecture.md, "Two services"), one codec per dialect, and
 * the chat's way out through Azure SignalR's REST client. The dialect is chosen once, where a connection or a
 * delivery is known, by picking its codec (or channel); nothing downstream asks which dialect it is.
 *
 * - signalr: an Invocation whose target is the event name and whose one argument is the payload.
 * - websocket: a text frame `{"type": "<event>", …payload}` (Azure Web PubSub's channel, webpubsub-channel.ts).
 */
import type { Dialect, HubClient, InvocationPayload, SendToAllOptions } from '../../signalr/index.js';
import type { ChatEvent } from './protocol.js';

/** Turns a chat event into the message one dialect sends. */
export interface ChatCodec<D extends Dialect, M> {
  readonly dialect: D;
  encode(event: ChatEvent): M;
}

export const signalrCodec: ChatCodec<'signalr', InvocationPayload> = {
  dialect: 'signalr',
  encode: (event) => ({ target: event.event, arguments: [event.payload] }),
};

export const websocketCodec: ChatCodec<'websocket', string> = {
  dialect: 'websocket',
  // `type` comes last so a payload can never override it.
  encode: (event) => JSON.stringify({ ...event.payload, type: event.event }),
};

/**
 * How a connection a user opens later comes to be in the user's groups, which decides what the entry of a
 * connection does (docs/architecture.md, "Presence and group memberships"):
 *
 * - `user`: the service keeps a user's memberships for the user's later connections. Azure SignalR's "add user
 *   to group" does, for its `ttl` or at most a year (the REST specs' `ttl`). An entry only checks that they are
 *   still there; the local service forgets them when it restarts.
 * - `connection`: it does not. Azure Web PubSub's "add user to group" adds the connections the user has then,
 *   and a later one joins no group by it. An entry puts its own connection in its groups, in one call
 *   (`:addToGroups` with a filter naming the connection).
 */
export type GroupReach = UserGroupReach | ConnectionGroupReach;

export interface UserGroupReach {
  readonly kind: 'user';
  isUserInGroup(group: string, userId: string): Promise<boolean>;
  /** `ttlSeconds`: how long the membership lasts; absent, {@link USER_GROUP_TTL_SECONDS}. */
  addUserToGroup(group: string, userId: string, options?: { ttlSeconds?: number }): Promise<void>;
  removeUserFromGroup(group: string, userId: string): Promise<void>;
}

export interface ConnectionGroupReach {
  readonly kind: 'connection';
  /** Puts one connection in every group of `groups` (at least one) with one call. */
  addConnectionToGroups(groups: readonly string[], connectionId: string): Promise<void>;
  /** Takes one connection out of every group of `groups` (at least one) with one call. */
  removeConnectionFromGroups(groups: readonly string[], connectionId: string): Promise<void>;
}

/**
 * One dialect's way out: its REST client with its codec applied, so a caller hands it chat events and never
 * needs to know the dialect. User ids are the service's (see user-id.ts).
 */
export interface ChatChannel {
  readonly dialect: Dialect;
  sendToAll(event: ChatEvent, options?: SendToAllOptions): Promise<void>;
  sendToGroup(group: string, event: ChatEvent): Promise<void>;
  sendToUser(userId: string, event: ChatEvent): Promise<void>;
  sendToConnection(connectionId: string, event: ChatEvent): Promise<void>;
  /** Adds the user's connections to the group: all of them, later ones too, where {@link memberships} is `user`. */
  addUserToGroup(group: string, userId: string): Promise<void>;
  removeUserFromGroup(group: string, userId: string): Promise<void>;
  userExists(userId: string): Promise<boolean>;
  /** How a connection that enters is put in its user's groups. */
  readonly memberships: GroupReach;
}

/**
 * The `ttl` of every membership the chat gives a user in Azure SignalR, in seconds: a year, as long as Azure keeps
 * one without a `ttl`. Given, it keeps a user in more than 100 groups in all of them: Azure keeps only "the latest
 * updated 100 groups ... among all groups the user joined without TTL" (the `ttl` of "add user to group" in the
 * 2022-06-01 REST spec), and a user may be in 200 (docs/architecture.md, "Private groups and channels").
 */
export const USER_GROUP_TTL_SECONDS = 365 * 24 * 60 * 60;

/** The signalr dialect's channel: Azure SignalR's REST client with the signalr codec. */
export function signalrChannel(client: HubClient): ChatChannel {
  const codec = signalrCodec;
  const ttl = (options: { ttlSeconds?: number } = {}) => ({
    ttlSeconds: options.ttlSeconds ?? USER_GROUP_TTL_SECONDS,
  });
  return {
    dialect: codec.dialect,
    sendToAll: (event, options = {}) => client.sendToAll(codec.encode(event), options),
    sendToGroup: (group, event) => client.sendToGroup(group, codec.encode(event)),
    sendToUser: (userId, event) => client.sendToUser(userId, codec.encode(event)),
    sendToConnection: (connectionId, event) => client.sendToConnection(connectionId, codec.encode(event)),
    addUserToGroup: (group, userId) => client.addUserToGroup(group, userId, ttl()),
    removeUserFromGroup: (group, userId) => client.removeUserFromGroup(group, userId),
    userExists: (userId) => client.userExists(userId),
    memberships: {
      kind: 'user',
      isUserInGroup: (group, userId) => client.isUserInGroup(group, userId),
      addUserToGroup: (group, userId, options) => client.addUserToGroup(group, userId, ttl(options)),
      removeUserFromGroup: (group, userId) => client.removeUserFromGroup(group, userId),
    },
  };
}
