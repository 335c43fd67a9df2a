/**
 * The REST API of both dialects and the 2020 preview's management endpoint.
 *
 * - websocket dialect: `/ws/api/v1/hubs/{hub}…`; bodies are raw (`application/octet-stream` → binary frame,
 *   anything else → text frame).
 * - signalr dialect: Microsoft's data-plane REST API in its three spec versions, `/api/v1/hubs/{hub}…` and
 *   `/api/hubs/{hub}…?api-version=2020-10-01|2022-06-01` (see rest-api.ts), plus `:generateToken`; bodies are
 *   `{"target": "...", "arguments": [...]}`.
 * - `HEAD`/`GET /api/health` and `/api/v1/health`: 200 while the service runs, without a token (Azure's
 *   Management SDK probes it without one).
 * - `GET` / `PUT /manage/v1/ws/upstream`: read or replace the upstream templates while running.
 *
 * Each prefix addresses the clients of its own dialect. Every call needs `Authorization: Bearer <JWT>`: in key
 * mode signed with an access key, `aud` = the request URL without query and trailing slash (see auth.ts for
 * hosts and ports); in identity mode a Microsoft Entra token (entra-auth.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { clientUrl, createClientToken } from '../../lib/signalr/tokens.js';
import type { Dialect } from '../../lib/signalr/upstream-contract.js';
import { acceptedOrigins, authenticate, requestToken, restAudiencePath } from './auth.js';
import { checkHubName, type HubRegistry, type OutboundMessage } from './connections.js';
import type { ServiceContext } from './context.js';
import { CloseCode, Rejection } from './errors.js';
import { readBody, sendEmpty, sendJson, sendRejection } from './http.js';
import { normalizeUpstream, ServiceOptionsError } from './options.js';
import {
  type ApiVersion,
  checkNames,
  internalHubName,
  matchApiRoute,
  matchSegments,
  resolveVersion,
  runOperation,
  sendApiError,
} from './rest-api.js';

/** What an operation gets: the hub's registry, the route parameters and the request. */
interface OperationContext {
  readonly ctx: ServiceContext;
  readonly dialect: Dialect;
  readonly hub: string;
  readonly registry: HubRegistry;
  readonly params: Readonly<Record<string, string>>;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
}

type Operation = (op: OperationContext) => Promise<void> | void;

/** A route of the websocket dialect (`/ws/api/v1/hubs/{hub}…`, the 2020 preview's API, kept as it was). */
interface Route {
  /** Path segments after the hub; `{name}` captures one segment. */
  readonly pattern: readonly string[];
  readonly methods: Readonly<Record<string, Operation>>;
}

const accepted = (op: OperationContext) => sendEmpty(op.res, 202);
const ok = (op: OperationContext) => sendEmpty(op.res, 200);
const exists = (op: OperationContext, found: boolean) =>
  found
    ? sendEmpty(op.res, 200)
    : op.req.method === 'HEAD'
      ? sendEmpty(op.res, 404)
      : sendRejection(op.res, new Rejection('not-found', 'Not found'));

/** `GET` and `HEAD` of an existence check: 200 when `found`, else 404. */
const existence = (found: (op: OperationContext) => boolean): Record<string, Operation> => ({
  GET: (op) => exists(op, found(op)),
  HEAD: (op) => exists(op, found(op)),
});

function excluded(url: URL): Set<string> {
  return new Set(url.searchParams.getAll('excluded'));
}

async function sendTo(
  op: OperationContext,
  targets: Iterable<{ id: string; deliver(m: OutboundMessage): void }>,
) {
  const message = await readMessage(op);
  const skip = excluded(op.url);
  for (const connection of [...targets]) if (!skip.has(connection.id)) connection.deliver(message);
  accepted(op);
}

function closeAll(
  op: OperationContext,
  targets: Iterable<{ id: string; close(code: number, reason: string): void }>,
) {
  const skip = excluded(op.url);
  const reason = op.url.searchParams.get('reason') ?? '';
  for (const connection of [...targets])
    if (!skip.has(connection.id)) connection.close(CloseCode.Normal, reason);
  ok(op);
}

const sendToAll: Operation = (op) => sendTo(op, op.registry.all());
const sendToUser: Operation = (op) => sendTo(op, op.registry.userConnections(param(op, 'user')));
const sendToConnection: Operation = (op) => {
  const connection = op.registry.connection(param(op, 'connection'));
  return sendTo(op, connection ? [connection] : []);
};
const sendToGroup: Operation = (op) => sendTo(op, op.registry.groupMembers(param(op, 'group')));

