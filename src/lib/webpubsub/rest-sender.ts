/**
 * The chat's four Web PubSub sends (to all, a group, a user, a connection) with an access key, on the lean
 * pipeline of the SignalR REST client (`node:http` keep-alive, one token per URL reused for its lifetime:
 * rest-token.ts) instead of Microsoft's client, whose policy chain (tracing, logging, request ids, serializer)
 * cost more CPU per call than the chat's own work on a message. Same requests on the wire as the SDK's
 * (test/unit/webpubsub-rest-client.test.ts compares them); everything else, and every call with a managed
 * identity, stays with the SDK. Like the SignalR client, a send is retried only where it cannot have been
 * delivered (502/503/504, a connection refused): at most once, where the SDK's retries made it at least once.
 * See docs/architecture.md, "Two services".
 */
import { DEFAULT_MAX_RETRY_DELAY_MS, DEFAULT_REQUEST_TIMEOUT_MS, RestPipeline } from '../signalr/index.js';
import { cachedRestTokens } from './rest-token.js';

/** The Web PubSub data-plane API version the sends use (the SDK's). */
export const WEBPUBSUB_SEND_API_VERSION = '2024-12-01';

export interface RestSenderOptions {
  /** Attempts per send, the first included (only sends that cannot have been delivered are repeated). */
  readonly maxAttempts: number;
  readonly retryDelayMs: number;
  /** Per-attempt timeout; default the SignalR client's `DEFAULT_REQUEST_TIMEOUT_MS`. */
  readonly timeoutMs?: number;
}

/** Sends text messages through one hub's REST API. */
export class WebPubSubRestSender {
  readonly #base: string;
  readonly #pipeline: RestPipeline;

  /** `endpoint`: the service origin (`https://x.webpubsub.azure.com`, or the local service with its port). */
  constructor(endpoint: URL, hub: string, accessKey: string, options: RestSenderOptions) {
    this.#base = `${endpoint.origin}/api/hubs/${encodeURIComponent(hub)}`;
    const header = cachedRestTokens(accessKey);
    this.#pipeline = new RestPipeline(
      { header: (url) => header(url.toString()) },
      {
        endpoint: endpoint.origin,
        timeoutMs: options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
        maxAttempts: options.maxAttempts,
        retryDelayMs: options.retryDelayMs,
        maxRetryDelayMs: DEFAULT_MAX_RETRY_DELAY_MS,
      },
    );
  }

  /** To every connection of the hub but `excluded`. */
  sendToAll(text: string, excluded: readonly string[] = []): Promise<void> {
    const query = excluded.map((id) => `&excluded=${encodeURIComponent(id)}`).join('');
    return this.#send('sendToAll', '', text, query);
  }

  sendToGroup(group: string, text: string): Promise<void> {
    return this.#send('sendToGroup', `/groups/${encodeURIComponent(group)}`, text);
  }

  sendToUser(user: string, text: string): Promise<void> {
    return this.#send('sendToUser', `/users/${encodeURIComponent(user)}`, text);
  }

  sendToConnection(connectionId: string, text: string): Promise<void> {
    return this.#send('sendToConnection', `/connections/${encodeURIComponent(connectionId)}`, text);
  }

  async #send(operation: string, path: string, text: string, query = ''): Promise<void> {
    const url = new URL(`${this.#base}${path}/:send?api-version=${WEBPUBSUB_SEND_API_VERSION}${query}`);
    await this.#pipeline.send({
      operation,
      method: 'POST',
      url,
      body: { contentType: 'text/plain', data: text },
    });
  }
}
