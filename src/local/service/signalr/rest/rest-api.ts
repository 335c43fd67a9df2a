/**
 * The routes of the SignalR wing's REST API, the version a request is answered in, and the checks of its
 * names (docs/local-service.md, "The REST API").
 */
import { HUB_NAME, INVALID_HUB_NAME } from '../../connections.js';
import { Rejection } from '../../errors.js';
import { matchSegments } from '../../rest/routes.js';
import { OPERATIONS, type OperationName } from './rest-operations.js';
import { API_VERSIONS, type ApiVersion, atLeast } from './rest-versions.js';

/** A route: path segments after `hubs/{hub}` (`{name}` captures one segment) and its operations by method. */
interface ApiRoute {
  readonly pattern: readonly string[];
  readonly methods: Readonly<Record<string, OperationName>>;
}

const exists = (name: OperationName) => ({ GET: name, HEAD: name });

/**
 * Every route of the emulator's controller definition, each served under `/api/v1` and `/api`, and those the
 * 2023-07-01 and 2024-12-01 specs add (served under `/api` only).
 */
const ROUTES: readonly ApiRoute[] = [
  { pattern: [], methods: { POST: 'Broadcast' } },
  { pattern: [':execute'], methods: { POST: 'Execute' } },
  { pattern: ['connections', '{connectionId}', ':invoke'], methods: { POST: 'InvokeClientConnection' } },
  {
    pattern: ['connections', '{connectionId}', 'streams', '{streamId}', ':send'],
    methods: { POST: 'SendToConnectionStream' },
  },
  {
    pattern: ['connections', '{connectionId}', 'streams', '{streamId}', ':complete'],
    methods: { POST: 'CompleteConnectionStream' },
  },
  { pattern: ['groups', '{group}', 'connections'], methods: { GET: 'ListConnectionsInGroup' } },
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

/** Finds the route of the path segments after the hub. */
export function matchApiRoute(rest: readonly string[]): ApiMatch | undefined {
  const match = matchSegments(ROUTES, rest);
  return match && { methods: match.route.methods, params: match.params };
}

/**
 * The version a request is answered in: `/api/v1` is v1; `/api` takes `api-version` (absent → 2020-10-01,
 * unless the operation is not in 2020-10-01, which requires it: its first version or a later one).
 */
export function resolveVersion(prefix: 'v1' | 'api', url: URL, operation?: OperationName): ApiVersion {
  const since = operation === undefined ? undefined : OPERATIONS[operation].since;
  if (prefix === 'v1') {
    if (since !== undefined && since !== '2022-06-01') {
      throw new Rejection(
        'not-found',
        `This operation is not in the v1 REST API: call it under /api/hubs/… with ?api-version=${since}`,
      );
    }
    return 'v1';
  }
  return requestedVersion(url, since);
}

/** The `api-version` of a request on `/api/…`; an operation new in `since` requires it, `since` or later. */
export function requestedVersion(url: URL, since: ApiVersion | undefined): ApiVersion {
  const requested = url.searchParams.get('api-version');
  if (requested === null) {
    if (since) {
      throw new Rejection(
        'invalid-request',
        `The api-version query parameter is required for this operation: add ?api-version=${since}`,
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
  const version = requested as ApiVersion;
  if (since && !atLeast(version, since)) {
    throw new Rejection(
      'invalid-request',
      `This operation is not in api-version ${version}: use ${API_VERSIONS.filter((v) => atLeast(v, since)).join(' or ')}`,
    );
  }
  return version;
}

/** The `excluded` names or the `reason` never need checking; these are the names that do. */
const GROUP_MAX = 1024;
const USER_MAX = 1024;
const STREAM_ID_MAX = 100;

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
  const streamId = params.streamId;
  if (
    streamId !== undefined &&
    (streamId.length < 1 || streamId.length > STREAM_ID_MAX || /^\s+$/.test(streamId))
  ) {
    throw new Rejection(
      'invalid-request',
      `Invalid stream id. A stream id is 1 to ${STREAM_ID_MAX} characters long, and not only whitespace.`,
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
