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

/** The signalr dialect's channel: Azure SignalR's REST client with the signalr codec. */
export function signalrChannel(client: HubClient): ChatChannel {
  const codec = signalrCodec;
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
