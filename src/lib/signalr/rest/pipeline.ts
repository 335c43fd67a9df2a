/**
 * The request pipeline of the REST client: every attempt signed on its own, a timeout per attempt, and retries
 * only where repeating cannot deliver a message twice — 502/503/504 and failures where the request cannot have
 * been delivered, and for idempotent calls any network failure. Never retried: a timeout or a 500, since a send
 * may already have reached clients. Backoff doubles per attempt, or follows the service's `Retry-After`.
 */

import { messageOf } from '../../error-message.js';
import { SignalRRestError, truncateServiceMessage } from './error.js';
import type { EncodedBody } from './messages.js';
import { type ExchangeResponse, exchange } from './transport.js';

/** Per-attempt request timeout. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
/** Attempts per call, the first included; only safe failures are retried (see `HubClientOptions`). */
export const DEFAULT_MAX_ATTEMPTS = 3;
/** Delay before the first retry; doubles per attempt up to {@link DEFAULT_MAX_RETRY_DELAY_MS}. */
export const DEFAULT_RETRY_DELAY_MS = 250;
/** Upper bound of one backoff delay, also of an honoured `Retry-After`. */
export const DEFAULT_MAX_RETRY_DELAY_MS = 4_000;

const RETRYABLE_STATUS = new Set([502, 503, 504]);
/** Connection errors that mean nothing reached the server, so even a send is safe to repeat. */
const NOT_DELIVERED_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** One REST call, ready to send. */
export interface RestCall {
  /** What is attempted, for errors, e.g. `sendToUser`. */
  operation: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: URL;
  body?: EncodedBody;
  /** Status codes that are answers rather than failures (404 for existence checks). */
  accept?: readonly number[];
  /** A POST without side effects (`:generateToken`), retried like an idempotent call. */
  safeToRepeat?: boolean;
}

/** The pipeline's limits, checked by the client. */
export interface PipelineOptions {
  /** The service origin, named when it cannot be reached. */
  readonly endpoint: string;
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  readonly retryDelayMs: number;
  readonly maxRetryDelayMs: number;
}

/** The `Authorization` header of a request to `url` (`RestAuthorization` in auth.ts, or Web PubSub's key tokens). */
export interface RequestAuthorization {
  header(url: URL): Promise<string> | string;
}

/** Sends REST calls to one service. */
export class RestPipeline {
  readonly #authorization: RequestAuthorization;
  readonly #options: PipelineOptions;

  constructor(authorization: RequestAuthorization, options: PipelineOptions) {
    this.#authorization = authorization;
    this.#options = options;
  }

  /** Sends a call, retrying what is safe to retry; a {@link SignalRRestError} when it fails. */
  async send(call: RestCall): Promise<{ status: number; text: string }> {
    const { url } = call;
    const { endpoint, timeoutMs, maxAttempts } = this.#options;
    const idempotent = call.method !== 'POST' || call.safeToRepeat === true;
    const where = `${call.method} ${url.pathname}`;
    for (let attempt = 1; ; attempt++) {
      const last = attempt >= maxAttempts;
      // Outside the try: a credential failure is not a network failure and is not retried here.
      const headers: Record<string, string> = { Authorization: await this.#authorization.header(url) };
      if (call.body) headers['Content-Type'] = call.body.contentType;
      let response: ExchangeResponse;
      try {
        response = await exchange(url, {
          method: call.method,
          headers,
          ...(call.body ? { body: call.body.data } : {}),
          timeoutMs,
        });
      } catch (error) {
        if (isTimeout(error)) {
          throw new SignalRRestError(
            call.operation,
            'rest-timeout',
            `${call.operation}: ${where} got no answer within ${timeoutMs} ms (option timeoutMs)`,
            undefined,
            '',
            attempt,
            { cause: error },
          );
        }
        const code = errorCode(error);
        if (!last && (idempotent || (code !== undefined && NOT_DELIVERED_CODES.has(code)))) {
          await delay(this.#backoff(attempt));
          continue;
        }
        throw new SignalRRestError(
          call.operation,
          'rest-unreachable',
          `${call.operation}: ${where} failed after ${attempt} attempt(s): ${code ?? messageOf(error)}; is the service at ${endpoint} reachable?`,
          undefined,
          '',
          attempt,
          { cause: error },
        );
      }
      const { text } = response;
      const ok = response.status >= 200 && response.status < 300;
      if (ok || call.accept?.includes(response.status)) return { status: response.status, text };
      if (!last && RETRYABLE_STATUS.has(response.status)) {
        await delay(this.#backoff(attempt, response.header('retry-after')));
        continue;
      }
      const serviceMessage = truncateServiceMessage(text);
      throw new SignalRRestError(
        call.operation,
        'rest-refused',
        `${call.operation}: ${where} answered ${response.status} ${response.statusText}` +
          (serviceMessage ? `: ${serviceMessage}` : ''),
        response.status,
        serviceMessage,
        attempt,
      );
    }
  }

  /** Exponential backoff, or the service's `Retry-After` (seconds) when it gives one; both capped. */
  #backoff(attempt: number, retryAfter?: string | null): number {
    const { retryDelayMs, maxRetryDelayMs } = this.#options;
    const seconds = retryAfter ? Number(retryAfter) : Number.NaN;
    const wanted =
      Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : retryDelayMs * 2 ** (attempt - 1);
    return Math.min(wanted, maxRetryDelayMs);
  }
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

/** The system error code of a network failure (on the error or its causes). */
function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = current.cause;
  }
  return undefined;
}

function delay(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
