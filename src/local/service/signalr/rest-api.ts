/**
 * The data-plane REST API of the signalr dialect, as Microsoft's specs define it in three versions:
 *
 * - `v1`: `/api/v1/hubs/{hub}…` (OpenAPI 3 `v1.json`); errors are `text/plain`.
 * - `2020-10-01` and `2022-06-01`: `/api/hubs/{hub}…?api-version=…` (`:send`, `:closeConnections`); errors are
 *   `{"code","message"}` (the spec's `ErrorDetail`) with the code also in `x-ms-error-code`.
 *
 * Routing follows Azure's emulator, whose controller definition routes every operation under both prefixes,
 * `GET` as well as `HEAD` for health and existence checks, and both orders of the user/group and
 * connection/group paths. The status code of an operation is the one its spec version gives; an operation
 * reached under a version that does not define it (e.g. `:closeConnections` under `/api/v1`) answers as in
 * the one spec that does (2022-06-01). `api-version` is required on `/api/…` where 2022-06-01 is the only
 * version with the operation; elsewhere its absence means 2020-10-01 (that spec's default).
 *
 * Names are checked as the specs' patterns and the emulator's validators say (hub and `application`
 * pattern; group 1–1024 characters, not all whitespace; user of `:closeConnections` 1–1024; connection id
 * not empty), each with a 400 whose message says what a valid name is.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HUB_NAME, type HubRegistry, INVALID_HUB_NAME, type OutboundMessage } from '../connections.js';
import type { ServiceContext } from '../context.js';
import { CloseCode, Rejection } from '../errors.js';
import { readBody, sendEmpty } from '../http.js';

/** The spec versions the service implements. */
export type ApiVersion = 'v1' | '2020-10-01' | '2022-06-01';

/** The `api-version` values accepted on `/api/hubs/…` and `/api/health`. */
export const API_VERSIONS: readonly ApiVersion[] = ['2020-10-01', '2022-06-01'];

/** The operations of the specs (operationId stems shared by the three versions). */
export type OperationName =
  | 'Broadcast'
  | 'SendToUser'
  | 'SendToConnection'
  | 'GroupBroadcast'
  | 'CloseConnections'
  | 'CloseGroupConnections'
  | 'CloseUserConnections'
  | 'CloseConnection'
  | 'CheckConnectionExistence'
  | 'CheckGroupExistence'
  | 'CheckUserExistence'
  | 'CheckUserExistenceInGroup'
  | 'AddConnectionToGroup'
  | 'RemoveConnectionFromGroup'
  | 'RemoveConnectionFromAllGroups'
  | 'AddUserToGroup'
  | 'RemoveUserFromGroup'
  | 'RemoveUserFromAllGroups';

/** What a handler gets. */
export interface ApiCall {
  readonly ctx: ServiceContext;
  readonly registry: HubRegistry;
  readonly params: Readonly<Record<string, string>>;
  readonly req: IncomingMessage;
  readonly url: URL;
}

/** A handler answers whether the thing it addressed was found (false → the operation's 404, if it has one). */
type Handler = (call: ApiCall) => Promise<boolean> | boolean;

interface OperationSpec {
  /** Success status per version; a version without the operation uses 2022-06-01's. */
  readonly status: Partial<Record<ApiVersion, number>> & { readonly '2022-06-01': number };
  /** Only in 2022-06-01: `api-version` is required for it on `/api/…`. */
  readonly only2022?: boolean;
  /** The 404 of a check or a group operation: the `x-ms-error-code` Azure's Management SDK expects. */
  readonly notFound?: { readonly code: string; readonly message: string };
  readonly run: Handler;
}

const SEND = { v1: 202, '2020-10-01': 202, '2022-06-01': 202 } as const;
const CHECK = { v1: 200, '2020-10-01': 200, '2022-06-01': 200 } as const;

