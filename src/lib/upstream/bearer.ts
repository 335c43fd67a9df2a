/**
 * Identity mode's upstream authentication (docs/architecture.md, "Tokens and identity"): SignalR's managed-identity
 * upstream auth puts `Authorization: Bearer <Microsoft Entra access token>` on every upstream call, and the app
 * accepts the call only when that token is RS256-signed by a key the tenant publishes (the `jwks_uri` of the
 * OpenID metadata), was issued by the tenant, is for the configured audience, is unexpired, and was issued to
 * SignalR's own identity (`oid`). The metadata is fetched once; jose caches the keys and refetches them only
 * for a key id it has not seen (Entra rolls its keys), at most once per cooldown.
 */
import {
  createRemoteJWKSet,
  type JWTPayload,
  type JWTVerifyGetKey,
  errors as joseErrors,
  jwtVerify,
} from 'jose';
import { readStreamWithin } from '../capped-read.js';
import { messageOf } from '../error-message.js';
import type { UpstreamTokenPolicy } from '../signalr/index.js';
import { quoteValue, UpstreamError } from './errors.js';

/** Default clock skew: Microsoft.IdentityModel's default `ClockSkew` (5 minutes), as App Service authentication uses. */
export const DEFAULT_UPSTREAM_CLOCK_SKEW_SECONDS = 300;
/** Default timeout of one metadata or key-set fetch. */
export const DEFAULT_METADATA_TIMEOUT_MS = 10_000;
/** The largest OpenID metadata document read (Entra's is about 2 KB). */
export const MAX_METADATA_BYTES = 64 * 1024;
/** The one signature algorithm Entra signs access tokens with. */
const ALGORITHMS = ['RS256'];

/**
 * The issuers a configured issuer stands for: Entra issues v1 tokens (`https://sts.windows.net/<tenant>/`) or,
 * when the resource's app registration asks for them (`requestedAccessTokenVersion: 2`), v2 tokens
 * (`https://login.microsoftonline.com/<tenant>/v2.0`); either form of one tenant accepts both.
 */
export function acceptedIssuers(issuer: string): string[] {
  const v1 = /^https:\/\/sts\.windows\.net\/([0-9a-fA-F-]{36})\/$/.exec(issuer);
  if (v1) return [issuer, `https://login.microsoftonline.com/${v1[1]}/v2.0`];
  const v2 = /^https:\/\/login\.microsoftonline\.com\/([0-9a-fA-F-]{36})\/v2\.0$/.exec(issuer);
  if (v2) return [issuer, `https://sts.windows.net/${v2[1]}/`];
  return [issuer];
}

/** Checks the bearer token of upstream calls against one {@link UpstreamTokenPolicy}. */
export class UpstreamTokenValidator {
  readonly #policy: Required<UpstreamTokenPolicy>;
  readonly #issuers: string[];
  #keys: Promise<JWTVerifyGetKey> | undefined;

