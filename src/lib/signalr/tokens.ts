/**
 * JWTs of the service, signed with `jose`: HS256 with the AccessKey string's UTF-8 bytes as the key.
 * REST tokens carry `aud` = the request URL without query and trailing slash; client tokens carry
 * `aud` = the client URL, `nameid` = the user id and any extra claims.
 * See docs/architecture.md, "Tokens and identity".
 */
import { type JWTPayload, errors as joseErrors, jwtVerify, SignJWT } from 'jose';
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

const encoder = new TextEncoder();

/**
 * HMAC keys, imported once per AccessKey: given raw bytes, jose imports a WebCrypto key on every sign and
 * verify, which is about a third of their cost, and both run once per REST call on either side. The map holds
 * only configured keys (a primary and a secondary), so it stays small.
 */
const hmacKeys = new Map<string, Promise<CryptoKey>>();

function hmacKey(accessKey: string): Promise<CryptoKey> {
  let key = hmacKeys.get(accessKey);
  if (!key) {
    key = crypto.subtle.importKey(
      'raw',
      encoder.encode(accessKey),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign', 'verify'],
    );
    hmacKeys.set(accessKey, key);
  }
  return key;
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
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(nowSeconds)
    .setNotBefore(nowSeconds)
    .setExpirationTime(nowSeconds + ttl)
    .sign(await hmacKey(accessKey));
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
 * Verifies an HS256 token against any of the keys: signature, `aud` and a required `exp`.
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
  const currentDate = options.now ? new Date(options.now()) : undefined;
  let lastError: unknown;
  for (const key of accessKeys) {
    try {
      const { payload } = await jwtVerify(token, await hmacKey(key), {
        algorithms: ['HS256'],
        clockTolerance: tolerance,
        requiredClaims: ['exp'],
        ...(currentDate ? { currentDate } : {}),
      });
      const aud = payload.aud;
      const audList = Array.isArray(aud) ? aud : aud === undefined ? [] : [aud];
      if (!audList.some((a) => options.audiences.includes(a))) {
        throw new TokenError(
          'token-audience',
          `The token's audience does not match ${options.audiences[0] ?? 'this URL'}`,
        );
      }
      return payload;
    } catch (error) {
      if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
        lastError = error;
        continue; // try the next key
      }
      throw toTokenError(error);
    }
  }
  throw toTokenError(lastError ?? new joseErrors.JWSSignatureVerificationFailed());
}

function toTokenError(error: unknown): TokenError {
  if (error instanceof TokenError) return error;
  if (error instanceof joseErrors.JWTExpired)
    return new TokenError('token-expired', 'The access token has expired');
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
    return new TokenError('token-signature', 'The access token is not signed with a key of this service');
  }
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'exp') return new TokenError('token-no-expiry', 'The access token has no exp claim');
    if (error.claim === 'nbf')
      return new TokenError('token-not-yet-valid', 'The access token is not valid yet (nbf)');
    return new TokenError('token-malformed', `The access token's ${error.claim} claim is invalid`);
  }
  return new TokenError('token-malformed', 'The access token is not a valid HS256 JWT');
}
