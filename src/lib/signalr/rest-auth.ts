/**
 * How each REST request is signed: in key mode a fresh REST token per request (`aud` = the request URL without
 * query), in identity mode a Microsoft Entra token for the data plane, kept until shortly before it expires.
 */
import {
  type AccessToken,
  DefaultAzureCredential,
  ManagedIdentityCredential,
  type TokenCredential,
} from '@azure/identity';
import type { SignalRConnectionInfo } from './connection-string.js';
import { SignalRRestError } from './rest-error.js';
import { createRestToken } from './tokens.js';

/** The Microsoft Entra scope of Azure SignalR's data plane (identity mode). */
export const SIGNALR_ENTRA_SCOPE = 'https://signalr.azure.com/.default';
/** Lifetime of the REST tokens signed in key mode; each request gets a fresh one. */
export const DEFAULT_REST_TOKEN_TTL_SECONDS = 300;
/** An Entra token is renewed when it has less than this left. */
const ENTRA_REFRESH_MARGIN_MS = 2 * 60_000;

/** The `Authorization` header of every request to one service. */
export class RestAuthorization {
  readonly #connection: SignalRConnectionInfo;
  readonly #restTokenTtlSeconds: number;
  #credential: TokenCredential | undefined;
  #entraToken: AccessToken | undefined;

  /**
   * `credential` is used in identity mode only; by default a `ManagedIdentityCredential` with the connection
   * string's ClientId, else `DefaultAzureCredential`.
   */
  constructor(
    connection: SignalRConnectionInfo,
    restTokenTtlSeconds: number,
    credential: TokenCredential | undefined,
  ) {
    this.#connection = connection;
    this.#restTokenTtlSeconds = restTokenTtlSeconds;
    this.#credential = credential;
  }

  /** `Bearer <token>` for a request to `url`; a {@link SignalRRestError} (`credential`) when there is no Entra token. */
  async header(url: URL): Promise<string> {
    const credential = this.#connection.credential;
    if (credential.kind === 'key') {
      return `Bearer ${await createRestToken(credential.accessKey, url, { ttlSeconds: this.#restTokenTtlSeconds })}`;
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