  /** @throws RangeError when a policy field is empty or the metadata URL is not https (http only on loopback). */
  constructor(policy: UpstreamTokenPolicy) {
    for (const name of ['issuer', 'audience', 'openIdConfiguration', 'callerId'] as const) {
      if (typeof policy[name] !== 'string' || policy[name].trim() === '') {
        throw new RangeError(`The upstream token policy needs a non-empty ${name}`);
      }
    }
    checkFetchable(policy.openIdConfiguration, 'openIdConfiguration');
    this.#policy = {
      clockToleranceSeconds: DEFAULT_UPSTREAM_CLOCK_SKEW_SECONDS,
      metadataTimeoutMs: DEFAULT_METADATA_TIMEOUT_MS,
      ...policy,
    };
    this.#issuers = acceptedIssuers(policy.issuer.trim());
  }

  /**
   * Validates an `Authorization` header value; returns the token's claims or throws a catalogued
   * {@link UpstreamError} (401 for the token, 503 when the keys cannot be fetched).
   */
  async validate(authorization: string | null | undefined): Promise<JWTPayload> {
    if (!authorization?.trim()) throw new UpstreamError('missing-bearer-token');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match)
      throw new UpstreamError('missing-bearer-token', 'the Authorization header is not "Bearer <JWT>"');
    const token = match[1] as string;
    const keys = await this.#signingKeys();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        algorithms: ALGORITHMS,
        issuer: this.#issuers,
        audience: this.#policy.audience.trim(),
        clockTolerance: this.#policy.clockToleranceSeconds,
        requiredClaims: ['exp', 'oid'],
      }));
    } catch (error) {
      throw tokenError(error);
    }
    const oid = typeof payload.oid === 'string' ? payload.oid : '';
    if (oid.toLowerCase() !== this.#policy.callerId.trim().toLowerCase()) {
      throw new UpstreamError('bearer-token-caller', `oid ${quoteValue(oid)}`);
    }
    return payload;
  }

  /** The key set, from the metadata fetched once; a failed fetch is retried by the next call. */
  #signingKeys(): Promise<JWTVerifyGetKey> {
    this.#keys ??= this.#loadKeys().catch((error: unknown) => {
      this.#keys = undefined;
      throw error;
    });
    return this.#keys;
  }

  async #loadKeys(): Promise<JWTVerifyGetKey> {
    const url = this.#policy.openIdConfiguration.trim();
    let metadata: unknown;
    try {
      const response = await fetch(url, {
        signal: AbortSignal.timeout(this.#policy.metadataTimeoutMs),
        headers: { accept: 'application/json' },
      });
      const body = await readStreamWithin(response.body, MAX_METADATA_BYTES);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      if (body === undefined) throw new Error(`the document is larger than ${MAX_METADATA_BYTES} bytes`);
      metadata = JSON.parse(new TextDecoder().decode(body));
    } catch (error) {
      throw new UpstreamError('signing-keys-unavailable', `${url}: ${messageOf(error)}`);
    }
    const jwksUri = (metadata as { jwks_uri?: unknown } | null)?.jwks_uri;
    if (typeof jwksUri !== 'string') {
      throw new UpstreamError('signing-keys-unavailable', `${url} has no jwks_uri`);
    }
    try {
      checkFetchable(jwksUri, 'jwks_uri');
    } catch (error) {
      throw new UpstreamError('signing-keys-unavailable', (error as Error).message);
    }
    return createRemoteJWKSet(new URL(jwksUri), { timeoutDuration: this.#policy.metadataTimeoutMs });
  }
}

/**
 * The check of identity mode when its settings are incomplete: every call is refused with a 500 that names the
 * missing SIGNALR_UPSTREAM_* settings (an unchecked upstream would accept anyone).
 */
export const UNCONFIGURED_BEARER_CHECK = {
  validate: (): Promise<never> => Promise.reject(new UpstreamError('upstream-auth-unconfigured')),
};

/** https, or http to a loopback host (the local identity endpoint); anything else would let a network path swap the keys. */
function checkFetchable(value: string, name: string): void {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new RangeError(`${name} is not an absolute URL`);
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new RangeError(
      `${name} must be an https URL (http only for localhost), not ${url.protocol}//${url.host}`,
    );
  }
}

/** The catalogued rejection for a jose failure. */
function tokenError(error: unknown): UpstreamError {
  if (error instanceof UpstreamError) return error;
  if (error instanceof joseErrors.JWTExpired) return new UpstreamError('bearer-token-expired');
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return new UpstreamError('bearer-token-issuer');
    if (error.claim === 'aud') return new UpstreamError('bearer-token-audience');
    if (error.claim === 'nbf')
      return new UpstreamError('bearer-token-malformed', 'the token is not valid yet (nbf)');
    if (error.claim === 'exp')
      return new UpstreamError('bearer-token-malformed', 'the exp claim is missing or not a number');
    return new UpstreamError('bearer-token-malformed', `the ${error.claim} claim is missing or invalid`);
  }
  if (
    error instanceof joseErrors.JWSSignatureVerificationFailed ||
    error instanceof joseErrors.JWKSNoMatchingKey ||
    error instanceof joseErrors.JWKSMultipleMatchingKeys
  ) {
    return new UpstreamError('bearer-token-signature');
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) {
    return new UpstreamError('bearer-token-signature', 'the token is not RS256-signed');
  }
  if (error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JWKSInvalid) {
    return new UpstreamError('signing-keys-unavailable', error.message);
  }
  if (error instanceof TypeError || (error as { code?: unknown })?.code === 'ERR_JOSE_GENERIC') {
    // A network failure fetching the key set surfaces as a fetch TypeError.
    return new UpstreamError('signing-keys-unavailable', (error as Error).message);
  }
  return new UpstreamError('bearer-token-malformed');
}
