/**
 * The built-in Functions host: serves the app's route table (src/app/routes.ts) on `node:http` when Azure
 * Functions Core Tools (`func`) is not installed. It behaves like `func start` where the app can tell:
 * `@azure/functions` `HttpRequest` / `InvocationContext` / `HttpResponse` objects, the `api/` route prefix with
 * route parameters, `local.settings.json` `Values` in the environment (never overriding what is already set),
 * one log line per invocation, and keys for `authLevel: 'function'` routes when keys are configured. With
 * `CHAT_AUTH=entra` it also stands in for App Service Authentication (easy-auth.ts): sign-in endpoints, a
 * session cookie and the `x-ms-client-principal*` headers the platform writes.
 * See docs/architecture.md, "The local stack".
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LogLevel } from '@azure/functions';
import { authMode } from '../../app/identity.js';
import { ROUTE_TABLE, ROUTES, type RouteDefinition } from '../../app/routes.js';
import { BodyTooLargeError, cappedBodyStream } from '../http-body.js';
import { fromFunctionsLevel, printed, readLogLevel } from '../log-level.js';
import {
  guardConnections,
  refusalMessage,
  resolveSocketLimits,
  type SocketLimits,
  serverOptions,
} from '../socket-guard.js';
import { LocalEasyAuth } from './easy-auth.js';
import { headerRecord, invoke, sendText } from './invocation.js';
import { compileRoutes, hasValidKey, routeRequest } from './routing.js';
import { applyCors, applyEnvironment, corsOf, readSettingsFile } from './settings.js';

/** The route prefix of host.json's default (`extensions.http.routePrefix`). */
export const DEFAULT_ROUTE_PREFIX = 'api';
/**
 * Largest request body the host lets a handler read; Azure Functions' own limit is 100 MB. Handlers may stop
 * sooner: the upstream endpoint reads at most its own `maxBodyBytes` (1 MiB), after the signature check.
 */
export const DEFAULT_MAX_REQUEST_BODY_BYTES = 100 * 1024 * 1024;
/** How long `close()` lets invocations in flight finish before it cuts their connections. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;
/** The interface the host binds to unless told otherwise: local development only. */
export const DEFAULT_HOST = '127.0.0.1';

/**
 * Options of the host. Its TCP connection bounds (`headersTimeoutMs`, `requestTimeoutMs`, `httpKeepAliveTimeoutMs`,
 * `maxSocketsPerAddress`, `maxSockets`) are the local service's, with the same defaults (../socket-guard.ts).
 */
export interface FunctionsHostOptions extends Partial<SocketLimits> {
  /** The port; 0 picks a free one. */
  port: number;
  /** The interface to bind; default {@link DEFAULT_HOST}. */
  host?: string;
  /** Settings put into `process.env` (overriding what is there) while the host runs. */
  env?: Record<string, string>;
  /**
   * A `local.settings.json` whose `Values` are added to `process.env` without overriding variables already set,
   * as `func start` does. Default: the app root's `local.settings.json` when it exists; `false` reads none.
   */
  settingsFile?: string | false;
  /** The routes to serve; default the app's {@link ROUTE_TABLE}. */
  routes?: readonly RouteDefinition[];
  /**
   * Function keys. When non-empty, `authLevel: 'function'` and `'admin'` routes need one of them in the
   * `x-functions-key` header or `?code=`; when empty (the default), every route is open, as under `func start`.
   */
  functionKeys?: readonly string[];
  /** The route prefix; default {@link DEFAULT_ROUTE_PREFIX}. */
  routePrefix?: string;
  /** See {@link DEFAULT_MAX_REQUEST_BODY_BYTES}. */
  maxRequestBodyBytes?: number;
  /** See {@link DEFAULT_SHUTDOWN_GRACE_MS}. */
  shutdownGraceMs?: number;
  /** Where log lines go; default `console.log` / `console.error`. */
  log?: (level: LogLevel, line: string) => void;
}

export interface RunningFunctionsHost {
  /** e.g. `http://127.0.0.1:7071` (no trailing slash, no prefix). */
  readonly url: string;
  readonly port: number;
  /** Stops listening, drops open connections and restores the environment variables it changed. */
  close(): Promise<void>;
}