const userInGroup: Record<string, Operation> = {
  PUT: (op) => {
    op.registry.addUserToGroup(param(op, 'group'), param(op, 'user'));
    ok(op);
  },
  DELETE: (op) => {
    op.registry.removeUserFromGroup(param(op, 'group'), param(op, 'user'));
    ok(op);
  },
  ...existence((op) => op.registry.isUserInGroup(param(op, 'group'), param(op, 'user'))),
};

const ROUTES: readonly Route[] = [
  { pattern: [], methods: { POST: sendToAll } },
  { pattern: [':send'], methods: { POST: sendToAll } },
  { pattern: [':closeConnections'], methods: { POST: (op) => closeAll(op, op.registry.all()) } },
  { pattern: [':generateToken'], methods: { POST: generateToken } },
  {
    pattern: ['users', '{user}'],
    methods: {
      POST: sendToUser,
      ...existence((op) => op.registry.hasUser(param(op, 'user'))),
    },
  },
  { pattern: ['users', '{user}', ':send'], methods: { POST: sendToUser } },
  {
    pattern: ['users', '{user}', ':closeConnections'],
    methods: { POST: (op) => closeAll(op, op.registry.userConnections(param(op, 'user'))) },
  },
  {
    pattern: ['users', '{user}', 'groups'],
    methods: {
      DELETE: (op) => {
        op.registry.removeUserFromAllGroups(param(op, 'user'));
        ok(op);
      },
    },
  },
  { pattern: ['users', '{user}', 'groups', '{group}'], methods: userInGroup },
  { pattern: ['groups', '{group}', 'users', '{user}'], methods: userInGroup },
  {
    pattern: ['connections', '{connection}'],
    methods: {
      POST: sendToConnection,
      DELETE: (op) => {
        const connection = op.registry.connection(param(op, 'connection'));
        if (!connection) throw new Rejection('connection-not-found');
        connection.close(CloseCode.Normal, op.url.searchParams.get('reason') ?? '');
        ok(op);
      },
      ...existence((op) => op.registry.connection(param(op, 'connection')) !== undefined),
    },
  },
  { pattern: ['connections', '{connection}', ':send'], methods: { POST: sendToConnection } },
  {
    pattern: ['groups', '{group}'],
    methods: {
      POST: sendToGroup,
      ...existence((op) => op.registry.hasGroup(param(op, 'group'))),
    },
  },
  { pattern: ['groups', '{group}', ':send'], methods: { POST: sendToGroup } },
  {
    pattern: ['groups', '{group}', ':closeConnections'],
    methods: { POST: (op) => closeAll(op, op.registry.groupMembers(param(op, 'group'))) },
  },
  {
    pattern: ['groups', '{group}', 'connections', '{connection}'],
    methods: {
      PUT: (op) => {
        if (!op.registry.addConnectionToGroup(param(op, 'group'), param(op, 'connection'))) {
          throw new Rejection('connection-not-found');
        }
        ok(op);
      },
      DELETE: (op) => {
        op.registry.removeConnectionFromGroup(param(op, 'group'), param(op, 'connection'));
        ok(op);
      },
    },
  },
];

function param(op: OperationContext, name: string): string {
  const value = op.params[name];
  if (value === undefined || value === '')
    throw new Rejection('invalid-request', `The ${name} in the URL is empty`);
  return value;
}

/** Reads a websocket-dialect message body: `application/octet-stream` → binary frame, anything else → text. */
async function readMessage(op: OperationContext): Promise<OutboundMessage> {
  const body = await readBody(op.req, op.ctx.options.maxMessageBytes);
  const contentType = (op.req.headers['content-type'] ?? '').toLowerCase();
  return contentType.startsWith('application/octet-stream')
    ? { kind: 'binary', data: body }
    : { kind: 'text', text: body.toString('utf8') };
}

/** Lifetime of a `:generateToken` token when the call gives no `minutesToExpire` (Azure's default). */
const GENERATE_TOKEN_DEFAULT_MINUTES = 60;

