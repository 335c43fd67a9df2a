/**
 * The managed identity of the local SignalR service: tokens from an App Service-style identity endpoint
 * (`IDENTITY_ENDPOINT` + `IDENTITY_HEADER`), as Azure SignalR gets them for its own identity to put on upstream
 * calls. A token is reused until {@link REFRESH_MARGIN_MS} before it expires.
 */
import { APP_SERVICE_MSI_API_VERSION, IDENTITY_HEADER_NAME } from './endpoint.js';

/** Where the identity's tokens come from. */
export interface ManagedIdentitySource {
  /** The token URL (`IDENTITY_ENDPOINT`). */
  readonly endpoint: string;
  /** The secret (`IDENTITY_HEADER`). */
  readonly header: string;
  /** The user-assigned identity's client id. */
  readonly clientId: string;
}

/** A cached token is renewed when it has less than this left. */
export const REFRESH_MARGIN_MS = 5 * 60_000;
/** Timeout of one token request. */
export const TOKEN_REQUEST_TIMEOUT_MS = 10_000;

/** Gets (and caches, per resource) tokens of one managed identity. */
export class ManagedIdentityTokens {
  readonly #source: ManagedIdentitySource;
  readonly #cache = new Map<string, Promise<{ token: string; expiresAt: number }>>();

  constructor(source: ManagedIdentitySource) {
    this.#source = source;
  }

  /** A token whose `aud` is `resource`; rejects with a message naming the endpoint's answer (never a token). */
  async token(resource: string): Promise<string> {
    const cached = this.#cache.get(resource);
    if (cached) {
      const value = await cached.catch(() => undefined);
      if (value && value.expiresAt - Date.now() > REFRESH_MARGIN_MS) return value.token;
    }
    const fresh = this.#fetch(resource);
    this.#cache.set(resource, fresh);
    fresh.catch(() => this.#cache.delete(resource));
    return (await fresh).token;
  }

  async #fetch(resource: string): Promise<{ token: string; expiresAt: number }> {
    const url = new URL(this.#source.endpoint);
    url.searchParams.set('api-version', APP_SERVICE_MSI_API_VERSION);
    url.searchParams.set('resource', resource);
    url.searchParams.set('client_id', this.#source.clientId);
    const response = await fetch(url, {
      headers: { [IDENTITY_HEADER_NAME]: this.#source.header },
      signal: AbortSignal.timeout(TOKEN_REQUEST_TIMEOUT_MS),
    });
    const body = (await response.json().catch(() => ({}))) as {
      access_token?: unknown;
      expires_on?: unknown;
      message?: unknown;
    };
    if (!response.ok || typeof body.access_token !== 'string') {
      const reason = typeof body.message === 'string' ? `: ${body.message}` : '';
      throw new Error(`The identity endpoint answered ${response.status} for ${resource}${reason}`);
    }
    const expiresOn = Number(body.expires_on);
    return {
      token: body.access_token,
      expiresAt: Number.isFinite(expiresOn) ? expiresOn * 1000 : Date.now() + REFRESH_MARGIN_MS,
    };
  }
}
