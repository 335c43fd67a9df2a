/**
 * The chat's way out through Azure Web PubSub: the websocket dialect's channel (text frames
 * `{"type": "<event>", …payload}`, sent as `text/plain`, so a plain WebSocket gets a text frame and a
 * `json.webpubsub.azure.v1` client a `text` message) over Microsoft's `WebPubSubServiceClient`, behind the same
 * {@link ChatChannel} as SignalR's (codec.ts); with an access key, its sends on a lean client of the same
 * requests (src/lib/webpubsub/rest-sender.ts).
 */
import type { WebPubSubServiceClient } from '@azure/web-pubsub';
import { type ChatChannel, websocketCodec } from './codec.js';

const TEXT = { contentType: 'text/plain' } as const;

/** The four sends, as the lean sender of src/lib/webpubsub/rest-sender.ts has them. */
export interface TextSender {
  sendToAll(text: string, excluded?: readonly string[]): Promise<void>;
  sendToGroup(group: string, text: string): Promise<void>;
  sendToUser(user: string, text: string): Promise<void>;
  sendToConnection(connectionId: string, text: string): Promise<void>;
}

/**
 * The websocket dialect's channel over a Web PubSub hub client; its sends go through `sender` when there is one
 * (access-key mode), the rest (groups, existence checks) through the client.
 */
export function webPubSubChannel(client: WebPubSubServiceClient, sender?: TextSender): ChatChannel {
  const encode = websocketCodec.encode;
  const sends: Pick<ChatChannel, 'sendToAll' | 'sendToGroup' | 'sendToUser' | 'sendToConnection'> = sender
    ? {
        sendToAll: (event, options = {}) => sender.sendToAll(encode(event), options.excluded ?? []),
        sendToGroup: (group, event) => sender.sendToGroup(group, encode(event)),
        sendToUser: (userId, event) => sender.sendToUser(userId, encode(event)),
        sendToConnection: (connectionId, event) => sender.sendToConnection(connectionId, encode(event)),
      }
    : {
        sendToAll: (event, options = {}) =>
          client.sendToAll(encode(event), {
            ...TEXT,
            ...(options.excluded?.length ? { excludedConnections: [...options.excluded] } : {}),
          }),
        sendToGroup: (group, event) => client.group(group).sendToAll(encode(event), TEXT),
        sendToUser: (userId, event) => client.sendToUser(userId, encode(event), TEXT),
        sendToConnection: (connectionId, event) => client.sendToConnection(connectionId, encode(event), TEXT),
      };
  return {
    dialect: websocketCodec.dialect,
    ...sends,
    addUserToGroup: async (group, userId) => {
      await client.group(group).addUser(userId);
    },
    removeUserFromGroup: async (group, userId) => {
      await client.group(group).removeUser(userId);
    },
    userExists: (userId) => client.userExists(userId),
    memberships: {
      kind: 'connection',
      addConnectionToGroups: (groups, connectionId) =>
        client.addConnectionsToGroups([...groups], connectionFilter(connectionId)),
      removeConnectionFromGroups: (groups, connectionId) =>
        client.removeConnectionsFromGroups([...groups], connectionFilter(connectionId)),
    },
  };
}

/**
 * The OData filter that selects one connection (Learn's "OData filter syntax in Azure Web PubSub service": a
 * string literal in single quotes, a quote in it doubled).
 */
export function connectionFilter(connectionId: string): string {
  return `connectionId eq '${connectionId.replaceAll("'", "''")}'`;
}
