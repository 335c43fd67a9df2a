/**
 * The operations of the SignalR wing's REST API with their status per spec version, and what each does to
 * the wing's connections (docs/local-service.md, "The REST API").
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HubRegistry, OutboundMessage } from '../connections.js';
import type { ServiceContext } from '../context.js';
import { CloseCode, Rejection } from '../errors.js';
import { readBody, sendEmpty } from '../http.js';
import { type ApiVersion, sendApiError } from './rest-versions.js';

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
