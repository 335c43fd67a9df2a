/**
 * The operations of the SignalR wing's REST API with their status per spec version, and what each does to
 * the wing's connections (docs/local-service.md, "The REST API").
 */
import type { ServerResponse } from 'node:http';
import type { OutboundMessage } from '../../connections.js';
import { CloseCode, Rejection } from '../../errors.js';
import { sendEmpty, sendJson } from '../../http.js';
import { type ApiCall, p, readPayload, reason } from './api-call.js';
import {
  completeStream,
  execute,
  invoke,
  type JsonAnswer,
  listGroupConnections,
  sendStreamItem,
} from './newer-operations.js';
import { type ApiVersion, sendApiError } from './rest-versions.js';

/** The operations of the specs (operationId stems shared by the versions). */
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
  | 'RemoveUserFromAllGroups'
  | 'Execute'
  | 'InvokeClientConnection'
  | 'SendToConnectionStream'
  | 'CompleteConnectionStream'
  | 'ListConnectionsInGroup';

/**
 * A handler answers whether the thing it addressed was found (false → the operation's 404, if it has one), or
 * the JSON body of its success.
 */
type Handler = (call: ApiCall) => Promise<boolean | JsonAnswer> | boolean | JsonAnswer;

interface OperationSpec {
  /** Success status per version; a version without the operation uses 2022-06-01's (later specs keep it). */
  readonly status: Partial<Record<ApiVersion, number>> & { readonly '2022-06-01': number };
  /**
   * The first spec version with the operation when it is not in 2020-10-01: `api-version` is required for it
   * on `/api/…`, and must be this version or a later one.
   */
  readonly since?: ApiVersion;
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
  CloseConnections: {
    status: { '2022-06-01': 204 },
    since: '2022-06-01',
    run: (c) => close(c, c.registry.all()),
  },
  CloseGroupConnections: {
    status: { '2022-06-01': 204 },
    since: '2022-06-01',
    run: (c) => close(c, c.registry.groupMembers(p(c, 'group'))),
  },
  CloseUserConnections: {
    status: { '2022-06-01': 204 },
    since: '2022-06-01',
    run: (c) => close(c, c.registry.userConnections(p(c, 'user'))),
  },
  CloseConnection: {
    status: { v1: 202, '2020-10-01': 200, '2022-06-01': 200 },
    run: (c) => {
      c.registry.connection(p(c, 'connectionId'))?.close(CloseCode.Normal, reason(c), true);
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
    since: '2022-06-01',
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
  Execute: { status: { '2022-06-01': 202 }, since: '2023-07-01', run: execute },
  InvokeClientConnection: {
    status: { '2022-06-01': 200 },
    since: '2024-12-01',
    notFound: NOT_FOUND.addConnection,
    run: invoke,
  },
  SendToConnectionStream: { status: { '2022-06-01': 202 }, since: '2024-12-01', run: sendStreamItem },
  CompleteConnectionStream: { status: { '2022-06-01': 202 }, since: '2024-12-01', run: completeStream },
  ListConnectionsInGroup: { status: { '2022-06-01': 200 }, since: '2024-12-01', run: listGroupConnections },
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
  const status = operation.status[version] ?? operation.status['2022-06-01'];
  if (typeof found === 'object') sendJson(res, status, found.json);
  else sendEmpty(res, status);
}

/** The success status of an operation in a version (for the operation table and its test). */
export function successStatus(name: OperationName, version: ApiVersion): number {
  const status = OPERATIONS[name].status;
  return status[version] ?? status['2022-06-01'];
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

/** The REST API's closes tell the client it may reconnect, as the emulator's `SendCloseAsync` does. */
function close(
  call: ApiCall,
  targets: Iterable<{ id: string; close(code: number, reason: string, allowReconnect: boolean): void }>,
) {
  const skip = new Set(call.url.searchParams.getAll('excluded'));
  const why = reason(call);
  for (const connection of [...targets])
    if (!skip.has(connection.id)) connection.close(CloseCode.Normal, why, true);
  return true;
}
