/**
 * The operations of the Web PubSub REST API over the hub state, each answering with the status Microsoft's
 * `@azure/web-pubsub` expects (the spec fixture's `clientStatuses`) (docs/local-service.md, "The Web PubSub REST API").
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Rejection } from '../../errors.js';
import { readBody, sendEmpty, sendJson } from '../../http.js';
import { type ConnectionFilter, parseFilter } from '../../rest/odata-filter.js';
import type { WebPubSubConnection, WebPubSubHubs, WebPubSubOutbound, WebPubSubPermission } from '../hub.js';
import type { OperationName } from './routes.js';
import { checkGroupName } from './routes.js';

/** What one operation works with. */
export interface OperationCall {
  readonly hubs: WebPubSubHubs;
  readonly hub: string;
  readonly params: Readonly<Record<string, string>>;
  readonly req: IncomingMessage;
  readonly url: URL;
  /** The request body limit (the service's `maxMessageBytes`). */
  readonly maxBodyBytes: number;
  /** The service's public endpoint, for the `nextLink` of a listing. */
  readonly endpoint: URL;
}

/** The longest `messageTtlSeconds` the spec allows; the local service delivers at once and keeps nothing. */
const MAX_MESSAGE_TTL_SECONDS = 300;
/** Page size of a group's connection listing when the call gives no `maxpagesize` (the spec's maximum). */
const LIST_PAGE_MAX = 200;

type DataType = 'text' | 'json' | 'binary';

/** The message of a send: its data type from the Content-Type Azure accepts, and the bytes. */
async function readMessage(call: OperationCall): Promise<{ dataType: DataType; data: Buffer }> {
  const ttl = call.url.searchParams.get('messageTtlSeconds');
  if (ttl !== null) {
    const seconds = Number(ttl);
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_MESSAGE_TTL_SECONDS) {
      throw new Rejection(
        'invalid-request',
        `messageTtlSeconds must be a whole number from 0 to ${MAX_MESSAGE_TTL_SECONDS}`,
      );
    }
  }
  const mediaType = (call.req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  const dataType: DataType | undefined =
    mediaType === 'text/plain'
      ? 'text'
      : mediaType === 'application/json'
        ? 'json'
        : mediaType === 'application/octet-stream'
          ? 'binary'
          : undefined;
  if (!dataType) {
    throw new Rejection(
      'unsupported-media-type',
      'Send the message as Content-Type text/plain, application/json or application/octet-stream',
    );
  }
  const data = await readBody(call.req, call.maxBodyBytes);
  if (dataType === 'json') {
    try {
      JSON.parse(data.toString('utf8'));
    } catch {
      throw new Rejection(
        'invalid-request',
        'The message body is not valid JSON (Content-Type application/json)',
      );
    }
  }
  return { dataType, data };
}

/** The `excluded` connection ids and the parsed `filter` of a call (a connection passes both to be chosen). */
function selection(url: URL): (connection: WebPubSubConnection) => boolean {
  const excluded = new Set(url.searchParams.getAll('excluded'));
  const source = url.searchParams.get('filter');
  const filter: ConnectionFilter | undefined = source === null ? undefined : parseFilter(source);
  return (connection) =>
    !excluded.has(connection.connectionId) && (filter === undefined || filter(connection));
}

/**
 * Sends to each chosen connection (the hub state's listings are snapshots: a send that closes a slow consumer
 * changes membership). Every recipient gets the same message object, so it is framed once per framing.
 */
async function send(call: OperationCall, targets: Iterable<WebPubSubConnection>, res: ServerResponse) {
  const choose = selection(call.url);
  const { dataType, data } = await readMessage(call);
  const message: WebPubSubOutbound = { from: 'server', dataType, data };
  for (const connection of targets) if (choose(connection)) connection.sendMessage(message);
  sendEmpty(res, 202);
}

/** Closes each chosen connection with the call's `reason`. */
function close(call: OperationCall, targets: Iterable<WebPubSubConnection>, res: ServerResponse) {
  const choose = selection(call.url);
  const reason = call.url.searchParams.get('reason') ?? undefined;
  for (const connection of [...targets]) if (choose(connection)) connection.closeConnection(reason);
  sendEmpty(res, 204);
}

function exists(found: boolean, res: ServerResponse) {
  sendEmpty(res, found ? 200 : 404);
}

/** The body of `:addToGroups` / `:removeFromGroups`: `{groups: string[], filter?: string}`. */
async function readGroupsRequest(
  call: OperationCall,
): Promise<{ groups: string[]; choose: ConnectionFilter }> {
  const body = await readBody(call.req, call.maxBodyBytes);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new Rejection('invalid-request', 'The body must be JSON: {"groups": ["…"], "filter": "…"}');
  }
  const groups = (parsed as { groups?: unknown } | null)?.groups;
  if (!Array.isArray(groups) || groups.length === 0 || groups.some((g) => typeof g !== 'string')) {
    throw new Rejection('invalid-request', 'groups must be a non-empty array of group names');
  }
  for (const group of groups) checkGroupName(group);
  const filter = (parsed as { filter?: unknown }).filter;
  if (filter !== undefined && filter !== null && typeof filter !== 'string') {
    throw new Rejection('invalid-request', 'filter must be a string holding an OData filter');
  }
  return { groups, choose: typeof filter === 'string' ? parseFilter(filter) : () => true };
}

function connectionOrThrow(call: OperationCall): WebPubSubConnection {
  const id = call.params.connectionId as string;
  const connection = call.hubs.connection(call.hub, id);
  if (!connection) throw new Rejection('connection-not-found', `No connection "${id}" in hub "${call.hub}"`);
  return connection;
}

