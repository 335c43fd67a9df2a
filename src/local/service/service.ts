/**
 * Starts the local SignalR Serverless service: one `node:http` server for negotiate, the REST API, the
 * management endpoint and the signalr dialect's Server-Sent Events and Long Polling, whose `upgrade` requests
 * are routed to the two dialects (a `ws` server in `noServer`
 * mode, so a handshake can be refused with the upstream's own status and body).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { EntraTokenVerifier } from './auth/entra.js';
import { ConnectionRegistry } from './connections.js';
import type { ServiceContext } from './context.js';
import { Rejection } from './errors.js';
import { rejectUpgradeWith, sendRejection } from './http.js';
import { resolveOptions, type ServiceOptions } from './options.js';
import { ConnectLimits } from './rate-limit.js';
import { handleRest, isRestPath } from './rest/router.js';
import type { Session } from './session.js';
import { CLIENT_ENDPOINT_METHODS, handleClientHttpRequest } from './signalr/http-endpoint.js';
import { handleNegotiate, handleSignalRUpgrade } from './signalr/session.js';
import { Upstream } from './upstream/upstream.js';
import { chosenSubprotocols, handleWebSocketDialectUpgrade } from './websocket/session.js';

/** A running service. */
export interface RunningService {
  /** `http://<host>:<port>` (`127.0.0.1` when listening on every interface). */
  readonly url: string;
  readonly port: number;
  /** The public endpoint token audiences are bound to (the `endpoint` option, default `http://localhost:<port>`). */
  readonly endpoint: string;
  /**
   * Shuts down: refuses new connections, delivers every connection's disconnect upstream, then closes the
   * clients with 1001 and stops listening.
   */
  close(): Promise<void>;
}

// Headers the SignalR browser client sends on negotiate; a cross-origin page (the Functions app) needs them.
const CORS_ALLOWED_HEADERS = 'authorization, content-type, x-requested-with, x-signalr-user-agent';

function corsHeaders(req: IncomingMessage): Record<string, string> {
  const origin = req.headers.origin;
  if (!origin) return {};
  return {
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Allow-Credentials': 'true',
    Vary: 'Origin',
  };
}

/** Starts the service and resolves once it listens. */
export async function startService(options: ServiceOptions = {}): Promise<RunningService> {
  const resolved = resolveOptions(options);
  const log = resolved.log;
  let closing = false;
  let port = 0;
  let endpoint = new URL('http://localhost');
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: resolved.maxMessageBytes,
    maxFragments: resolved.maxMessageFragments,
    perMessageDeflate: false,
    handleProtocols: (_protocols, req) => chosenSubprotocols.get(req) ?? false,
  });
  const sessions = new Set<Session>();
  const ctx: ServiceContext = {
    options: resolved,
    upstream: new Upstream(resolved),
    entra:
      resolved.auth === 'identity' && resolved.entraOpenIdConfiguration
        ? new EntraTokenVerifier(resolved.entraOpenIdConfiguration, resolved.entraAudience)
        : undefined,
    connectLimits: new ConnectLimits(resolved),
    registries: { websocket: new ConnectionRegistry(), signalr: new ConnectionRegistry() },
    wss,
    sessions,
    handshakes: new Set(),
    negotiations: new Map(),
    connectionsByToken: new Map(),
    port: () => port,
    endpoint: () => endpoint,
    closing: () => closing,
  };

  const server = createServer((req, res) => {
    void onRequest(req, res);
  });

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://service.invalid');
      const path = url.pathname.replace(/\/+$/, '');
      if (path === '/client/negotiate' || path === '/client') {
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
        return;
      }
      if (isRestPath(url.pathname)) {
        await handleRest(ctx, req, res, url);
        return;
      }
      throw new Rejection('not-found', `Nothing at ${url.pathname}`);
    } catch (error) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (error instanceof Rejection) {
        const cors = corsHeaders(req);
        sendRejection(res, new Rejection(error.code, error.message, { ...error.headers, ...cors }));
        return;
      }
      log('error', 'Request failed', { path: req.url?.split('?')[0], error: String(error) });
      sendRejection(res, new Rejection('internal-error'));
    }
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const handshake = onUpgrade(req, socket, head).finally(() => ctx.handshakes.delete(handshake));
    ctx.handshakes.add(handshake);
  });

  async function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    try {
      if (closing) throw new Rejection('shutting-down');
      const url = new URL(req.url ?? '/', 'http://service.invalid');
      const path = url.pathname.replace(/\/+$/, '');
      if (path === '/client') await handleSignalRUpgrade(ctx, req, socket, head, url);
      else if (path === '/ws/client' || path.startsWith('/ws/client/'))
        await handleWebSocketDialectUpgrade(ctx, req, socket, head, url);
      else throw new Rejection('not-found', `No WebSocket endpoint at ${url.pathname}`);
    } catch (error) {
      if (error instanceof Rejection) {
        rejectUpgradeWith(socket, error);
        return;
      }
      log('error', 'WebSocket handshake failed', { path: req.url?.split('?')[0], error: String(error) });
      rejectUpgradeWith(socket, new Rejection('handshake-failed'));
    }
  }

  server.on('clientError', (_error, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(resolved.port, resolved.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  endpoint = new URL(resolved.endpoint ?? `http://localhost:${port}`);
  const host = resolved.host === '0.0.0.0' || resolved.host === '::' ? '127.0.0.1' : resolved.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  const keepAlive = setInterval(() => {
    for (const session of sessions) session.heartbeat();
  }, resolved.keepAliveIntervalMs);
  keepAlive.unref();

  let closed: Promise<void> | undefined;
  async function close(): Promise<void> {
    closing = true;
    clearInterval(keepAlive);
    // Handshakes in progress finish first (their sessions join `sessions`), then every session shuts down.
    // The server keeps listening meanwhile (new connections are refused with 503), so a long-polling client
    // can still come for its Close message.
    await Promise.allSettled([...ctx.handshakes]);
    await Promise.allSettled([...sessions].map((session) => session.shutdown()));
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    wss.close();
    server.closeAllConnections();
    await stopped;
    // Last: the disconnect notifications above went through the upstream pool.
    ctx.upstream.close();
    log('info', 'SignalR local service stopped', { port });
  }

  return {
    url,
    port,
    endpoint: endpoint.origin,
    close: () => {
      closed ??= close();
      return closed;
    },
  };
}
