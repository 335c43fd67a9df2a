/**
 * One HTTP exchange of the REST client, on `node:http` / `node:https` with keep-alive agents: the body is written
 * with its length in one go and the answer read whole. `fetch` did the same job with web streams, a chunked
 * body and a `Request`/`Response` per call, several times the CPU per call; a busy chat makes two calls per
 * message (the broadcast and the sender's `ack`).
 * See docs/architecture.md, "Decisions".
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/**
 * How long an idle pooled connection is kept. Below the usual server idle timeouts (Node's 5 s, Azure's
 * longer), so a request is seldom written to a connection the server is closing.
 */
export const IDLE_SOCKET_TIMEOUT_MS = 4_000;

const agents = {
  http: new HttpAgent({ keepAlive: true, timeout: IDLE_SOCKET_TIMEOUT_MS }),
  https: new HttpsAgent({ keepAlive: true, timeout: IDLE_SOCKET_TIMEOUT_MS }),
};

export interface ExchangeRequest {
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body?: string | Uint8Array;
  readonly timeoutMs: number;
}

export interface ExchangeResponse {
  readonly status: number;
  readonly statusText: string;
  readonly text: string;
  header(name: string): string | undefined;
}

/** The exchange timed out (name `TimeoutError`, as `AbortSignal.timeout` names it). */
export class ExchangeTimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/**
 * A network failure, with the system error code. A reset pooled connection is not told apart: the server may
 * have read the request before it closed, so a send is never assumed undelivered.
 */
export class ExchangeError extends Error {
  readonly code: string | undefined;
  constructor(cause: Error) {
    super(cause.message, { cause });
    this.code = (cause as { code?: string }).code;
  }
}

/** Sends one request and reads the whole answer. */
export function exchange(url: URL, init: ExchangeRequest): Promise<ExchangeResponse> {
  return new Promise((resolve, reject) => {
    const secure = url.protocol === 'https:';
    const body =
      init.body === undefined
        ? undefined
        : typeof init.body === 'string'
          ? Buffer.from(init.body)
          : init.body;
    const headers: Record<string, string | number> = { ...init.headers };
    if (body !== undefined || init.method === 'POST' || init.method === 'PUT') {
      headers['Content-Length'] = body?.byteLength ?? 0;
    }
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(error);
    };
    const req = (secure ? httpsRequest : httpRequest)(url, {
      method: init.method,
      headers,
      agent: secure ? agents.https : agents.http,
    });
    const timer = setTimeout(() => {
      const error = new ExchangeTimeoutError(`no answer within ${init.timeoutMs} ms`);
      fail(error);
      req.destroy(error);
    }, init.timeoutMs);
    req.on('error', (error: Error) => fail(new ExchangeError(error)));
    req.on('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', (error: Error) => fail(new ExchangeError(error)));
      res.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: res.statusCode ?? 0,
          statusText: res.statusMessage ?? '',
          text,
          header: (name) => {
            const value = res.headers[name.toLowerCase()];
            return Array.isArray(value) ? value.join(', ') : value;
          },
        });
      });
    });
    req.end(body);
  });
}