/** A group's connections, a page at a time: `{value: [{connectionId, userId}], nextLink}`. */
function listGroup(call: OperationCall, res: ServerResponse) {
  const { url } = call;
  const pageText = url.searchParams.get('maxpagesize');
  const topText = url.searchParams.get('top');
  const page = pageText === null ? LIST_PAGE_MAX : Number(pageText);
  const top = topText === null ? Number.POSITIVE_INFINITY : Number(topText);
  if (!Number.isInteger(page) || page < 1 || page > LIST_PAGE_MAX) {
    throw new Rejection('invalid-request', `maxpagesize must be a whole number from 1 to ${LIST_PAGE_MAX}`);
  }
  if (topText !== null && (!Number.isInteger(top) || top < 1)) {
    throw new Rejection('invalid-request', 'top must be a whole number, at least 1');
  }
  const tokenText = url.searchParams.get('continuationToken');
  const offset = tokenText === null ? 0 : Number(tokenText);
  if (!Number.isInteger(offset) || offset < 0) {
    throw new Rejection('invalid-request', 'continuationToken is not one this service gave out');
  }
  const all = [...call.hubs.groupConnections(call.hub, call.params.group as string)].sort((a, b) =>
    a.connectionId < b.connectionId ? -1 : a.connectionId > b.connectionId ? 1 : 0,
  );
  const end = Math.min(all.length, offset + page, top);
  const value = all.slice(offset, end).map((c) => ({
    connectionId: c.connectionId,
    ...(c.userId !== undefined ? { userId: c.userId } : {}),
  }));
  let nextLink: string | undefined;
  if (end < Math.min(all.length, top)) {
    const next = new URL(url.pathname, call.endpoint);
    for (const [name, v] of url.searchParams)
      if (name !== 'continuationToken') next.searchParams.append(name, v);
    next.searchParams.set('continuationToken', String(end));
    nextLink = next.href;
  }
  sendJson(res, 200, { value, ...(nextLink ? { nextLink } : {}) });
}

/** Runs one operation and answers it; every refusal is thrown as a {@link Rejection}. */
export async function runOperation(
  name: OperationName,
  call: OperationCall,
  res: ServerResponse,
): Promise<void> {
  const { hubs, hub, params, url } = call;
  const group = params.group as string;
  const userId = params.userId as string;
  const connectionId = params.connectionId as string;
  const permission = params.permission as WebPubSubPermission;
  const targetName = url.searchParams.get('targetName') ?? undefined;
  if (targetName !== undefined) checkGroupName(targetName);
  switch (name) {
    case 'SendToAll':
      return send(call, hubs.connections(hub), res);
    case 'SendToUser':
      return send(call, hubs.userConnections(hub, userId), res);
    case 'SendToGroup':
      return send(call, hubs.groupConnections(hub, group), res);
    case 'SendToConnection':
      return send(call, [connectionOrThrow(call)], res);
    case 'CloseAllConnections':
      return close(call, hubs.connections(hub), res);
    case 'CloseUserConnections':
      return close(call, hubs.userConnections(hub, userId), res);
    case 'CloseGroupConnections':
      return close(call, hubs.groupConnections(hub, group), res);
    case 'CloseConnection':
      // Idempotent, as Azure: a connection already gone is not an error.
      return close(
        call,
        [hubs.connection(hub, connectionId)].filter((c) => c !== undefined),
        res,
      );
    case 'ConnectionExists':
      return exists(hubs.connection(hub, connectionId) !== undefined, res);
    case 'GroupExists':
      return exists(!isEmpty(hubs.groupConnections(hub, group)), res);
    case 'UserExists':
      return exists(!isEmpty(hubs.userConnections(hub, userId)), res);
    case 'AddConnectionToGroup':
      if (!hubs.addToGroup(hub, connectionId, group)) connectionOrThrow(call);
      return sendEmpty(res, 200);
    case 'RemoveConnectionFromGroup':
      hubs.removeFromGroup(hub, connectionId, group);
      return sendEmpty(res, 204);
    case 'RemoveConnectionFromAllGroups': {
      const connection = hubs.connection(hub, connectionId);
      for (const g of [...(connection?.groups ?? [])]) hubs.removeFromGroup(hub, connectionId, g);
      return sendEmpty(res, 204);
    }
    case 'AddUserToGroup':
      hubs.addUserToGroup(hub, userId, group);
      return sendEmpty(res, 200);
    case 'RemoveUserFromGroup':
      hubs.removeUserFromGroup(hub, userId, group);
      return sendEmpty(res, 204);
    case 'RemoveUserFromAllGroups':
      hubs.removeUserFromGroup(hub, userId);
      return sendEmpty(res, 204);
    case 'AddConnectionsToGroups':
    case 'RemoveConnectionsFromGroups': {
      const { groups, choose } = await readGroupsRequest(call);
      for (const connection of [...hubs.connections(hub)]) {
        if (!choose(connection)) continue;
        for (const g of groups) {
          if (name === 'AddConnectionsToGroups') hubs.addToGroup(hub, connection.connectionId, g);
          else hubs.removeFromGroup(hub, connection.connectionId, g);
        }
      }
      return sendEmpty(res, 200);
    }
    case 'ListConnectionsInGroup':
      return listGroup(call, res);
    case 'GrantPermission':
      if (!hubs.grant(hub, connectionId, permission, targetName)) connectionOrThrow(call);
      return sendEmpty(res, 200);
    case 'RevokePermission':
      hubs.revoke(hub, connectionId, permission, targetName);
      return sendEmpty(res, 204);
    case 'CheckPermission':
      return exists(hubs.has(hub, connectionId, permission, targetName), res);
    case 'GenerateClientToken':
      throw new Error('GenerateClientToken is answered by the API, not by an operation');
  }
}

function isEmpty(items: Iterable<unknown>): boolean {
  for (const _ of items) return false;
  return true;
}