/** Azure's codes for the "not found" answers (Microsoft.Azure.SignalR.Common `Constants.ErrorCodes`). */
const NOT_FOUND = {
  connection: { code: 'Warning.Connection.NotExisted', message: 'The connection does not exist in this hub' },
  user: { code: 'Warning.User.NotExisted', message: 'The user has no connection to this hub' },
  group: { code: 'Warning.Group.NotExisted', message: 'The group has no connection in this hub' },
  userInGroup: { code: 'Info.User.NotInGroup', message: 'The user is not in the group' },
  addConnection: {
    code: 'Error.Connection.NotExisted',
    message: 'The connection does not exist in this hub',
  },
  notInGroup: { code: 'Warning.Connection.NotInGroup', message: 'The connection is not in the group' },
} as const;

export const OPERATIONS: Readonly<Record<OperationName, OperationSpec>> = {
  Broadcast: { status: SEND, run: (c) => send(c, c.registry.all()) },
  SendToUser: { status: SEND, run: (c) => send(c, c.registry.userConnections(p(c, 'user'))) },
  SendToConnection: {
    status: SEND,
    run: (c) => {
      const connection = c.registry.connection(p(c, 'connectionId'));
      return send(c, connection ? [connection] : []);
    },
  },
  GroupBroadcast: { status: SEND, run: (c) => send(c, c.registry.groupMembers(p(c, 'group'))) },
  CloseConnections: { status: { '2022-06-01': 204 }, only2022: true, run: (c) => close(c, c.registry.all()) },
  CloseGroupConnections: {
    status: { '2022-06-01': 204 },
    only2022: true,
    run: (c) => close(c, c.registry.groupMembers(p(c, 'group'))),
  },
  CloseUserConnections: {
    status: { '2022-06-01': 204 },
    only2022: true,
    run: (c) => close(c, c.registry.userConnections(p(c, 'user'))),
  },
  CloseConnection: {
    status: { v1: 202, '2020-10-01': 200, '2022-06-01': 200 },
    run: (c) => {
      c.registry.connection(p(c, 'connectionId'))?.close(CloseCode.Normal, reason(c));
      return true;
    },
  },
  CheckConnectionExistence: {
    status: CHECK,
    notFound: NOT_FOUND.connection,
    run: (c) => c.registry.connection(p(c, 'connectionId')) !== undefined,
  },
  CheckGroupExistence: {
    status: CHECK,
    notFound: NOT_FOUND.group,
    run: (c) => c.registry.hasGroup(p(c, 'group')),
  },
  CheckUserExistence: {
    status: CHECK,
    notFound: NOT_FOUND.user,
    run: (c) => c.registry.hasUser(p(c, 'user')),
  },
  CheckUserExistenceInGroup: {
    status: CHECK,
    notFound: NOT_FOUND.userInGroup,
    run: (c) => c.registry.isUserInGroup(p(c, 'group'), p(c, 'user')),
  },
  AddConnectionToGroup: {
    status: CHECK,
    notFound: NOT_FOUND.addConnection,
    run: (c) => c.registry.addConnectionToGroup(p(c, 'group'), p(c, 'connectionId')),
  },
  RemoveConnectionFromGroup: {
    status: CHECK,
    notFound: NOT_FOUND.notInGroup,
    run: (c) => c.registry.removeConnectionFromGroup(p(c, 'group'), p(c, 'connectionId')),
  },
  RemoveConnectionFromAllGroups: {
    status: { '2022-06-01': 200 },
    only2022: true,
    run: (c) => {
      c.registry.removeConnectionFromAllGroups(p(c, 'connectionId'));
      return true;
    },
  },
  AddUserToGroup: {
    status: { v1: 202, '2020-10-01': 202, '2022-06-01': 200 },
    run: (c) => {
      c.registry.addUserToGroup(p(c, 'group'), p(c, 'user'), ttl(c.url));
      return true;
    },
  },
  RemoveUserFromGroup: {
    status: { v1: 202, '2020-10-01': 200, '2022-06-01': 204 },
    run: (c) => {
      c.registry.removeUserFromGroup(p(c, 'group'), p(c, 'user'));
      return true;
    },
  },
  RemoveUserFromAllGroups: {
    status: { v1: 200, '2020-10-01': 200, '2022-06-01': 204 },
    run: (c) => {
      c.registry.removeUserFromAllGroups(p(c, 'user'));
      return true;
    },
  },
};

