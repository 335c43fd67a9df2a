/**
 * Where each REST call goes. Paths follow Azure's data-plane REST API v1, `/api/v1/hubs/{hub}…`;
 * `:generateToken` is the one call outside it, on `/api/hubs/{hub}/:generateToken` with an api-version. Every name placed in a path is
 * percent-encoded, must not be empty and must not be a dot segment, so it cannot change which route a URL means.
 */
/**
 * The api-version of `:generateToken`, the only call outside the v1 REST API: the newest version of Azure
 * SignalR's data-plane REST API that publishes the operation (its 2024-12-01 spec, `POST
 * /api/hubs/{hub}/:generateToken`). `2024-01-01` is a Web PubSub version. test/unit/generate-token-version.test.ts
 * checks this value against the list of SignalR's published versions.
 */
export const GENERATE_TOKEN_API_VERSION = '2024-12-01';

/**
 * Every api-version Azure SignalR publishes `:generateToken` in, oldest first: `2022-11-01` (its example in
 * Azure/azure-signalr `docs/swagger/examples/HubProxyV20221101_GenerateClientToken.json` and Learn's negotiation
 * example), `2023-07-01` and `2024-12-01` (the specs of those versions). The local service refuses any other.
 */
export const GENERATE_TOKEN_API_VERSIONS: readonly string[] = [
  '2022-11-01',
  '2023-07-01',
  GENERATE_TOKEN_API_VERSION,
];

/**
 * Azure's rule for hub names (the `hub` pattern of the 2020-10-01 and 2022-06-01 REST specs): a letter first,
 * then letters, digits or `` _`,.[] ``; 1 to 128 characters.
 */
const HUB_NAME = /^[A-Za-z][A-Za-z0-9_`,.[\]]{0,127}$/;

/** The longest group name Azure accepts (the specs' `maxLength` of `group`). */
export const MAX_GROUP_NAME_LENGTH = 1024;

/** A query: name/value pairs, repeated names allowed. */
export type Query = readonly (readonly [string, string])[];

/** Throws a `TypeError` for a hub name Azure would refuse. */
export function checkHubName(hub: string): void {
  if (!HUB_NAME.test(hub)) {
    throw new TypeError(
      `Hub name "${hub}" is invalid: start with a letter, then only letters, digits or _\`,.[] (at most 128 characters)`,
    );
  }
}

/** Guards a group name as the specs do: 1 to {@link MAX_GROUP_NAME_LENGTH} characters, not only whitespace. */
export function groupName(value: string): string {
  pathPart('group', value);
  if (value.length > MAX_GROUP_NAME_LENGTH || /^\s+$/.test(value)) {
    throw new TypeError(
      `group must be 1 to ${MAX_GROUP_NAME_LENGTH} characters and not only whitespace (Azure refuses it otherwise)`,
    );
  }
  return value;
}

/** The hub's REST base URL, e.g. `http://localhost:8080/api/v1/hubs/chat`. */
export function hubBaseUrl(endpoint: string, hub: string): string {
  return `${endpoint}/api/v1/hubs/${encodeURIComponent(hub)}`;
}

/**
 * Encoded path segments that a URL parser resolves instead of keeping (the WHATWG URL Standard's single- and
 * double-dot segments, compared case-insensitively): `a/../b` is `b`, and `%2e` counts as a dot.
 */
const DOT_SEGMENTS: ReadonlySet<string> = new Set(['.', '%2e', '..', '.%2e', '%2e.', '%2e%2e']);

/**
 * One name as a path segment: percent-encoded, and refused (`TypeError`) when a URL parser would resolve it
 * instead of keeping it, since `groups/..` addresses the hub and not a group.
 */
export function pathSegment(value: string): string {
  const encoded = encodeURIComponent(value);
  if (DOT_SEGMENTS.has(encoded.toLowerCase())) {
    throw new TypeError(
      `"${value}" cannot be a URL path segment: a URL parser would resolve it as a step up or a step in place`,
    );
  }
  return encoded;
}

/** The URL of a call: the base URL, the path segments (each encoded and checked here), and the query. */
export function restUrl(baseUrl: string, segments: readonly string[], query: Query = []): URL {
  return withQuery(new URL([baseUrl, ...segments.map(pathSegment)].join('/')), query);
}

/** The URL of `:generateToken` for `hub`, with the query. */
export function generateTokenUrl(endpoint: string, hub: string, query: Query): URL {
  return withQuery(new URL(`${endpoint}/api/hubs/${encodeURIComponent(hub)}/:generateToken`), query);
}

/** Guards a path part: an empty one would silently address a different route. */
export function pathPart(name: string, value: string): string {
  if (typeof value !== 'string' || value === '') throw new TypeError(`${name} must be a non-empty string`);
  return value;
}

/** The `excluded` query of the send calls. */
export function excludedQuery(excluded: readonly string[] | undefined): [string, string][] {
  return (excluded ?? []).map((connectionId) => ['excluded', connectionId]);
}

function withQuery(url: URL, query: Query): URL {
  for (const [name, value] of query) url.searchParams.append(name, value);
  return url;
}
