/**
 * The Web PubSub wing: Azure Web PubSub's client endpoint `/client/hubs/{hub}` (plain WebSocket and the JSON
 * subprotocols), its hub state, its CloudEvents event handlers (docs/local-service.md, "The Web PubSub wing")
 * and its REST API over the hub state (docs/local-service.md, "The Web PubSub REST API").
 */
import type { WingFactory } from '../wing.js';
import { CLIENT_PATH, handleWebPubSubUpgrade } from './client-endpoint.js';
import { webPubSubRestApi } from './rest/api.js';
import { webPubSubContext } from './state.js';

export const webPubSubWing: WingFactory = (service) => {
  const ctx = webPubSubContext(service);
  return {
    upgrades: {
      serves: (path) => CLIENT_PATH.test(path),
      handle: (req, socket, head, url) => handleWebPubSubUpgrade(ctx, req, socket, head, url),
    },
    rest: webPubSubRestApi(service, ctx.hubs),
    upstream: ctx.codec,
  };
};
