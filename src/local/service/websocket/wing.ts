/**
 * The raw-WebSocket wing (the 2020 Serverless WebSocket preview): `/ws/client…`, its REST API under
 * `/ws/api/v1`, and its upstream codec (docs/local-service.md, "The raw-WebSocket wing").
 */
import type { WingFactory } from '../wing.js';
import { handleWebSocketDialectUpgrade } from './client-endpoint.js';
import { webSocketRestApi } from './rest.js';
import { webSocketContext } from './state.js';
import { WEBSOCKET_UPSTREAM } from './upstream-codec.js';

export const webSocketWing: WingFactory = (service) => {
  const ctx = webSocketContext(service);
  return {
    upgrades: {
      serves: (path) => path === '/ws/client' || path.startsWith('/ws/client/'),
      handle: (req, socket, head, url) => handleWebSocketDialectUpgrade(ctx, req, socket, head, url),
    },
    rest: webSocketRestApi(ctx),
    upstream: WEBSOCKET_UPSTREAM,
  };
};