/** `POST /api/hubs/{hub}/:generateToken?userId=&minutesToExpire=`: a client token signed with the primary key. */
async function generateToken(op: OperationContext): Promise<void> {
  const minutes = Number(op.url.searchParams.get('minutesToExpire') ?? GENERATE_TOKEN_DEFAULT_MINUTES);
  if (!Number.isFinite(minutes) || minutes <= 0) {
    throw new Rejection('invalid-request', 'minutesToExpire must be a positive number');
  }
  const userId = op.url.searchParams.get('userId') ?? undefined;
  const endpoint = op.ctx.endpoint().origin;
  const key = op.ctx.options.accessKeys[0] as string;
  const token = await createClientToken(key, clientUrl(endpoint, op.hub, op.dialect), {
    ...(userId ? { userId } : {}),
    ttlSeconds: Math.ceil(minutes * 60),
  });
  sendJson(op.res, 200, { token });
}

/** Splits a REST path into dialect, hub and the rest; undefined when it is not a REST path. */
function parsePrefix(
  segments: readonly string[],
): { dialect: Dialect; prefix: 'ws' | 'v1' | 'api'; hub: string; rest: string[] } | undefined {
  const [a, b, c, d, e, ...rest] = segments;
  if (a === 'ws' && b === 'api' && c === 'v1' && d === 'hubs' && e !== undefined) {
    return { dialect: 'websocket', prefix: 'ws', hub: e, rest };
  }
  if (a === 'api' && b === 'v1' && c === 'hubs' && d !== undefined) {
    return { dialect: 'signalr', prefix: 'v1', hub: d, rest: e === undefined ? [] : [e, ...rest] };
  }
  if (a === 'api' && b === 'hubs' && c !== undefined) {
    return {
      dialect: 'signalr',
      prefix: 'api',
      hub: c,
      rest: [d, e, ...rest].filter((s): s is string => s !== undefined),
    };
  }
  return undefined;
}

function matchRoute(rest: readonly string[]): { route: Route; params: Record<string, string> } | undefined {
  return matchSegments(ROUTES, rest);
}

/** Whether a path belongs to the REST API (so the server can answer 404 for everything else). */
export function isRestPath(pathname: string): boolean {
  return /^\/(ws\/api|api|manage)(\/|$)/.test(pathname);
}

/** Handles one REST request; throws {@link Rejection} for every refusal. */
export async function handleRest(
  ctx: ServiceContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  let segments: string[];
  try {
    segments = url.pathname
      .replace(/\/+$/, '')
      .split('/')
      .slice(1)
      .map((s) => decodeURIComponent(s));
  } catch {
    throw new Rejection('invalid-request', 'The URL path is not valid percent-encoding');
  }
  const path = segments.join('/');
  if (path === 'manage/v1/ws/upstream') return handleManageUpstream(ctx, req, res, url);
  if (path === 'api/health' || path === 'api/v1/health') return handleHealth(req, res, url, path);
  const prefix = parsePrefix(segments);
  if (prefix && prefix.dialect === 'signalr') {
    return handleSignalRRest(ctx, req, res, url, { ...prefix, prefix: prefix.prefix as 'v1' | 'api' });
  }
  const match = prefix && matchRoute(prefix.rest);
  if (!prefix || !match) throw new Rejection('not-found', `No REST operation at ${url.pathname}`);
  const method = req.method ?? 'GET';
  const operation = match.route.methods[method];
  if (!operation) {
    throw new Rejection('method-not-allowed', `${method} is not allowed on ${url.pathname}`, {
      Allow: Object.keys(match.route.methods).join(', '),
    });
  }
  checkHubName(prefix.hub, '/api/v1/hubs/chat');
  await authenticateRest(ctx, req, url);
  await operation({
    ctx,
    dialect: prefix.dialect,
    hub: prefix.hub,
    registry: ctx.registries[prefix.dialect].hub(prefix.hub),
    params: match.params,
    req,
    res,
    url,
  });
}

/**
 * `HEAD`/`GET /api/health` (2020-10-01, 2022-06-01) and `/api/v1/health` (v1): 200 without a token, as
 * Azure's Management SDK probes it; the emulator also routes `GET`.
 */
function handleHealth(req: IncomingMessage, res: ServerResponse, url: URL, path: string): void {
  const version: ApiVersion = path === 'api/v1/health' ? 'v1' : '2022-06-01';
  try {
    if (req.method !== 'HEAD' && req.method !== 'GET') {
      throw new Rejection('method-not-allowed', `${req.method} is not allowed on /${path}: use HEAD`, {
        Allow: 'GET, HEAD',
      });
    }
    if (version !== 'v1') resolveVersion('api', url);
  } catch (error) {
    if (!(error instanceof Rejection)) throw error;
    sendApiError(res, version, error.status, error.code, error.message, error.headers);
    return;
  }
  sendEmpty(res, 200);
}