/** A route: path segments after `hubs/{hub}` (`{name}` captures one segment) and its operations by method. */
interface ApiRoute {
  readonly pattern: readonly string[];
  readonly methods: Readonly<Record<string, OperationName>>;
}

const exists = (name: OperationName) => ({ GET: name, HEAD: name });

/** Every route of the emulator's controller definition; each is served under `/api/v1` and `/api`. */
const ROUTES: readonly ApiRoute[] = [
  { pattern: [], methods: { POST: 'Broadcast' } },
  { pattern: [':send'], methods: { POST: 'Broadcast' } },
  { pattern: [':closeConnections'], methods: { POST: 'CloseConnections' } },
  { pattern: ['users', '{user}'], methods: { POST: 'SendToUser', ...exists('CheckUserExistence') } },
  { pattern: ['users', '{user}', ':send'], methods: { POST: 'SendToUser' } },
  { pattern: ['users', '{user}', ':closeConnections'], methods: { POST: 'CloseUserConnections' } },
  { pattern: ['users', '{user}', 'groups'], methods: { DELETE: 'RemoveUserFromAllGroups' } },
  {
    pattern: ['users', '{user}', 'groups', '{group}'],
    methods: { PUT: 'AddUserToGroup', DELETE: 'RemoveUserFromGroup', ...exists('CheckUserExistenceInGroup') },
  },
  {
    pattern: ['groups', '{group}', 'users', '{user}'],
    methods: { PUT: 'AddUserToGroup', DELETE: 'RemoveUserFromGroup', ...exists('CheckUserExistenceInGroup') },
  },
  {
    pattern: ['connections', '{connectionId}'],
    methods: { POST: 'SendToConnection', DELETE: 'CloseConnection', ...exists('CheckConnectionExistence') },
  },
  { pattern: ['connections', '{connectionId}', ':send'], methods: { POST: 'SendToConnection' } },
  {
    pattern: ['connections', '{connectionId}', 'groups'],
    methods: { DELETE: 'RemoveConnectionFromAllGroups' },
  },
  {
    pattern: ['connections', '{connectionId}', 'groups', '{group}'],
    methods: { PUT: 'AddConnectionToGroup', DELETE: 'RemoveConnectionFromGroup' },
  },
  { pattern: ['groups', '{group}'], methods: { POST: 'GroupBroadcast', ...exists('CheckGroupExistence') } },
  { pattern: ['groups', '{group}', ':send'], methods: { POST: 'GroupBroadcast' } },
  { pattern: ['groups', '{group}', ':closeConnections'], methods: { POST: 'CloseGroupConnections' } },
  {
    pattern: ['groups', '{group}', 'connections', '{connectionId}'],
    methods: { PUT: 'AddConnectionToGroup', DELETE: 'RemoveConnectionFromGroup' },
  },
];

/** A matched route: its methods and the captured names. */
export interface ApiMatch {
  readonly methods: Readonly<Record<string, OperationName>>;
  readonly params: Record<string, string>;
}

/**
 * Matches path segments against route patterns (`{name}` captures one segment): the first route whose pattern
 * fits, with its captured names. Shared by the signalr dialect's API and the websocket dialect's routes.
 */
export function matchSegments<R extends { readonly pattern: readonly string[] }>(
  routes: readonly R[],
  rest: readonly string[],
): { route: R; params: Record<string, string> } | undefined {
  for (const route of routes) {
    if (route.pattern.length !== rest.length) continue;
    const params: Record<string, string> = {};
    let matched = true;
    route.pattern.forEach((part, i) => {
      const segment = rest[i] as string;
      if (part.startsWith('{')) params[part.slice(1, -1)] = segment;
      else if (part !== segment) matched = false;
    });
    if (matched) return { route, params };
  }
  return undefined;
}

