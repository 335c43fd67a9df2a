/**
 * Token checks of the service, as Azure does them: HS256 signed with any configured key, a required `exp`
 * (5 minutes of clock skew), and `aud` equal to the URL the client used.
 *
 * How the URL (the "endpoint") is derived: from the request's `Host` header, with scheme `http`, because that
 * is the address the caller actually reached the service at (tests use `127.0.0.1:<port>`, apps configured
 * with `Endpoint=http://localhost:8080` use `localhost:8080`). Two equivalences are accepted, both
 * harmless on a local service: the loopback names `localhost`, `127.0.0.1` and `[::1]` stand for one another,
 * and an audience may carry the port explicitly or omit it (Azure SDKs drop a `Port=` of the connection
 * string from the audience).
 */
import type { IncomingMessage } from 'node:http';
import type { JWTPayload } from 'jose';
import { TokenError, verifyToken } from '../../lib/signalr/tokens.js';
import { Rejection } from './errors.js';

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

/** The origins (scheme, host, optional port) a token's audience may start with for this request. */
export function acceptedOrigins(req: IncomingMessage, listeningPort: number): string[] {
  let host: URL;
  try {
    host = new URL(`http://${req.headers.host ?? `127.0.0.1:${listeningPort}`}`);
  } catch {
    throw new Rejection('invalid-host');
  }
  // The name the caller used comes first: rejection messages name it as the expected audience.
  const names = LOOPBACK_NAMES.includes(host.hostname)
    ? [host.hostname, ...LOOPBACK_NAMES.filter((name) => name !== host.hostname)]
    : [host.hostname];
  const port = host.port || String(listeningPort);
  return names.flatMap((name) => [`http://${name}:${port}`, `http://${name}`]);
}

/** The endpoint clients reached: `http://` + the Host header (what negotiate-style URLs are built from). */
export function requestEndpoint(req: IncomingMessage, listeningPort: number): string {
  return `http://${req.headers.host ?? `127.0.0.1:${listeningPort}`}`;
}

/**
 * The token of a request: `Authorization: Bearer …`, else `?access_token=`. Another kind of Authorization
 * header is a 401 that says so (it is never read as "no token", which the websocket dialect allows).
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
): Promise<JWTPayload> {
  const audiences = paths.flatMap((path) => origins.map((origin) => `${origin}${path}`));
  try {
    return await verifyToken(token, accessKeys, { audiences });
  } catch (error) {
    if (error instanceof TokenError) {
      const hint =
        error.code === 'token-audience'
          ? `The token's audience must be ${audiences[0]} (the URL without query and trailing slash)`
          : error.message;
      throw new Rejection('invalid-token', hint, { 'WWW-Authenticate': 'Bearer' });
    }
    throw error;
  }
}

/** The REST audience path of a request: its path without a trailing slash (the query never counts). */
export function restAudiencePath(url: URL): string {
  return url.pathname.replace(/\/+$/, '');
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