/**
 * The signalr dialect's REST API (rest-api.ts): route, method, version, token, names, then the operation;
 * every refusal in the version's error shape (v1 text/plain, later versions ErrorDetail JSON).
 */
async function handleSignalRRest(
  ctx: ServiceContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  prefix: { prefix: 'v1' | 'api'; hub: string; rest: string[] },
): Promise<void> {
  // Until the version is known, errors take the prefix's shape.
  let version: ApiVersion = prefix.prefix === 'v1' ? 'v1' : '2022-06-01';
  try {
    const method = req.method ?? 'GET';
    if (prefix.prefix === 'api' && prefix.rest.length === 1 && prefix.rest[0] === ':generateToken') {
      if (method !== 'POST') {
        throw new Rejection('method-not-allowed', `${method} is not allowed on ${url.pathname}`, {
          Allow: 'POST',
        });
      }
      if (!url.searchParams.get('api-version')) {
        throw new Rejection(
          'invalid-request',
          'The api-version query parameter is required for :generateToken',
        );
      }
      return await handleOperation(ctx, req, res, url, 'signalr', prefix.hub, {}, generateToken);
    }
    const match = matchApiRoute(prefix.rest);
    if (!match) throw new Rejection('not-found', `No REST operation at ${url.pathname}`);
    const name = match.methods[method];
    if (!name) {
      throw new Rejection('method-not-allowed', `${method} is not allowed on ${url.pathname}`, {
        Allow: Object.keys(match.methods).join(', '),
      });
    }
    version = resolveVersion(prefix.prefix, url, name);
    await authenticateRest(ctx, req, url);
    checkNames(name, prefix.hub, match.params, url);
    const registry = ctx.registries.signalr.hub(internalHubName(prefix.hub, url));
    await runOperation(name, version, { ctx, registry, params: match.params, req, url }, res);
  } catch (error) {
    if (!(error instanceof Rejection) || res.headersSent) throw error;
    sendApiError(res, version, error.status, error.code, error.message, error.headers);
  }
}

/** Runs one of the shared operations (`:generateToken`) after the hub check and the token. */
async function handleOperation(
  ctx: ServiceContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  dialect: Dialect,
  hub: string,
  params: Record<string, string>,
  operation: Operation,
): Promise<void> {
  await authenticateRest(ctx, req, url);
  checkHubName(hub, '/api/hubs/chat/:generateToken');
  await operation({
    ctx,
    dialect,
    hub,
    registry: ctx.registries[dialect].hub(hub),
    params,
    req,
    res,
    url,
  });
}

/** A REST caller's token: an Entra token in identity mode, else an access-key token for this URL. */
async function authenticateRest(ctx: ServiceContext, req: IncomingMessage, url: URL): Promise<void> {
  const token = requestToken(req, url);
  if (ctx.entra) {
    await ctx.entra.verify(token);
    return;
  }
  await authenticate(token, ctx.options.accessKeys, acceptedOrigins(ctx.endpoint()), [restAudiencePath(url)]);
}

async function handleManageUpstream(
  ctx: ServiceContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'PUT') {
    throw new Rejection('method-not-allowed', 'Use GET or PUT on /manage/v1/ws/upstream', {
      Allow: 'GET, PUT',
    });
  }
  await authenticateRest(ctx, req, url);
  if (req.method === 'PUT') {
    const body = await readBody(req, ctx.options.maxMessageBytes);
    let value: unknown;
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch {
      throw new Rejection(
        'invalid-request',
        'The body is not valid JSON: send {"templates":[{"urlTemplate":"…"}]}',
      );
    }
    const templates = (value as { templates?: unknown } | null)?.templates;
    if (!Array.isArray(templates)) {
      throw new Rejection('invalid-request', 'Send {"templates":[{"eventPattern?":"…","urlTemplate":"…"}]}');
    }
    try {
      ctx.upstream.templates = normalizeUpstream(templates);
    } catch (error) {
      if (error instanceof ServiceOptionsError) throw new Rejection(error.code, error.message);
      throw error;
    }
    ctx.options.log('info', 'Upstream templates replaced', { count: ctx.upstream.templates.length });
  }
  sendJson(res, 200, { templates: ctx.upstream.templates });
}
