/**
 * The built-in Functions host: serves the app's route table (src/app/routes.ts) on `node:http` when Azure
 * Functions Core Tools (`func`) is not installed. It behaves like `func start` where the app can tell:
 * `@azure/functions` `HttpRequest` / `InvocationContext` / `HttpResponse` objects, the `api/` route prefix with
 * route parameters, `local.settings.json` `Values` in the environment (never overriding what is already set),
 * one log line per invocation, and keys for `authLevel: 'function'` routes when keys are configured.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type {
  Cookie,
  HttpRequest as HttpRequestType,
  HttpResponseInit,
  InvocationContext as InvocationContextType,
  LogLevel,
} from '@azure/functions';
import azureFunctions from '@azure/functions';
import { ROUTE_TABLE, type RouteDefinition } from '../app/routes.js';
import { appRoot } from '../app/static-files.js';
import { BodyTooLargeError, readCappedBody } from './http-body.js';

const { HttpRequest, HttpResponse, InvocationContext } = azureFunctions;

/** The route prefix of host.json's default (`extensions.http.routePrefix`). */
export const DEFAULT_ROUTE_PREFIX = 'api';
/** Largest request body the host reads; Azure Functions' own limit is 100 MB. */
export const DEFAULT_MAX_REQUEST_BODY_BYTES = 100 * 1024 * 1024;
/** How long `close()` lets invocations in flight finish before it cuts their connections. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;
/** The interface the host binds to unless told otherwise: local development only. */
export const DEFAULT_HOST = '127.0.0.1';

export interface FunctionsHostOptions {
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

interface CompiledRoute {
  readonly definition: RouteDefinition;
  /** Route parameters when the path segments match, else `undefined`. */
  match(segments: readonly string[]): Record<string, string> | undefined;
}

/**
 * Compiles a Functions route template: literal segments (case-insensitive), `{name}`, `{name?}`,
 * `{name:constraint}` (the constraint is not checked) and a final catch-all `{*name}` (zero or more segments).
 */
export function compileRouteTemplate(
  template: string,
): (segments: readonly string[]) => Record<string, string> | undefined {
  const parts = template.split('/').filter((p) => p !== '');
  return (segments) => {
    const params: Record<string, string> = {};
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      const param = /^\{(\*?)([A-Za-z_][A-Za-z0-9_]*)(?::[^}?]*)?(\??)\}$/.exec(part);
      if (!param) {
        if (segments[i]?.toLowerCase() !== part.toLowerCase()) return undefined;
        continue;
      }
      const [, star, name, optional] = param as unknown as [string, string, string, string];
      if (star) {
        params[name] = segments.slice(i).join('/');
        return params;
      }
      const value = segments[i];
      if (value === undefined) {
        if (optional) continue;
        return undefined;
      }
      params[name] = value;
    }
    // Missing segments were checked above (only optional ones may be absent); extra ones do not match.
    return segments.length > parts.length ? undefined : params;
  };
}

