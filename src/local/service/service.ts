/**
 * Starts the local service: one `node:http` server whose requests, WebSocket upgrades and REST calls go to
 * the wings, the keep-alive timer, and shutdown (docs/local-service.md, "Wings").
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { guardConnections, refusalMessage, serverOptions } from '../socket-guard.js';
import { EntraTokenVerifier } from './auth/entra.js';
import type { LiveSession, ServiceContext } from './context.js';
import { Rejection } from './errors.js';
import { corsHeaders, rejectUpgradeWith, sendRejection } from './http.js';
import { resolveOptions, type ServiceOptions } from './options.js';
import { ConnectLimits } from './rate-limit.js';
import { restApiOf, routeRest } from './rest/router.js';
import { signalRWing } from './signalr/wing.js';
import { Upstream } from './upstream/upstream.js';
import { webPubSubWing } from './webpubsub/wing.js';
import type { WingFactory } from './wing.js';

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

/**
 * The service's wings, one per service protocol; a new protocol is one more entry. Web PubSub comes before
 * SignalR: its REST API claims the `/api/hubs/…` calls made with its own credential, SignalR's takes the rest.
 */
const WINGS: readonly WingFactory[] = [webPubSubWing, signalRWing];

/** Starts the service and resolves once it listens. */
export async function startService(options: ServiceOptions = {}): Promise<RunningService> {
  const resolved = resolveOptions(options);
  const log = resolved.log;
  let closing = false;
  let port = 0;
  let endpoint = new URL('http://localhost');
  const chosenSubprotocols = new WeakMap<IncomingMessage, string>();
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: resolved.maxMessageBytes,
    maxFragments: resolved.maxMessageFragments,
    perMessageDeflate: false,
    handleProtocols: (_protocols, req) => chosenSubprotocols.get(req) ?? false,
  });
  const sessions = new Set<LiveSession>();
  const ctx: ServiceContext = {
    options: resolved,
    upstream: new Upstream(resolved),
    entra:
      resolved.auth === 'identity' && resolved.entraOpenIdConfiguration
        ? new EntraTokenVerifier(resolved.entraOpenIdConfiguration, resolved.entraAudience)
        : undefined,
    connectLimits: new ConnectLimits(resolved),
    wss,
    chosenSubprotocols,
    sessions,
    handshakes: new Set(),
    port: () => port,
    endpoint: () => endpoint,
    closing: () => closing,
  };

  const wings = WINGS.map((wing) => wing(ctx));
  const restApis = wings.map((wing) => wing.rest);

  const server = createServer(serverOptions(resolved), (req, res) => {
    void onRequest(req, res);
  });
  // Before any request: unfinished requests and idle connections time out, and the open connections of one
  // address and of all are capped (docs/local-service.md, "Connections").
  guardConnections(server, resolved, (refusal) => {
    log('warn', refusalMessage(refusal), { ...refusal });
  });

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://service.invalid');
      const path = url.pathname.replace(/\/+$/, '');
      const endpoints = wings.find((wing) => wing.requests?.serves(path))?.requests;
      if (endpoints) {
        await endpoints.handle(req, res, url, path);
        return;
      }
      const api = restApiOf(restApis, req, url);
      if (api) {
        await routeRest(api, req, res, url);
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
      const endpoints = wings.find((wing) => wing.upgrades.serves(path))?.upgrades;
      if (!endpoints) throw new Rejection('not-found', `No WebSocket endpoint at ${url.pathname}`);
      await endpoints.handle(req, socket, head, url);
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
