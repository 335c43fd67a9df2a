/**
 * The Web PubSub wing: Azure Web PubSub's client endpoint `/client/hubs/{hub}` (plain WebSocket and the JSON
 * subprotocols), its hub state and its CloudEvents event handlers (docs/local-service.md, "The Web PubSub wing").
 */
import type { WingFactory } from '../wing.js';
import { CLIENT_PATH, handleWebPubSubUpgrade } from './client-endpoint.js';
import { webPubSubContext } from './state.js';

export const webPubSubWing: WingFactory = (service) => {
  const ctx = webPubSubContext(service);
  return {
    upgrades: {
      serves: (path) => CLIENT_PATH.test(path),
      handle: (req, socket, head, url) => handleWebPubSubUpgrade(ctx, req, socket, head, url),
    },
    // The REST API (`/api/hubs/…`) builds on ctx.hubs; until it is in, the wing owns no REST path.
    rest: { owns: () => false, handle: async () => {} },
    upstream: ctx.codec,
  };
};