/** Starts the host; resolves once it listens. A busy port rejects with an error that names it. */
export async function startFunctionsHost(options: FunctionsHostOptions): Promise<RunningFunctionsHost> {
  const log =
    options.log ??
    ((level: LogLevel, line: string) => (level === 'error' ? console.error(line) : console.log(line)));
  const prefix = (options.routePrefix ?? DEFAULT_ROUTE_PREFIX).replace(/^\/+|\/+$/g, '');
  const maxBody = options.maxRequestBodyBytes ?? DEFAULT_MAX_REQUEST_BODY_BYTES;
  const keys = (options.functionKeys ?? []).filter((k) => k !== '');
  const routes: CompiledRoute[] = (options.routes ?? ROUTE_TABLE).map((definition) => ({
    definition,
    match: compileRouteTemplate(definition.route),
  }));

  const settings = readSettingsFile(options.settingsFile);
  const restoreEnv = applyEnvironment(options.env ?? {}, settings?.Values ?? {});
  const cors = corsOf(settings);

  const shutdownGraceMs = options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
  let closing = false;
  const inFlight = new Set<ServerResponse>();
  const server = createServer((req, res) => {
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

  async function handle(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    if (cors && req.headers.origin) {
      res.setHeader('access-control-allow-origin', cors === '*' ? '*' : req.headers.origin);
      if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
        res.writeHead(204, {
          'access-control-allow-methods': 'GET, POST, PUT, DELETE, PATCH, OPTIONS',
          'access-control-allow-headers': req.headers['access-control-request-headers'] ?? '*',
          'access-control-max-age': '600',
        });
        res.end();
        return;
      }
    }
    let segments: string[];
    try {
      segments = pathname
        .split('/')
        .filter((s) => s !== '')
        .map((s) => decodeURIComponent(s));
    } catch {
      return sendText(res, 400, 'The request path is not valid percent-encoding');
    }
    if (prefix !== '') {
      if (segments[0]?.toLowerCase() !== prefix.toLowerCase()) return sendText(res, 404, notFound(pathname));
      segments = segments.slice(1);
    }
    let matched: { route: CompiledRoute; params: Record<string, string> } | undefined;
    const allowed = new Set<string>();
    for (const route of routes) {
      const params = route.match(segments);
      if (!params) continue;
      if (route.definition.methods.includes((req.method ?? 'GET') as never)) {
        matched = { route, params };
        break;
      }
      for (const m of route.definition.methods) allowed.add(m);
    }
    if (!matched) {
      if (allowed.size > 0) {
        res.setHeader('allow', [...allowed].join(', '));
        return sendText(res, 405, `${req.method} is not allowed here; use ${[...allowed].join(' or ')}`);
      }
      return sendText(res, 404, notFound(pathname));
    }
    const { definition } = matched.route;
    if (definition.authLevel !== 'anonymous' && keys.length > 0 && !hasValidKey(req, keys)) {
      return sendText(
        res,
        401,
        `The function "${definition.name}" needs a function key: send it in x-functions-key or ?code=`,
      );
    }

    let body: Buffer;
    try {
      body = await readCappedBody(req, maxBody);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        return sendText(res, 413, error.message);
      }
      throw error;
    }

    const request = new HttpRequest({
      method: req.method ?? 'GET',
      url: `http://${req.headers.host ?? `${DEFAULT_HOST}`}${req.url ?? '/'}`,
      headers: headerRecord(req),
      params: matched.params,
      ...(body.length > 0 ? { body: { bytes: body } } : {}),
    });
    const invocationId = randomUUID();
    const context = new InvocationContext({
      invocationId,
      functionName: definition.name,
      logHandler: (level, ...args) => log(level, `[${definition.name}] ${args.map(formatArg).join(' ')}`),
      options: {
        trigger: {
          type: 'httpTrigger',
          name: 'httpTrigger',
          methods: definition.methods,
          authLevel: definition.authLevel,
          route: definition.route,
        },
        extraInputs: [],
        extraOutputs: [],
      },
    });
    let result: unknown;
    try {
      result = await definition.handler(request as HttpRequestType, context as InvocationContextType);
    } catch (error) {
      // As the Functions host does: the error is logged, the caller gets a bare 500 without details.
      context.error(`Executed '${definition.name}' (Failed, Id=${invocationId}):`, error);
      return sendText(res, 500, 'Internal Server Error');
    }
    await writeResult(res, req.method === 'HEAD', result);
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

/** Puts `env` (overriding) and the settings file's Values (not overriding) into process.env; returns the undo. */
function applyEnvironment(env: Record<string, string>, values: Record<string, unknown>): () => void {
  const previous = new Map<string, string | undefined>();
  const set = (name: string, value: string) => {
    if (!previous.has(name)) previous.set(name, process.env[name]);
    process.env[name] = value;
  };
  for (const [name, value] of Object.entries(env)) set(name, value);
  for (const [name, value] of Object.entries(values)) {
    if (process.env[name] === undefined && typeof value === 'string') set(name, value);
  }
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    for (const [name, value] of previous) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

interface LocalSettings {
  Values?: Record<string, unknown>;
  Host?: { CORS?: string };
}

/** Reads local.settings.json (`undefined` when absent); a file that is not JSON is an error that names it. */
export function readSettingsFile(settingsFile: string | false | undefined): LocalSettings | undefined {
  if (settingsFile === false) return undefined;
  const file = settingsFile ?? join(appRoot(), 'local.settings.json');
  if (!existsSync(file)) {
    if (settingsFile !== undefined) throw new Error(`The settings file ${file} does not exist`);
    return undefined;
  }
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LocalSettings;
  } catch (error) {
    throw new Error(`The settings file ${file} is not valid JSON: ${(error as Error).message}`);
  }
}

function corsOf(settings: LocalSettings | undefined): string | undefined {
  const cors = settings?.Host?.CORS;
  return typeof cors === 'string' && cors.trim() !== '' ? cors.trim() : undefined;
}

/** Compares against every key in constant time (hashing first makes the lengths equal). */
function hasValidKey(req: IncomingMessage, keys: readonly string[]): boolean {
  const header = req.headers['x-functions-key'];
  const given =
    (typeof header === 'string' ? header : undefined) ??
    new URL(req.url ?? '/', 'http://host').searchParams.get('code') ??
    undefined;
  if (given === undefined) return false;
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  const givenDigest = digest(given);
  let ok = false;
  for (const key of keys) if (timingSafeEqual(givenDigest, digest(key))) ok = true;
  return ok;
}

function headerRecord(req: IncomingMessage): Record<string, string> {
  const record: Record<string, string> = {};
  for (const [name, values] of Object.entries(req.headersDistinct)) {
    if (!values) continue;
    record[name] = values.join(name === 'cookie' ? '; ' : ', ');
  }
  return record;
}

/** Writes what a handler returned: an `HttpResponse`, an `HttpResponseInit`, or nothing (204). */
async function writeResult(res: ServerResponse, isHead: boolean, result: unknown): Promise<void> {
  if (result === undefined || result === null) {
    res.writeHead(204);
    res.end();
    return;
  }
  const init = result instanceof HttpResponse ? undefined : (result as HttpResponseInit);
  const response = result instanceof HttpResponse ? result : new HttpResponse(init);
  const headers = new Map<string, string[]>();
  const add = (name: string, value: string) => {
    const key = name.toLowerCase();
    headers.set(key, [...(headers.get(key) ?? []), value]);
  };
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers.set(name, [value]);
  });
  for (const cookie of response.headers.getSetCookie()) add('set-cookie', cookie);
  // `Headers` folds repeated names into one comma-joined value; a handler that gave pairs gets them back as
  // separate header lines, exactly as written.
  if (Array.isArray(init?.headers)) {
    const repeated = new Map<string, string[]>();
    for (const [name, value] of init.headers as [string, string][]) {
      const key = name.toLowerCase();
      if (key === 'set-cookie') continue;
      repeated.set(key, [...(repeated.get(key) ?? []), value]);
    }
    for (const [key, values] of repeated) headers.set(key, values);
  }
  for (const cookie of response.cookies) add('set-cookie', serializeCookie(cookie));
  const body = Buffer.from(await response.arrayBuffer());
  for (const [name, values] of headers) res.setHeader(name, values.length === 1 ? values[0]! : values);
  res.statusCode = response.status;
  res.end(isHead ? undefined : body);
}

/** `Set-Cookie` per RFC 6265, from the `Cookie` objects of `@azure/functions`. */
function serializeCookie(cookie: Cookie): string {
  const parts = [`${cookie.name}=${cookie.value}`];
  if (cookie.domain) parts.push(`Domain=${cookie.domain}`);
  if (cookie.path) parts.push(`Path=${cookie.path}`);
  if (cookie.expires !== undefined) parts.push(`Expires=${new Date(cookie.expires).toUTCString()}`);
  if (cookie.maxAge !== undefined) parts.push(`Max-Age=${cookie.maxAge}`);
  if (cookie.secure) parts.push('Secure');
  if (cookie.httpOnly) parts.push('HttpOnly');
  if (cookie.sameSite) parts.push(`SameSite=${cookie.sameSite}`);
  return parts.join('; ');
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(text);
}

function notFound(pathname: string): string {
  return `No function serves ${pathname}`;
}

function formatArg(arg: unknown): string {
  if (arg instanceof Error) return arg.stack ?? arg.message;
  if (typeof arg === 'string') return arg;
  try {
    return JSON.stringify(arg);
  } catch {
    return String(arg);
  }
}
