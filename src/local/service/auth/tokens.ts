/**
 * Token checks of the service, as Azure does them: HS256 with any configured key, a required `exp`, and `aud`
 * a URL of the service's own endpoint (docs/local-service.md, "Tokens").
 */
import type { IncomingMessage } from 'node:http';
import { decodeJwt, type JWTPayload } from 'jose';
import { TokenError, verifyToken } from '../../../lib/signalr/tokens.js';
import { Rejection } from '../errors.js';
import { rememberedClaims, rememberVerified, tokenDigest } from './verified-tokens.js';

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

/** Whether a URL's host is a loopback name. */
export function isLoopbackName(hostname: string): boolean {
  return LOOPBACK_NAMES.includes(hostname);
}

/** The origins (scheme, host, optional port) a token's audience may start with: the endpoint's spellings. */
export function acceptedOrigins(endpoint: URL): string[] {
  const scheme = endpoint.protocol;
  // The endpoint's own spelling comes first: rejection messages name it as the expected audience.
  const names = isLoopbackName(endpoint.hostname)
    ? [endpoint.hostname, ...LOOPBACK_NAMES.filter((name) => name !== endpoint.hostname)]
    : [endpoint.hostname];
  const port = endpoint.port || (scheme === 'https:' ? '443' : '80');
  return names.flatMap((name) => [`${scheme}//${name}:${port}`, `${scheme}//${name}`]);
}

/**
 * The token of a request: `Authorization: Bearer …`, else `?access_token=`. Another kind of Authorization
 * header is a 401 that says so (it is never read as "no token").
 */
export function requestToken(req: IncomingMessage, url: URL): string | undefined {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) {
      throw new Rejection('invalid-token', 'The Authorization header must be "Bearer <JWT>"', {
        'WWW-Authenticate': 'Bearer',
      });
    }
    return match[1];
  }
  return url.searchParams.get('access_token') ?? undefined;
}

/**
 * Verifies a token for one of `paths` (each appended to every accepted origin). Any failure is a 401 whose
 * message says what was wrong (never the token itself).
 */
export async function authenticate(
  token: string | undefined,
  accessKeys: readonly string[],
  origins: readonly string[],
  paths: readonly string[],
  audiences: readonly string[] = paths.flatMap((path) => origins.map((origin) => `${origin}${path}`)),
): Promise<JWTPayload> {
  // A token verified before (the app reuses its REST token for minutes) skips the HMAC: see verified-tokens.ts.
  const digest = token ? tokenDigest(token) : undefined;
  const remembered = digest && rememberedClaims(digest, accessKeys, audiences);
  if (remembered) return remembered;
  try {
    const payload = await verifyToken(token, accessKeys, { audiences });
    if (digest) rememberVerified(digest, accessKeys, payload);
    return payload;
  } catch (error) {
    if (error instanceof TokenError) {
      const hint =
        error.code === 'token-audience'
          ? `The token's audience must be ${audiences[0]} (the URL without query and trailing slash, or followed by a query the request carries)`
          : error.message;
      throw new Rejection('invalid-token', hint, { 'WWW-Authenticate': 'Bearer' });
    }
    throw error;
  }
}

/** The REST audience path of a request: its path without a trailing slash. */
export function restAudiencePath(url: URL): string {
  return url.pathname.replace(/\/+$/, '');
}

/**
 * The audiences a REST token may have for `url` (each path under each accepted origin): the URL without its
 * query, as Azure documents it, and the form Microsoft's Management SDK signs (`RestApiProvider`): the same
 * URL followed by a query of its own, `?api-version=…` or `?application=…&api-version=…`, while the request
 * carries more (`excluded`, `reason`). Such an audience is accepted when every parameter of its query is in
 * the request's query with the same value: the audience still names this call, and one with a query the
 * request does not carry is refused. The token is read here without verification, only to learn which query
 * form it uses; {@link authenticate} then verifies it against the list.
 */
export function restAudiences(token: string | undefined, origins: readonly string[], url: URL): string[] {
  const path = restAudiencePath(url);
  const exact = origins.map((origin) => `${origin}${path}`);
  let aud: unknown;
  try {
    aud = token === undefined ? undefined : decodeJwt(token).aud;
  } catch {
    return exact; // not a JWT: authenticate says so
  }
  const withQuery = (Array.isArray(aud) ? aud : [aud]).filter(
    (a): a is string =>
      typeof a === 'string' && a.includes('?') && exact.includes(a.slice(0, a.indexOf('?'))),
  );
  const fits = (a: string) =>
    [...new URLSearchParams(a.slice(a.indexOf('?') + 1))].every(([name, value]) =>
      url.searchParams.getAll(name).includes(value),
    );
  return [...exact, ...withQuery.filter(fits)];
}

const RESERVED_CLAIMS = new Set(['aud', 'exp', 'iat', 'nbf', 'iss', 'jti']);

/** The claim Microsoft's SDKs (Management SDK, Functions binding) mint the user id into. */
export const SIGNALR_USER_ID_CLAIM = 'asrs.s.uid';
/** The long form of `nameid`, as .NET's `ClaimTypes.NameIdentifier` spells it. */
export const NAME_IDENTIFIER_CLAIM = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier';

/**
 * The user id a client token carries, if any, read as Azure SignalR reads it: `asrs.s.uid` first, then the
 * name identifier. .NET's JWT handler maps `nameid` and `sub` both onto the name identifier claim type, and
 * the first of them in the payload wins (the emulator's `GetUserIdentifier` in Azure/azure-signalr,
 * `src/Microsoft.Azure.SignalR.Emulator/Common/HttpContextExtenstions.cs`; `ClaimsUtility.cs` of its SDK).
 * A JSON object keeps its members in payload order, so "first" is the payload's own order.
 */
export function tokenUserId(payload: JWTPayload | undefined): string | undefined {
  if (!payload) return undefined;
  const uid = payload[SIGNALR_USER_ID_CLAIM];
  if (typeof uid === 'string' && uid !== '') return uid;
  for (const [type, value] of Object.entries(payload)) {
    if (type !== 'nameid' && type !== 'sub' && type !== NAME_IDENTIFIER_CLAIM) continue;
    // A claim given several values counts with its first, as .NET reads the first name identifier.
    const first = Array.isArray(value) ? value[0] : value;
    if (typeof first === 'string' && first !== '') return first;
  }
  return undefined;
}

/** The claims that flow upstream in `X-ASRS-User-Claims`: every claim but the JWT's own bookkeeping. */
export function forwardedClaims(payload: JWTPayload | undefined): Array<[string, string]> {
  if (!payload) return [];
  const claims: Array<[string, string]> = [];
  for (const [type, value] of Object.entries(payload)) {
    if (RESERVED_CLAIMS.has(type)) continue;
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item === undefined || item === null) continue;
      claims.push([type, typeof item === 'string' ? item : JSON.stringify(item)]);
    }
  }
  return claims;
}
