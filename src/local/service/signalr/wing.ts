/**
 * The SignalR wing: negotiate, the `/client/` endpoint on WebSockets, Server-Sent Events and Long Polling,
 * Microsoft's data-plane REST API, and its upstream codec (docs/local-service.md, "The SignalR wing").
 */
import { corsHeaders } from '../http.js';
import type { WingFactory } from '../wing.js';
import { handleSignalRUpgrade } from './client-endpoint.js';
import { CLIENT_ENDPOINT_METHODS, handleClientHttpRequest } from './http-endpoint.js';
import { handleNegotiate } from './negotiate.js';
import { signalRRestApi } from './rest/rest.js';
import { signalRContext } from './state.js';
import { SIGNALR_UPSTREAM } from './upstream-codec.js';

// Headers the SignalR browser client sends on negotiate; a cross-origin page (the Functions app) needs them.
const CORS_ALLOWED_HEADERS = 'authorization, content-type, x-requested-with, x-signalr-user-agent';

export const signalRWing: WingFactory = (service) => {
  const ctx = signalRContext(service);
  return {
    requests: {
      serves: (path) => path === '/client/negotiate' || path === '/client',
      handle: async (req, res, url, path) => {
        const cors = corsHeaders(req);
        if (req.method === 'OPTIONS') {
          res.writeHead(204, {
            ...cors,
            'Access-Control-Allow-Methods': path === '/client' ? CLIENT_ENDPOINT_METHODS : 'POST, OPTIONS',
            'Access-Control-Allow-Headers': CORS_ALLOWED_HEADERS,
            'Access-Control-Max-Age': '600',
            'Content-Length': 0,
          });
          res.end();
          return;
        }
        if (path === '/client') await handleClientHttpRequest(ctx, req, res, url, cors);
        else await handleNegotiate(ctx, req, res, url, cors);
      },
    },
    upgrades: {
      serves: (path) => path === '/client',
      handle: (req, socket, head, url) => handleSignalRUpgrade(ctx, req, socket, head, url),
    },
    rest: signalRRestApi(ctx),
    upstream: SIGNALR_UPSTREAM,
  };
};
