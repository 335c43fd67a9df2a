/**
 * The access-key token of Web PubSub REST calls, reused for its lifetime. Microsoft's client signs a fresh JWT
 * per request (`jsonwebtoken`, whose key check builds a private key and throws before it takes the HMAC key:
 * the largest single cost of a call in the bench's profile). This policy takes its place in the client's
 * pipeline: the same token (HS256, `aud` the request's URL, as Learn's REST reference wants it; with `nbf` too,
 * as every token the app signs), signed once per URL with `node:crypto` and reused until shortly before it
 * expires. The URLs a busy chat calls are few (the hub's broadcast, its groups and users); one per connection
 * for welcomes, so at most {@link DEFAULT_MAX_CACHED_WEBPUBSUB_TOKENS} are remembered, the least recently used
 * forgotten first.
 * See docs/architecture.md, "Tokens and identity".
 */
import { createHmac } from 'node:crypto';
import { setBounded } from '../bounded-map.js';

/** Lifetime of the REST tokens (the same hour as Microsoft's client gives them). */
export const DEFAULT_WEBPUBSUB_REST_TOKEN_TTL_SECONDS = 3600;
/** A token is signed afresh when it has less than this left. */
export const WEBPUBSUB_REST_TOKEN_REFRESH_MARGIN_SECONDS = 300;
/** Tokens remembered, one per request URL. */
export const DEFAULT_MAX_CACHED_WEBPUBSUB_TOKENS = 1000;

/** The name of the SDK's own per-request signing policy, which this one replaces. */
export const SDK_KEY_CREDENTIAL_POLICY = 'webPubSubKeyCredentialPolicy';

/** The part of a `@azure/core-rest-pipeline` policy and request this module uses. */
export interface SigningPolicy {
  readonly name: string;
  sendRequest<R extends { url: string; headers: { set(name: string, value: string): void } }, T>(
    request: R,
    next: (request: R) => Promise<T>,
  ): Promise<T>;
}

export interface RestTokenOptions {
  /** See {@link DEFAULT_WEBPUBSUB_REST_TOKEN_TTL_SECONDS}. */
  readonly ttlSeconds?: number;
  /** See {@link DEFAULT_MAX_CACHED_WEBPUBSUB_TOKENS}. */
  readonly maxCached?: number;
  /** The clock, for tests. */
  readonly now?: () => number;
}

const HEADER = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));

function base64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}

/** The `Authorization` header for each request URL, signed with `accessKey` (its UTF-8 bytes, as the SDK does). */
export function cachedRestTokens(accessKey: string, options: RestTokenOptions = {}): (url: string) => string {
  const ttl = options.ttlSeconds ?? DEFAULT_WEBPUBSUB_REST_TOKEN_TTL_SECONDS;
  const margin = Math.min(WEBPUBSUB_REST_TOKEN_REFRESH_MARGIN_SECONDS, ttl / 2);
  const max = options.maxCached ?? DEFAULT_MAX_CACHED_WEBPUBSUB_TOKENS;
  const now = options.now ?? Date.now;
  const tokens = new Map<string, { header: string; renewAt: number }>();
  return (url) => {
    const at = now();
    const cached = tokens.get(url);
    if (cached !== undefined && at < cached.renewAt) {
      setBounded(tokens, url, cached, max);
      return cached.header;
    }
    const iat = Math.floor(at / 1000);
    const claims = { aud: url, iat, nbf: iat, exp: iat + ttl };
    const unsigned = `${HEADER}.${base64url(JSON.stringify(claims))}`;
    const signature = createHmac('sha256', accessKey).update(unsigned).digest('base64url');
    const entry = { header: `Bearer ${unsigned}.${signature}`, renewAt: at + (ttl - margin) * 1000 };
    setBounded(tokens, url, entry, max);
    return entry.header;
  };
}

/** A pipeline policy that sets each request's `Authorization` from {@link cachedRestTokens}. */
export function cachedKeyCredentialPolicy(accessKey: string, options: RestTokenOptions = {}): SigningPolicy {
  const header = cachedRestTokens(accessKey, options);
  return {
    name: 'webPubSubCachedKeyCredentialPolicy',
    sendRequest(request, next) {
      request.headers.set('Authorization', header(request.url));
      return next(request);
    },
  };
}

/** What of the SDK's client this module touches: its generated client's pipeline. */
interface WithPipeline {
  readonly client?: {
    readonly pipeline?: {
      removePolicy(options: { name: string }): unknown[];
      addPolicy(policy: SigningPolicy): void;
    };
  };
}

/**
 * Puts {@link cachedKeyCredentialPolicy} in place of the SDK's per-request signing in `client` (a
 * `WebPubSubServiceClient` built with an access key). Returns false, leaving the client as it was, when the
 * client does not have the pipeline or the policy this expects (another version of the SDK).
 */
export function reuseRestTokens(client: object, accessKey: string, options: RestTokenOptions = {}): boolean {
  const pipeline = (client as WithPipeline).client?.pipeline;
  if (typeof pipeline?.removePolicy !== 'function' || typeof pipeline.addPolicy !== 'function') return false;
  if (pipeline.removePolicy({ name: SDK_KEY_CREDENTIAL_POLICY }).length === 0) return false;
  pipeline.addPolicy(cachedKeyCredentialPolicy(accessKey, options));
  return true;
}

/** What negotiate asks of a client token: the user, and its lifetime in minutes (default an hour). */
export interface ClientTokenRequest {
  readonly userId: string;
  readonly expirationTimeInMinutes?: number;
}

/**
 * A client's URL and access token, as `WebPubSubServiceClient.getClientAccessToken` makes them with an access
 * key (the same claims: `iat`, `exp`, `aud` the client endpoint `…/client/hubs/<hub>`, `sub` the user; HS256
 * with the key's UTF-8 bytes), signed with `node:crypto` instead of `jsonwebtoken`, whose key check builds and
 * throws away a private key on every call: a negotiate's largest cost. One claim more than the SDK's (1.2.0
 * signs no `nbf`): `nbf`, equal to `iat`, as every token the app signs has (docs/architecture.md, "Tokens and
 * identity").
 */
export function clientAccessTokens(
  endpoint: string,
  hub: string,
  accessKey: string,
  now: () => number = Date.now,
): (request: ClientTokenRequest) => { token: string; baseUrl: string; url: string } {
  const base = endpoint.endsWith('/') ? endpoint : `${endpoint}/`;
  const audience = `${base}client/hubs/${hub}`;
  const baseUrl = audience.replace(/^http(s?):\/\//i, 'ws$1://');
  return ({ userId, expirationTimeInMinutes = 60 }) => {
    const iat = Math.floor(now() / 1000);
    const claims = { iat, nbf: iat, exp: iat + expirationTimeInMinutes * 60, aud: audience, sub: userId };
    const unsigned = `${HEADER}.${base64url(JSON.stringify(claims))}`;
    const token = `${unsigned}.${createHmac('sha256', accessKey).update(unsigned).digest('base64url')}`;
    return { token, baseUrl, url: `${baseUrl}?access_token=${token}` };
  };
}