/** Starts the host; resolves once it listens. A busy port rejects with an error that names it. */
export async function startFunctionsHost(options: FunctionsHostOptions): Promise<RunningFunctionsHost> {
  const threshold = readLogLevel();
  const log =
    options.log ??
    ((level: LogLevel, line: string) => {
      if (!printed(fromFunctionsLevel(level), threshold)) return;
      if (level === 'error' || level === 'critical') console.error(line);
      else console.log(line);
    });
  const prefix = (options.routePrefix ?? DEFAULT_ROUTE_PREFIX).replace(/^\/+|\/+$/g, '');
  const maxBody = options.maxRequestBodyBytes ?? DEFAULT_MAX_REQUEST_BODY_BYTES;
  const socketLimits = resolveSocketLimits(options);
  const keys = (options.functionKeys ?? []).filter((k) => k !== '');
  const routes = compileRoutes(options.routes ?? ROUTE_TABLE);

  const settings = readSettingsFile(options.settingsFile);
  const restoreEnv = applyEnvironment(options.env ?? {}, settings?.Values ?? {});
  const cors = corsOf(settings);
  let easyAuth: LocalEasyAuth | undefined;
  try {
    // As in Azure, only the upstream route is reachable without signing in (it checks its own signature).
    if (authMode() === 'entra') {
      easyAuth = new LocalEasyAuth({ excludedPaths: [`/${prefix}/${ROUTES.messages.route}`] });
    }
  } catch (error) {
    restoreEnv();
    throw error;
  }

  const shutdownGraceMs = options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
  let closing = false;
  const inFlight = new Set<ServerResponse>();
  const server = createServer(serverOptions(socketLimits), (req, res) => {
    const started = performance.now();
    if (closing) res.shouldKeepAlive = false;
    inFlight.add(res);
    res.once('close', () => inFlight.delete(res));
    const pathname = (req.url ?? '/').split('?')[0] ?? '/';
    handle(req, res, pathname)
      .catch((error: unknown) => {
        log('error', `[host] ${req.method} ${pathname}: ${(error as Error)?.stack ?? String(error)}`);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('Internal Server Error');
      })
      .finally(() => {
        // Path only: query strings can carry tokens (`access_token`, `code`).
        const ms = Math.round(performance.now() - started);
        log('information', `[host] ${req.method} ${pathname} ${res.statusCode} ${ms}ms`);
      });
  });

  // One address must not hold every socket with requests it never finishes (docs/local-service.md, "Connections").
  guardConnections(server, socketLimits, (refusal) => log('warning', `[host] ${refusalMessage(refusal)}`));

  async function handle(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    if (applyCors(cors, req, res)) return;
    let headers: Record<string, string> | undefined;
    if (easyAuth !== undefined) {
      const signedIn = await easyAuth.handle(req, res, pathname, headerRecord(req));
      if (signedIn.kind === 'answered') return;
      headers = signedIn.headers;
    }
    if (pathname === '/' && (req.method === 'GET' || req.method === 'HEAD')) {
      // The site's root is the chat: whoever opens http://localhost:7071/ lands on the page (which asks a name).
      res.writeHead(302, {
        location: `${prefix ? `/${prefix}` : ''}/${ROUTES.home.route}`,
        'cache-control': 'no-store',
      });
      res.end();
      return;
    }
    const outcome = routeRequest(routes, prefix, req.method ?? 'GET', pathname);
    if (outcome.kind === 'rejected') {
      if (outcome.allow !== undefined) res.setHeader('allow', outcome.allow);
      return sendText(res, outcome.status, outcome.text);
    }
    const { definition } = outcome.route;
    if (definition.authLevel !== 'anonymous' && keys.length > 0 && !hasValidKey(req, keys)) {
      return sendText(
        res,
        401,
        `The function "${definition.name}" needs a function key: send it in x-functions-key or ?code=`,
      );
    }
    // The body is streamed to the handler, not read first, as under Azure Functions' HTTP streams: a handler
    // that checks a signature or token (the upstream endpoint does) refuses a call before its body is read.
    let body: AsyncIterable<Uint8Array>;
    try {
      body = cappedBodyStream(req, maxBody);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        req.resume();
        return sendText(res, 413, error.message);
      }
      throw error;
    }
    await invoke(req, res, {
      definition,
      params: outcome.params,
      body,
      defaultHost: DEFAULT_HOST,
      log,
      ...(headers !== undefined ? { headers } : {}),
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      restoreEnv();
      if (error.code === 'EADDRINUSE') {
        reject(new Error(`Port ${options.port} is already in use: stop what uses it or choose another port`));
      } else reject(error);
    });
    server.listen(options.port, options.host ?? DEFAULT_HOST, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host ?? DEFAULT_HOST;
  const urlHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    close: async () => {
      // Graceful, like a host shutting down: no new connections, idle ones closed now, invocations in flight
      // finish (their connections close after the response) unless they take longer than the grace period.
      closing = true;
      // Responses still being computed close their connection once written, so server.close() can finish.
      for (const res of inFlight) if (!res.headersSent) res.shouldKeepAlive = false;
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), shutdownGraceMs);
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      });
      restoreEnv();
      // Clients in this same process (tests, the in-process service) hold pooled keep-alive sockets to us; let
      // them read the close before anyone can start a new host on this port and reuse a dead socket.
      await new Promise((resolve) => setTimeout(resolve, 50));
    },
  };
}
