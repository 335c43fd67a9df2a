/**
 * The routes of the Web PubSub REST API (the operations of its 2024-12-01 spec), the api-versions it accepts
 * and the checks of its names (docs/local-service.md, "The Web PubSub REST API").
 */
import { HUB_NAME, INVALID_HUB_NAME } from '../../connections.js';
import { Rejection } from '../../errors.js';
import { matchSegments } from '../../rest/routes.js';

/** Every operation, by the spec's operationId without its `WebPubSub_` prefix. */
export type OperationName =
  | 'AddConnectionsToGroups'
  | 'CloseAllConnections'
  | 'GenerateClientToken'
  | 'RemoveConnectionsFromGroups'
  | 'SendToAll'
  | 'CloseConnection'
  | 'ConnectionExists'
  | 'SendToConnection'
  | 'RemoveConnectionFromAllGroups'
  | 'GroupExists'
  | 'CloseGroupConnections'
  | 'SendToGroup'
  | 'ListConnectionsInGroup'
  | 'AddConnectionToGroup'
  | 'RemoveConnectionFromGroup'
  | 'GrantPermission'
  | 'RevokePermission'
  | 'CheckPermission'
  | 'UserExists'
  | 'CloseUserConnections'
  | 'SendToUser'
  | 'RemoveUserFromAllGroups'
  | 'AddUserToGroup'
  | 'RemoveUserFromGroup';

/**
 * The stable data-plane versions Azure publishes (`specification/webpubsub/data-plane/WebPubSub/stable/` of
 * Azure/azure-rest-api-specs, and the TypeSpec project's 2024-12-01); Microsoft's `@azure/web-pubsub` 1.2 sends
 * the newest.
 */
export const WEBPUBSUB_API_VERSIONS = [
  '2021-10-01',
  '2022-11-01',
  '2023-07-01',
  '2024-01-01',
  '2024-12-01',
] as const;
export type WebPubSubApiVersion = (typeof WEBPUBSUB_API_VERSIONS)[number];

/** Operations a version before this one does not have (their first stable spec). */
const SINCE: Partial<Record<OperationName, WebPubSubApiVersion>> = {
  RemoveConnectionFromAllGroups: '2022-11-01',
  AddConnectionsToGroups: '2023-07-01',
  RemoveConnectionsFromGroups: '2023-07-01',
};

interface Route {
  readonly pattern: readonly string[];
  readonly methods: Readonly<Record<string, OperationName>>;
}

/** The routes after `/api/hubs/{hub}`, in the spec's order. */
const ROUTES: readonly Route[] = [
  { pattern: [':addToGroups'], methods: { POST: 'AddConnectionsToGroups' } },
  { pattern: [':closeConnections'], methods: { POST: 'CloseAllConnections' } },
  { pattern: [':generateToken'], methods: { POST: 'GenerateClientToken' } },
  { pattern: [':removeFromGroups'], methods: { POST: 'RemoveConnectionsFromGroups' } },
  { pattern: [':send'], methods: { POST: 'SendToAll' } },
  {
    pattern: ['connections', '{connectionId}'],
    methods: { DELETE: 'CloseConnection', HEAD: 'ConnectionExists' },
  },
  { pattern: ['connections', '{connectionId}', ':send'], methods: { POST: 'SendToConnection' } },
  {
    pattern: ['connections', '{connectionId}', 'groups'],
    methods: { DELETE: 'RemoveConnectionFromAllGroups' },
  },
  { pattern: ['groups', '{group}'], methods: { HEAD: 'GroupExists' } },
  { pattern: ['groups', '{group}', ':closeConnections'], methods: { POST: 'CloseGroupConnections' } },
  { pattern: ['groups', '{group}', ':send'], methods: { POST: 'SendToGroup' } },
  { pattern: ['groups', '{group}', 'connections'], methods: { GET: 'ListConnectionsInGroup' } },
  {
    pattern: ['groups', '{group}', 'connections', '{connectionId}'],
    methods: { PUT: 'AddConnectionToGroup', DELETE: 'RemoveConnectionFromGroup' },
  },
  {
    pattern: ['permissions', '{permission}', 'connections', '{connectionId}'],
    methods: { PUT: 'GrantPermission', DELETE: 'RevokePermission', HEAD: 'CheckPermission' },
  },
  { pattern: ['users', '{userId}'], methods: { HEAD: 'UserExists' } },
  { pattern: ['users', '{userId}', ':closeConnections'], methods: { POST: 'CloseUserConnections' } },
  { pattern: ['users', '{userId}', ':send'], methods: { POST: 'SendToUser' } },
  { pattern: ['users', '{userId}', 'groups'], methods: { DELETE: 'RemoveUserFromAllGroups' } },
  {
    pattern: ['users', '{userId}', 'groups', '{group}'],
    methods: { PUT: 'AddUserToGroup', DELETE: 'RemoveUserFromGroup' },
  },
];

