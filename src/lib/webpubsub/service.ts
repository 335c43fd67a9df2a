/**
 * The app's Azure Web PubSub service, from its settings: Microsoft's `WebPubSubServiceClient` (`@azure/web-pubsub`)
 * for the REST API, with the access key of `WebPubSubConnectionString` or, keyless, the managed identity on
 * `WEBPUBSUB_ENDPOINT`; the keys that verify `ce-signature`; and the host the abuse-protection handshake allows.
 *
 * Why the SDK and not a client of our own (as src/lib/signalr/rest/client.ts is for SignalR): it covers every
 * operation of the 2024-12-01 spec (test/unit/spec-fixtures.test.ts checks that), takes a `TokenCredential` for
 * keyless access and mints `:generateToken` / client tokens. Its cost per call: kept-alive connections, a cached
 * Entra token, and with a key a JWT it signs per request, which `reuseRestTokens` (rest-token.ts) replaces with
 * the same token signed once per URL and reused. Its dependencies (`@azure/core-*`, `jsonwebtoken`) are already in the app's tree through `@azure/identity` and
 * `@azure/storage-blob`.
 *
 * With an access key, the chat's four sends leave the SDK for a lean client (`sender`, rest-sender.ts) that
 * retries like our SignalR client, never a send that may have been delivered. The SDK's retry policy, which the
 * other calls and identity mode keep, also retries a send that failed with a 5xx or timed out, so a message can
 * reach clients twice (at least once); the chat's messages carry ids the page de-duplicates by.
 */
import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { WebPubSubServiceClient, type WebPubSubServiceClientOptions } from '@azure/web-pubsub';
import { WebPubSubRestSender } from './rest-sender.js';
import { type ClientTokenRequest, clientAccessTokens, reuseRestTokens } from './rest-token.js';

/** Default of {@link WebPubSubServiceOptions.maxRetries}: a fan-out call retried at most twice (the SDK's default is 3). */
export const DEFAULT_WEBPUBSUB_MAX_RETRIES = 2;
/** Default of {@link WebPubSubServiceOptions.retryDelayMs}: first retry after 200 ms, doubling. */
export const DEFAULT_WEBPUBSUB_RETRY_DELAY_MS = 200;

/** How the app reaches its Web PubSub service. */
export type WebPubSubAccess =
  /** `Endpoint=…;AccessKey=…;Version=1.0;[Port=…;]` */
  | { readonly kind: 'key'; readonly connectionString: string }
  /** The endpoint and a credential (a managed identity with the Web PubSub Service Owner role). */
  | {
      readonly kind: 'identity';
      readonly endpoint: string;
      readonly credential?: TokenCredential;
      readonly managedIdentityClientId?: string;
    };

export interface WebPubSubServiceOptions {
  readonly hub: string;
  /** Retries of a failed REST call. Default {@link DEFAULT_WEBPUBSUB_MAX_RETRIES}. */
  readonly maxRetries?: number;
  /** Delay before the first retry, in milliseconds. Default {@link DEFAULT_WEBPUBSUB_RETRY_DELAY_MS}. */
  readonly retryDelayMs?: number;
}

/** The app's view of its Web PubSub service. */
export interface WebPubSubService {
  readonly client: WebPubSubServiceClient;
  /** With an access key: the chat's sends on a lean pipeline (rest-sender.ts); with an identity, none. */
  readonly sender?: WebPubSubRestSender;
  /**
   * With an access key: client tokens as the SDK's `getClientAccessToken` makes them, without its per-call
   * key import (rest-token.ts); with an identity, none (the SDK asks the service's `:generateToken`).
   */
  readonly clientToken?: (request: ClientTokenRequest) => { token: string; url: string };
  /** The service endpoint, e.g. `https://x.webpubsub.azure.com/`. */
  readonly endpoint: string;
  /** The keys that verify `ce-signature` (none in identity mode, where the bearer token is checked instead). */
  readonly accessKeys: readonly string[];
  /** The hosts whose abuse-protection handshake the app answers: the service's own. */
  readonly hosts: readonly string[];
}

/** The members of a connection string, names lower-cased (as the SDK reads them). */
function connectionStringMembers(connectionString: string): Map<string, string> {
  const members = new Map<string, string>();
  for (const part of connectionString.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) members.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  return members;
}

/**
 * The service for `access`.
 *
 * @throws TypeError naming what is missing (never a key's value) when the connection string has no endpoint or key.
 */
export function webPubSubService(
  access: WebPubSubAccess,
  options: WebPubSubServiceOptions,
): WebPubSubService {
  const clientOptions: WebPubSubServiceClientOptions = {
    retryOptions: {
      maxRetries: options.maxRetries ?? DEFAULT_WEBPUBSUB_MAX_RETRIES,
      retryDelayInMs: options.retryDelayMs ?? DEFAULT_WEBPUBSUB_RETRY_DELAY_MS,
    },
  };
  if (access.kind === 'key') {
    const members = connectionStringMembers(access.connectionString);
    const endpoint = members.get('endpoint');
    const key = members.get('accesskey');
    if (!endpoint || !key) {
      throw new TypeError('The Web PubSub connection string needs Endpoint=… and AccessKey=…');
    }
    const url = new URL(endpoint.startsWith('http') ? endpoint : `https://${endpoint}`);
    const port = members.get('port');
    if (port) url.port = port;
    // Plain http only for a service on this machine (the local stack), as the SDK then needs to be told.
    const insecure = url.protocol === 'http:';
    const client = new WebPubSubServiceClient(access.connectionString, options.hub, {
      ...clientOptions,
      ...(insecure ? { allowInsecureConnection: true } : {}),
    });
    // The same tokens, each signed once and reused for its lifetime instead of once per request (rest-token.ts).
    reuseRestTokens(client, key);
    const sender = new WebPubSubRestSender(url, options.hub, key, {
      maxAttempts: (options.maxRetries ?? DEFAULT_WEBPUBSUB_MAX_RETRIES) + 1,
      retryDelayMs: options.retryDelayMs ?? DEFAULT_WEBPUBSUB_RETRY_DELAY_MS,
    });
    const clientToken = clientAccessTokens(url.toString(), options.hub, key);
    return { client, sender, clientToken, endpoint: url.toString(), accessKeys: [key], hosts: [url.host] };
  }
  const url = new URL(access.endpoint);
  const credential =
    access.credential ??
    new DefaultAzureCredential(
      access.managedIdentityClientId === undefined
        ? {}
        : { managedIdentityClientId: access.managedIdentityClientId },
    );
  const client = new WebPubSubServiceClient(url.toString(), credential, options.hub, clientOptions);
  return { client, endpoint: url.toString(), accessKeys: [], hosts: [url.host] };
}
