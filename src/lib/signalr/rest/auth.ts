/**
 * How each REST request is signed: in key mode a REST token per audience (`aud` = the request URL without
 * query), reused for its lifetime and signed afresh shortly before it expires; in identity mode a Microsoft Entra
 * token for the data plane, kept until shortly before it expires. Signing is an HMAC plus JSON and base64 work
 * per request otherwise; the audiences a busy app calls are few (the hub's broadcast, its groups and users), and
 * at most `DEFAULT_MAX_CACHED_REST_TOKENS` are remembered, the least recently used forgotten first.
 * See docs/architecture.md, "Tokens and identity".
 */
import {
  type AccessToken,
  DefaultAzureCredential,
  ManagedIdentityCredential,
  type TokenCredential,
} from '@azure/identity';
import { setBounded } from '../../bounded-map.js';
import type { SignalRConnectionInfo } from '../connection-string.js';
import { createRestToken, restAudience } from '../tokens.js';
import { SignalRRestError } from './error.js';

/** The Microsoft Entra scope of Azure SignalR's data plane (identity mode). */
export const SIGNALR_ENTRA_SCOPE = 'https://signalr.azure.com/.default';
/** Lifetime of the REST tokens signed in key mode; each is reused for requests to its audience until near its end. */
export const DEFAULT_REST_TOKEN_TTL_SECONDS = 300;
/** A REST token is signed afresh when it has less than this left (at most half its lifetime). */
export const REST_TOKEN_REFRESH_MARGIN_SECONDS = 60;
/** REST tokens remembered, one per audience. */
export const DEFAULT_MAX_CACHED_REST_TOKENS = 1000;
/** An Entra token is renewed when it has less than this left. */
const ENTRA_REFRESH_MARGIN_MS = 2 * 60_000;

/** The `Authorization` header of every request to one service. */
export class RestAuthorization {
  readonly #connection: SignalRConnectionInfo;
  readonly #restTokenTtlSeconds: number;
  readonly #now: () => number;
  #credential: TokenCredential | undefined;
  #entraToken: AccessToken | undefined;
  /** Key mode: the token per audience and when it must be replaced (ms), least recently used first. */
  readonly #restTokens = new Map<string, { header: string; renewAt: number }>();

  /**
   * `credential` is used in identity mode only; by default a `ManagedIdentityCredential` with the connection
   * string's ClientId, else `DefaultAzureCredential`.
   */
  constructor(
    connection: SignalRConnectionInfo,
    restTokenTtlSeconds: number,
    credential: TokenCredential | undefined,
    now: () => number = Date.now,
  ) {
    this.#connection = connection;
    this.#restTokenTtlSeconds = restTokenTtlSeconds;
    this.#credential = credential;
    this.#now = now;
  }

  /** `Bearer <token>` for a request to `url`; a {@link SignalRRestError} (`credential`) when there is no Entra token. */
  async header(url: URL): Promise<string> {
    const credential = this.#connection.credential;
    if (credential.kind === 'key') {
      const audience = restAudience(url);
      const now = this.#now();
      const cached = this.#restTokens.get(audience);
      if (cached !== undefined && now < cached.renewAt) {
        setBounded(this.#restTokens, audience, cached, DEFAULT_MAX_CACHED_REST_TOKENS);
        return cached.header;
      }
      const ttl = this.#restTokenTtlSeconds;
      const token = await createRestToken(credential.accessKey, url, { ttlSeconds: ttl, now: () => now });
      const margin = Math.min(REST_TOKEN_REFRESH_MARGIN_SECONDS, ttl / 2);
      const entry = { header: `Bearer ${token}`, renewAt: now + (ttl - margin) * 1000 };
      setBounded(this.#restTokens, audience, entry, DEFAULT_MAX_CACHED_REST_TOKENS);
      return entry.header;
    }
    const cached = this.#entraToken;
    if (cached && cached.expiresOnTimestamp - Date.now() > ENTRA_REFRESH_MARGIN_MS) {
      return `Bearer ${cached.token}`;
    }
    this.#credential ??= credential.clientId
      ? new ManagedIdentityCredential({ clientId: credential.clientId })
      : new DefaultAzureCredential();
    const token = await this.#credential.getToken(SIGNALR_ENTRA_SCOPE);
    if (!token) {
      throw new SignalRRestError(
        'authenticate',
        'rest-no-credential',
        `No Microsoft Entra token for ${SIGNALR_ENTRA_SCOPE}: check the managed identity (ClientId) and its role on the SignalR resource`,
      );
    }
    this.#entraToken = token;
    return `Bearer ${token.token}`;
  }
}
