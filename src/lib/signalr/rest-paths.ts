/**
 * Where each REST call goes. Paths follow Azure's data-plane REST API v1: `/api/v1/hubs/{hub}…` in the signalr
 * dialect, `/ws/api/v1/hubs/{hub}…` in the websocket dialect (the 2020 preview); `:generateToken` is the one
 * call outside it, on `/api/hubs/{hub}/:generateToken` with an api-version. Every name placed in a path is
 * percent-encoded and must not be empty, so it cannot change which route a URL means.
 */
import type { Dialect } from './tokens.js';

/** The api-version of `:generateToken`, the only call outside the v1 REST API. */
export const GENERATE_TOKEN_API_VERSION = '2024-01-01';

/** Azure's rule for hub names: a letter first, then letters, digits and underscores. */
const HUB_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/** A query: name/value pairs, repeated names allowed. */
export type Query = readonly (readonly [string, string])[];

/** Throws a `TypeError` for a hub name Azure would refuse. */
export function checkHubName(hub: string): void {
  if (!HUB_NAME.test(hub)) {
    throw new TypeError(
      `Hub name "${hub}" is invalid: start with a letter, then only letters, digits and underscores`,
    );
  }
}

/** The hub's REST base URL in `dialect`, e.g. `http://localhost:8080/api/v1/hubs/chat`. */
export function hubBaseUrl(endpoint: string, hub: string, dialect: Dialect): string {
  const prefix = dialect === 'websocket' ? '/ws/api/v1/hubs/' : '/api/v1/hubs/';
  return `${endpoint}${prefix}${encodeURIComponent(hub)}`;
}

/** The URL of a call: the base URL, the path segments (each encoded here), and the query. */
export function restUrl(baseUrl: string, segments: readonly string[], query: Query = []): URL {
  return withQuery(new URL([baseUrl, ...segments.map(encodeURIComponent)].join('/')), query);
}

/** The URL of `:generateToken` for `hub`, with the query. */
export function generateTokenUrl(
  endpoint: string,
  hub: string,
  query: Query,
  dialect: 'signalr' | 'websocket' = 'signalr',
): URL {
  // The websocket dialect exists on the local service only, under its own prefix (its tokens have its own `aud`).
  const prefix = dialect === 'websocket' ? 'ws/api/v1/hubs' : 'api/hubs';
  return withQuery(new URL(`${endpoint}/${prefix}/${encodeURIComponent(hub)}/:generateToken`), query);
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