/** Finds the route of the path segments after the hub. */
export function matchApiRoute(rest: readonly string[]): ApiMatch | undefined {
  const match = matchSegments(ROUTES, rest);
  return match && { methods: match.route.methods, params: match.params };
}

/**
 * The version a request is answered in: `/api/v1` is v1; `/api` takes `api-version` (absent → 2020-10-01,
 * unless the operation exists only in 2022-06-01, which requires it).
 */
export function resolveVersion(prefix: 'v1' | 'api', url: URL, operation?: OperationName): ApiVersion {
  if (prefix === 'v1') return 'v1';
  const requested = url.searchParams.get('api-version');
  if (requested === null) {
    if (operation && OPERATIONS[operation].only2022) {
      throw new Rejection(
        'invalid-request',
        'The api-version query parameter is required for this operation: add ?api-version=2022-06-01',
      );
    }
    return '2020-10-01';
  }
  if (!(API_VERSIONS as readonly string[]).includes(requested)) {
    throw new Rejection(
      'invalid-request',
      `Unsupported api-version "${requested}": use ${API_VERSIONS.join(' or ')} (or the /api/v1 paths)`,
    );
  }
  return requested as ApiVersion;
}

/** The `excluded` names or the `reason` never need checking; these are the names that do. */
const GROUP_MAX = 1024;
const USER_MAX = 1024;

/** Refuses names the specs' patterns (and the emulator's validators) refuse, with 400 and what is valid. */
export function checkNames(
  operation: OperationName,
  hub: string,
  params: Readonly<Record<string, string>>,
  url: URL,
) {
  if (!HUB_NAME.test(hub)) throw new Rejection('invalid-hub', INVALID_HUB_NAME);
  const application = url.searchParams.get('application');
  if (application !== null && !HUB_NAME.test(application)) {
    throw new Rejection(
      'invalid-request',
      "Invalid value of 'application'. Valid application name should be in between 1 and 128 characters long. The first character must be a letter, other characters can be letters, digits or the following symbols _`,.[]",
    );
  }
  const group = params.group;
  if (group !== undefined && (group.length < 1 || group.length > GROUP_MAX || /^\s+$/.test(group))) {
    throw new Rejection(
      'invalid-request',
      `Invalid group name. Valid group name should be in between 1 and ${GROUP_MAX} characters long, and not only whitespace.`,
    );
  }
  const connectionId = params.connectionId;
  if (connectionId !== undefined && connectionId.length < 1) {
    throw new Rejection(
      'invalid-request',
      'Invalid connection id. A connection id is at least 1 character long',
    );
  }
  const user = params.user;
  if (user !== undefined && user.length < 1) {
    throw new Rejection('invalid-request', 'Invalid user id. A user id is at least 1 character long');
  }
  if (operation === 'CloseUserConnections' && user !== undefined && user.length > USER_MAX) {
    throw new Rejection(
      'invalid-request',
      `Invalid user id. The user id of :closeConnections is 1 to ${USER_MAX} characters long`,
    );
  }
}

/** The hub the registry keys: `application` prefixes it as Azure does (`{application}_{hub}`, lower case). */
export function internalHubName(hub: string, url: URL): string {
  const application = url.searchParams.get('application');
  return application ? `${application.toLowerCase()}_${hub.toLowerCase()}` : hub;
}

/** Runs an operation and answers its status: success, or the operation's 404 when nothing was found. */
export async function runOperation(
  name: OperationName,
  version: ApiVersion,
  call: ApiCall,
  res: ServerResponse,
): Promise<void> {
  const operation = OPERATIONS[name];
  const found = await operation.run(call);
  if (!found && operation.notFound) {
    sendApiError(res, version, 404, operation.notFound.code, operation.notFound.message);
    return;
  }
  sendEmpty(res, operation.status[version] ?? operation.status['2022-06-01']);
}

