/**
 * Identity mode: the REST API and `:generateToken` accept only Microsoft Entra access tokens
 * (docs/local-service.md, "Tokens").
 */
import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  type JWTPayload,
  type JWTVerifyGetKey,
  errors as joseErrors,
  jwtVerify,
} from 'jose';
import { CLOCK_SKEW_SECONDS } from '../../../lib/signalr/tokens.js';
import { Rejection } from '../errors.js';

/** The `aud` of Entra tokens for the data plane: the scope `https://signalr.azure.com/.default` without `/.default`. */
export const SIGNALR_ENTRA_AUDIENCE = 'https://signalr.azure.com';

/** Timeout of fetching the metadata or the keys. */
const METADATA_TIMEOUT_MS = 10_000;

const BEARER = { 'WWW-Authenticate': 'Bearer' };

/** Checks Entra tokens against one OpenID metadata document, fetched once (keys cached by jose). */
export class EntraTokenVerifier {
  readonly #metadataUrl: string;
  readonly #audience: string;
  #trust: Promise<{ issuer: string; keys: JWTVerifyGetKey }> | undefined;

  constructor(metadataUrl: string, audience: string) {
    this.#metadataUrl = metadataUrl;
    this.#audience = audience;
  }

  /** The token's claims, or a {@link Rejection} (401 with what was wrong; 503 when the keys cannot be fetched). */
  async verify(token: string | undefined): Promise<JWTPayload> {
    if (!token) {
      throw new Rejection(
        'invalid-token',
        'No access token: send Authorization: Bearer <Entra token>',
        BEARER,
      );
    }
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw new Rejection('invalid-token', 'The access token is not a JWT', BEARER);
    }
    if (alg === 'HS256') throw new Rejection('local-auth-disabled', undefined, BEARER);
    const { issuer, keys } = await this.#trusted();
    try {
      const { payload } = await jwtVerify(token, keys, {
        algorithms: ['RS256'],
        issuer,
        audience: this.#audience,
        clockTolerance: CLOCK_SKEW_SECONDS,
        requiredClaims: ['exp'],
      });
      return payload;
    } catch (error) {
      throw new Rejection('invalid-token', reason(error, issuer, this.#audience), BEARER);
    }
  }

  #trusted(): Promise<{ issuer: string; keys: JWTVerifyGetKey }> {
    this.#trust ??= this.#load().catch((error: unknown) => {
      this.#trust = undefined;
      throw error;
    });
    return this.#trust;
  }

  async #load(): Promise<{ issuer: string; keys: JWTVerifyGetKey }> {
    try {
      const response = await fetch(this.#metadataUrl, { signal: AbortSignal.timeout(METADATA_TIMEOUT_MS) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const metadata = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
      if (typeof metadata.issuer !== 'string' || typeof metadata.jwks_uri !== 'string') {
        throw new Error('no issuer or jwks_uri');
      }
      return {
        issuer: metadata.issuer,
        keys: createRemoteJWKSet(new URL(metadata.jwks_uri), { timeoutDuration: METADATA_TIMEOUT_MS }),
      };
    } catch (error) {
      throw new Rejection(
        'identity-unavailable',
        `The OpenID metadata ${this.#metadataUrl} could not be read (${(error as Error).message})`,
      );
    }
  }
}

function reason(error: unknown, issuer: string, audience: string): string {
  if (error instanceof joseErrors.JWTExpired) return 'The access token has expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return `The access token's audience must be ${audience}`;
    if (error.claim === 'iss') return `The access token's issuer must be ${issuer}`;
    if (error.claim === 'exp' && error.reason === 'missing')
      return 'The access token has no exp claim: give it one';
    if (error.claim === 'nbf' && error.reason === 'check_failed')
      return 'The access token is not valid yet (nbf)';
    return `The access token's ${error.claim} claim is missing or invalid`;
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed)
    return 'The access token must be RS256-signed by Microsoft Entra';
  if (
    error instanceof joseErrors.JWSSignatureVerificationFailed ||
    error instanceof joseErrors.JWKSNoMatchingKey
  ) {
    return 'The access token is not signed by a key of the trusted tenant';
  }
  return 'The access token is not a valid Microsoft Entra token';
}