/** The operation of a method on the segments after the hub; 404 or 405 (with Allow) when there is none. */
export function routeOperation(
  method: string,
  rest: readonly string[],
  pathname: string,
): { operation: OperationName; params: Record<string, string> } {
  const match = matchSegments(ROUTES, rest);
  if (!match) throw new Rejection('not-found', `No Web PubSub REST operation at ${pathname}`);
  const operation = match.route.methods[method];
  if (!operation) {
    throw new Rejection('method-not-allowed', `${method} is not allowed on ${pathname}`, {
      Allow: Object.keys(match.route.methods).join(', '),
    });
  }
  return { operation, params: match.params };
}

/** The request's api-version: required, one Azure publishes, and one that has the operation. */
export function checkVersion(url: URL, operation?: OperationName): WebPubSubApiVersion {
  const requested = url.searchParams.get('api-version');
  if (!requested) {
    throw new Rejection(
      'invalid-request',
      `The api-version query parameter is required: add ?api-version=${WEBPUBSUB_API_VERSIONS.at(-1)}`,
    );
  }
  const version = WEBPUBSUB_API_VERSIONS.find((v) => v === requested);
  if (!version) {
    throw new Rejection(
      'invalid-request',
      `Unsupported api-version "${requested}": Web PubSub publishes ${WEBPUBSUB_API_VERSIONS.join(', ')}`,
    );
  }
  const since = operation && SINCE[operation];
  if (since && version < since) {
    throw new Rejection(
      'invalid-request',
      `${operation} is not in api-version ${version}: use ${since} or later`,
    );
  }
  return version;
}

/** The longest group name the spec allows. */
const GROUP_MAX = 1024;

/** Checks a group name as the spec does: 1 to 1024 characters, not only whitespace. */
export function checkGroupName(group: string): void {
  if (group.length < 1 || group.length > GROUP_MAX || /^\s+$/.test(group)) {
    throw new Rejection(
      'invalid-request',
      `Invalid group name "${group.slice(0, 64)}". A group name is 1 to ${GROUP_MAX} characters long and not only whitespace`,
    );
  }
}

/** Refuses the names the spec's patterns refuse, with 400 and what is valid. */
export function checkNames(hub: string, params: Readonly<Record<string, string>>): void {
  if (!HUB_NAME.test(hub)) throw new Rejection('invalid-hub', INVALID_HUB_NAME);
  if (params.group !== undefined) checkGroupName(params.group);
  for (const name of ['connectionId', 'userId'] as const) {
    if (params[name] === '')
      throw new Rejection('invalid-request', `${name} must be at least 1 character long`);
  }
  const permission = params.permission;
  if (permission !== undefined && permission !== 'sendToGroup' && permission !== 'joinLeaveGroup') {
    throw new Rejection(
      'invalid-request',
      `Unknown permission "${permission}": use sendToGroup or joinLeaveGroup`,
    );
  }
}