/** The success status of an operation in a version (for the operation table and its test). */
export function successStatus(name: OperationName, version: ApiVersion): number {
  const status = OPERATIONS[name].status;
  return status[version] ?? status['2022-06-01'];
}

/**
 * An error in the version's shape: v1 → `text/plain` message; 2020-10-01 and 2022-06-01 → `ErrorDetail`
 * JSON `{"code","message"}` and the code in `x-ms-error-code`. A HEAD answer carries the headers only.
 */
export function sendApiError(
  res: ServerResponse,
  version: ApiVersion,
  status: number,
  code: string,
  message: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  const v1 = version === 'v1';
  const text = v1 ? message : JSON.stringify({ code, message });
  res.writeHead(status, {
    ...headers,
    ...(v1 ? {} : { 'x-ms-error-code': code }),
    'Content-Type': v1 ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

function p(call: ApiCall, name: string): string {
  return call.params[name] as string;
}

function reason(call: ApiCall): string {
  return call.url.searchParams.get('reason') ?? '';
}

/** `ttl` (int32 seconds, 0 or more) of AddUserToGroup; undefined when absent. */
function ttl(url: URL): number | undefined {
  const value = url.searchParams.get('ttl');
  if (value === null) return undefined;
  const seconds = /^\d{1,10}$/.test(value) ? Number(value) : Number.NaN;
  if (!(seconds <= 2_147_483_647)) {
    throw new Rejection(
      'invalid-request',
      `The value '${value}' is not valid for ttl: give whole seconds, 0 to 2147483647`,
    );
  }
  return seconds;
}

async function send(call: ApiCall, targets: Iterable<{ id: string; deliver(m: OutboundMessage): void }>) {
  const message = await readPayload(call);
  const skip = new Set(call.url.searchParams.getAll('excluded'));
  for (const connection of [...targets]) if (!skip.has(connection.id)) connection.deliver(message);
  return true;
}

function close(call: ApiCall, targets: Iterable<{ id: string; close(code: number, reason: string): void }>) {
  const skip = new Set(call.url.searchParams.getAll('excluded'));
  const why = reason(call);
  for (const connection of [...targets])
    if (!skip.has(connection.id)) connection.close(CloseCode.Normal, why);
  return true;
}

/**
 * Reads a `PayloadMessage`: `application/json` (the controller's `Consumes`), `target` a non-empty string and
 * `arguments` an array or absent. Property names match case-insensitively, as the emulator's JSON binding
 * does (v1's spec spells them `Target`/`Arguments`).
 */
async function readPayload(call: ApiCall): Promise<OutboundMessage> {
  const contentType = call.req.headers['content-type'];
  if (contentType !== undefined && contentType.split(';')[0]?.trim().toLowerCase() !== 'application/json') {
    throw new Rejection(
      'unsupported-media-type',
      `Content-Type ${contentType} is not supported: send the message as application/json`,
    );
  }
  const body = await readBody(call.req, call.ctx.options.maxMessageBytes);
  const usage = 'send {"target":"…","arguments":[…]}';
  if (body.length === 0)
    throw new Rejection('invalid-request', `Message in request body is required: ${usage}`);
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new Rejection('invalid-request', `The body is not valid JSON: ${usage}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Rejection('invalid-request', `The body is not a JSON object: ${usage}`);
  }
  const target = property(value, 'target');
  const args = property(value, 'arguments');
  if (typeof target !== 'string' || target === '') {
    throw new Rejection('invalid-request', `The body needs a non-empty "target": ${usage}`);
  }
  if (args !== undefined && args !== null && !Array.isArray(args)) {
    throw new Rejection('invalid-request', 'The body\'s "arguments" must be an array');
  }
  return { kind: 'invocation', target, arguments: args ?? [] };
}

/** A property by exact name, else the first whose name matches ignoring case. */
function property(object: object, name: string): unknown {
  const record = object as Record<string, unknown>;
  if (Object.hasOwn(record, name)) return record[name];
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : record[key];
}
