/**
 * The chat's way out through Azure Web PubSub: the websocket dialect's channel (text frames
 * `{"type": "<event>", …payload}`, sent as `text/plain`, so a plain WebSocket gets a text frame and a
 * `json.webpubsub.azure.v1` client a `text` message) over Microsoft's `WebPubSubServiceClient`, behind the same
 * {@link ChatChannel} as SignalR's (codec.ts).
 */
import type { WebPubSubServiceClient } from '@azure/web-pubsub';
import { type ChatChannel, websocketCodec } from './codec.js';

const TEXT = { contentType: 'text/plain' } as const;

/** The websocket dialect's channel over a Web PubSub hub client. */
export function webPubSubChannel(client: WebPubSubServiceClient): ChatChannel {
  const encode = websocketCodec.encode;
  return {
    dialect: websocketCodec.dialect,
    sendToAll: (event, options = {}) =>
      client.sendToAll(encode(event), {
        ...TEXT,
        ...(options.excluded?.length ? { excludedConnections: [...options.excluded] } : {}),
      }),
    sendToGroup: (group, event) => client.group(group).sendToAll(encode(event), TEXT),
    sendToUser: (userId, event) => client.sendToUser(userId, encode(event), TEXT),
    sendToConnection: (connectionId, event) => client.sendToConnection(connectionId, encode(event), TEXT),
    addUserToGroup: async (group, userId) => {
      await client.group(group).addUser(userId);
    },
    removeUserFromGroup: async (group, userId) => {
      await client.group(group).removeUser(userId);
    },
    userExists: (userId) => client.userExists(userId),
  };
}
