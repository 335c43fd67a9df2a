/**
 * JWTs of the service: HS256 with the AccessKey string's UTF-8 bytes as the key, signed and verified with
 * `node:crypto` (the same compact JWS as `jose` makes and checks, a test holds them equal; `jose` goes through
 * WebCrypto, whose asynchronous HMAC cost about a millisecond of CPU per token, one to sign and one to verify
 * at every negotiate, connect and new REST audience). REST tokens carry `aud` = the request URL without query
 * and trailing slash; client tokens carry `aud` = the client URL, `nameid` = the user id and any extra claims.
 * See docs/architecture.md, "Tokens and identity".
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { JWTPayload } from 'jose';
import { type SIGNALR_ERRORS, SignalRError, type SignalRErrorCode } from './errors.js';

/** Default lifetime of tokens this app issues (the SignalR SDKs' default `AccessTokenLifetime`, one hour). */
export const DEFAULT_TOKEN_TTL_SECONDS = 3600;
/**
 * The longest lifetime of a client token the app issues or asks `:generateToken` for (`getClientAccess`
 * checks it; the local service, standing in for Azure, signs what `minutesToExpire` asks): a day. Azure publishes
 * no bound of its own beyond `minutesToExpire` being int32 (docs/architecture.md, "Tokens and identity"); a
 * client token is a bearer credential for its user, so the app keeps it short (negotiate asks for an hour and
 * the page negotiates again on reconnect).
 */
export const MAX_CLIENT_TOKEN_TTL_SECONDS = 24 * 3600;
/** Clock skew the service allows when checking `exp` (and `nbf`). */
export const CLOCK_SKEW_SECONDS = 300;

/** The protected header of every token: `{"alg":"HS256","typ":"JWT"}`, base64url-encoded. */
const HS256_HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
/** One part of a compact JWS: base64url without padding. */
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** The HS256 signature of `input` with `accessKey`'s UTF-8 bytes, base64url-encoded. */
function hs256(accessKey: string, input: string): string {
  return createHmac('sha256', accessKey).update(input).digest('base64url');
}

/**
 * The audience of a REST call: the request URL without its query string and trailing slash. Azure signs the
 * path only, so the same token serves every query (e.g. `api-version`, `excluded`).
 */
