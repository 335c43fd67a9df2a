/**
 * How each dialect carries a chat event (docs/architecture.md, "Two dialects"), one codec per dialect, and
 * the chat's way out through one dialect's REST client. The dialect is chosen once, where a connection or a
 * delivery is known, by picking its codec (or channel); nothing downstream asks which dialect it is.
 *
 * - signalr: an Invocation whose target is the event name and whose one argument is the payload.
 * - websocket: a text frame `{"type": "<event>", …payload}`.
 */
import type { Dialect, HubClient, InvocationPayload, MessageOf, SendToAllOptions } from '../signalr/index.js';
import type { ChatEvent } from './protocol.js';

/** Turns a chat event into the message one dialect sends. */
export interface ChatCodec<D extends Dialect, M extends MessageOf<D> = MessageOf<D>> {
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

/** The codec of each dialect. */
export const CHAT_CODECS: { readonly [D in Dialect]: ChatCodec<D> } = {
  signalr: signalrCodec,
  websocket: websocketCodec,
};

/** The REST client of each dialect. */
export type DialectClients = { readonly [D in Dialect]: HubClient<D> };

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
  addUserToGroup(group: string, userId: string): Promise<void>;
  removeUserFromGroup(group: string, userId: string): Promise<void>;
  userExists(userId: string): Promise<boolean>;
}

/** Binds a dialect's client to that dialect's codec. */
export function chatChannel<D extends Dialect>(client: HubClient<D>, codec: ChatCodec<D>): ChatChannel {
  return {
    dialect: codec.dialect,
    sendToAll: (event, options = {}) => client.sendToAll(codec.encode(event), options),
    sendToGroup: (group, event) => client.sendToGroup(group, codec.encode(event)),
    sendToUser: (userId, event) => client.sendToUser(userId, codec.encode(event)),
    sendToConnection: (connectionId, event) => client.sendToConnection(connectionId, codec.encode(event)),
    addUserToGroup: (group, userId) => client.addUserToGroup(group, userId),
    removeUserFromGroup: (group, userId) => client.removeUserFromGroup(group, userId),
    userExists: (userId) => client.userExists(userId),
  };
}

/** The channel of `dialect` over `clients`. */
export function channelOf<D extends Dialect>(clients: DialectClients, dialect: D): ChatChannel {
  return chatChannel<D>(clients[dialect], CHAT_CODECS[dialect]);
}
