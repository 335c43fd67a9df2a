/**
 * The raw-WebSocket wing's REST API, `/ws/api/v1/hubs/{hub}…` (the 2020 preview's, kept as it was), and the
 * preview's management endpoint `/manage/v1/ws/upstream` (docs/local-service.md, "The REST API").
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkHubName, type HubRegistry, type OutboundMessage } from '../connections.js';
import { CloseCode, Rejection } from '../errors.js';
import { readBody, sendEmpty, sendJson, sendRejection } from '../http.js';
import { normalizeUpstream, ServiceOptionsError } from '../options.js';
import { sendClientToken } from '../rest/generate-token.js';
import { authenticateRest } from '../rest/rest-auth.js';
import type { RestApi } from '../rest/router.js';
import { matchSegments } from '../rest/routes.js';
import type { WebSocketContext } from './state.js';

/** What an operation gets: the hub's registry, the route parameters and the request. */
interface OperationContext {
  readonly ctx: WebSocketContext;
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
  {
    pattern: [':generateToken'],
    methods: { POST: (op) => sendClientToken(op.ctx, op.res, op.url, op.hub, 'websocket') },
  },
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

/** Reads a raw-WebSocket message body: `application/octet-stream` → binary frame, anything else → text. */
async function readMessage(op: OperationContext): Promise<OutboundMessage> {
  const body = await readBody(op.req, op.ctx.options.maxMessageBytes);
  const contentType = (op.req.headers['content-type'] ?? '').toLowerCase();
  return contentType.startsWith('application/octet-stream')
    ? { kind: 'binary', data: body }
    : { kind: 'text', text: body.toString('utf8') };
}

/** The REST API of the raw-WebSocket wing. */
export function webSocketRestApi(ctx: WebSocketContext): RestApi {
  return {
    owns: (pathname) => /^\/(ws\/api|manage)(\/|$)/.test(pathname),
    handle: (req, res, url, segments) => handleRest(ctx, req, res, url, segments),
  };
}

async function handleRest(
  ctx: WebSocketContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  segments: readonly string[],
): Promise<void> {
  if (segments.join('/') === 'manage/v1/ws/upstream') return handleManageUpstream(ctx, req, res, url);
  const [a, b, c, d, hub, ...rest] = segments;
  const prefixed = a === 'ws' && b === 'api' && c === 'v1' && d === 'hubs' && hub !== undefined;
  const match = prefixed ? matchSegments(ROUTES, rest) : undefined;
  if (!prefixed || !match) throw new Rejection('not-found', `No REST operation at ${url.pathname}`);
  const method = req.method ?? 'GET';
  const operation = match.route.methods[method];
  if (!operation) {
    throw new Rejection('method-not-allowed', `${method} is not allowed on ${url.pathname}`, {
      Allow: Object.keys(match.route.methods).join(', '),
    });
  }
  checkHubName(hub, '/api/v1/hubs/chat');
  await authenticateRest(ctx, req, url);
  await operation({ ctx, hub, registry: ctx.registry.hub(hub), params: match.params, req, res, url });
}

async function handleManageUpstream(
  ctx: WebSocketContext,
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