export function restAudience(url: string | URL): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`.replace(/\/+$/, '');
}

/** The client URL that negotiate returns and client tokens carry as `aud`. */
export function clientUrl(endpoint: string, hub: string): string {
  return `${endpoint.replace(/\/+$/, '')}/client/?hub=${encodeURIComponent(hub)}`;
}

export interface TokenOptions {
  /** Lifetime in seconds; default {@link DEFAULT_TOKEN_TTL_SECONDS}. */
  ttlSeconds?: number;
  /** The clock, for tests. */
  now?: () => number;
}

/** Signs a REST call to `url` (its query is ignored for the audience). */
export async function createRestToken(
  accessKey: string,
  url: string | URL,
  options: TokenOptions = {},
): Promise<string> {
  return sign(accessKey, { aud: restAudience(url) }, options);
}

export interface ClientTokenOptions extends TokenOptions {
  /** The user the connection belongs to (`nameid`). */
  userId?: string;
  /** Extra claims; they reach the upstream in `X-ASRS-User-Claims`. */
  claims?: Record<string, string | string[]>;
}

/** Signs a client token for `audience` (see {@link clientUrl}). */
export async function createClientToken(
  accessKey: string,
  audience: string,
  options: ClientTokenOptions = {},
): Promise<string> {
  const payload: JWTPayload = { ...(options.claims ?? {}), aud: audience };
  if (options.userId !== undefined) payload.nameid = options.userId;
  return sign(accessKey, payload, options);
}

/**
 * @throws RangeError unless `ttlSeconds` is positive and at most {@link MAX_CLIENT_TOKEN_TTL_SECONDS}.
 */
export function checkClientTokenTtl(ttlSeconds: number): void {
  if (!(ttlSeconds > 0 && ttlSeconds <= MAX_CLIENT_TOKEN_TTL_SECONDS)) {
    throw new RangeError(
      `A client token lives from 1 to ${MAX_CLIENT_TOKEN_TTL_SECONDS} seconds, not ${ttlSeconds}: negotiate again instead`,
    );
  }
}

async function sign(accessKey: string, payload: JWTPayload, options: TokenOptions): Promise<string> {
  const nowSeconds = Math.floor((options.now?.() ?? Date.now()) / 1000);
  const ttl = options.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
  // The claims in the order `jose`'s SignJWT writes them: the payload's, then iat, nbf and exp.
  const claims = { ...payload, iat: nowSeconds, nbf: nowSeconds, exp: nowSeconds + ttl };
  const input = `${HS256_HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${input}.${hs256(accessKey, input)}`;
}

/** Why a token is refused: the `token-…` codes of {@link SIGNALR_ERRORS}. */
export type TokenErrorCode = Extract<SignalRErrorCode, `token-${string}`>;

/** A token the service refuses; `message` is safe to return to a client (it never includes the token). */
export class TokenError extends SignalRError<TokenErrorCode> {
  override readonly name = 'TokenError';
}

export interface VerifyOptions {
  /** Accepted audiences; the token's `aud` must equal one of them. */
  audiences: readonly string[];
  /** Allowed clock skew in seconds; default {@link CLOCK_SKEW_SECONDS}. */
  clockToleranceSeconds?: number;
  /** The clock, for tests. */
  now?: () => number;
}

/**
 * Verifies an HS256 token against any of the keys: signature, `aud` and a required `exp`, as `jose`'s
 * `jwtVerify` with `algorithms: ['HS256']` and `requiredClaims: ['exp']` does (the header names HS256 and no
 * `crit`; `iat`, `nbf` and `exp` are numbers; `nbf` and `exp` hold within the clock tolerance).
 * Throws {@link TokenError} with the first failure.
 */
export async function verifyToken(
  token: string | null | undefined,
  accessKeys: readonly string[],
  options: VerifyOptions,
): Promise<JWTPayload> {
  if (!token)
    throw new TokenError(
      'token-missing',
      'No access token: send Authorization: Bearer <JWT> or ?access_token=',
    );
  const tolerance = options.clockToleranceSeconds ?? CLOCK_SKEW_SECONDS;
  const now = Math.floor((options.now?.() ?? Date.now()) / 1000);
  const parts = token.split('.');
  const [header, body, signature] = parts;
  if (parts.length !== 3 || !parts.every((part) => BASE64URL.test(part))) throw malformed();
  const protectedHeader = jsonObjectOf(header as string);
  if (
    protectedHeader?.alg !== 'HS256' ||
    protectedHeader.crit !== undefined ||
    (protectedHeader.b64 !== undefined && protectedHeader.b64 !== true)
  )
    throw malformed();
  const input = `${header}.${body}`;
  const given = Buffer.from(signature as string);
  const signed = accessKeys.some((key) => {
    const expected = Buffer.from(hs256(key, input));
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
  if (!signed)
    throw new TokenError('token-signature', 'The access token is not signed with a key of this service');
  const payload = jsonObjectOf(body as string) as JWTPayload | undefined;
  if (payload === undefined) throw malformed();
  // In the order jose checks them.
  if (payload.exp === undefined) throw new TokenError('token-no-expiry', 'The access token has no exp claim');
  if (payload.iat !== undefined && typeof payload.iat !== 'number') throw malformed('iat');
  if (payload.nbf !== undefined && (typeof payload.nbf !== 'number' || payload.nbf > now + tolerance))
    throw new TokenError('token-not-yet-valid', 'The access token is not valid yet (nbf)');
  if (typeof payload.exp !== 'number')
    throw new TokenError('token-no-expiry', 'The access token has no exp claim');
  if (payload.exp <= now - tolerance) throw new TokenError('token-expired', 'The access token has expired');
  const aud = payload.aud;
  const audList = Array.isArray(aud) ? aud : aud === undefined ? [] : [aud];
  if (!audList.some((a) => options.audiences.includes(a))) {
    throw new TokenError(
      'token-audience',
      `The token's audience does not match ${options.audiences[0] ?? 'this URL'}`,
    );
  }
  return payload;
}

/** Refuses bytes that are not UTF-8, as `jose` does, rather than replacing them. */
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The JSON object a base64url part holds, or undefined when it holds anything else. */
function jsonObjectOf(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(utf8.decode(Buffer.from(part, 'base64url')));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function malformed(claim?: string): TokenError {
  return new TokenError(
    'token-malformed',
    claim !== undefined
      ? `The access token's ${claim} claim is invalid`
      : 'The access token is not a valid HS256 JWT',
  );
}
