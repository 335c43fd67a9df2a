/**
 * The HTTP transport of upstream calls: `node:http`/`node:https` requests through keep-alive agents, one timer
 * per call and a capped body read, instead of `fetch`, whose per-call web streams and `AbortSignal` cost more
 * CPU than everything else the service does per message (bench/RESULTS.md, echo; docs/local-service.md,
 * "Upstream calls").
 */
import {
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingHttpHeaders,
  type RequestOptions,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { urlToHttpOptions } from 'node:url';

/** Response headers, read by lower-case or any-case name (the subset of `Headers` the service uses). */
export interface ResponseHeaders {
  /** The header's value (repeated headers joined with `, `), or `null` when absent. */
  get(name: string): string | null;
}

/** What became of one request. */
export type TransportResult =
  | {
      readonly kind: 'response';
      readonly status: number;
      readonly headers: ResponseHeaders;
      readonly body: Buffer;
    }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'unreachable'; readonly code?: string }
  | { readonly kind: 'too-large' };

/**
 * How long a pooled connection may sit idle before the transport closes it: under the 5 s `keepAliveTimeout`
 * of Node servers (the local Functions host), so the transport, not the server, ends an idle connection and a
 * call never races a server-side close (Node 20's agent ignores the server's `Keep-Alive: timeout` hint unless
 * a timeout is set). Same as undici's default, which the service used through `fetch` before.
 */
export const DEFAULT_IDLE_SOCKET_MS = 4_000;

/** Limits of the transport. */
export interface TransportOptions {
  /** Sockets open at once per upstream origin; further calls wait for a free one (counted in their timeout). */
  readonly maxSockets: number;
  /** Idle time after which a pooled connection is closed. Default {@link DEFAULT_IDLE_SOCKET_MS}. */
  readonly idleSocketMs?: number;
}

/** A URL as a request's options, its `Host` header, and whether it is https. */
interface Target {
  readonly options: RequestOptions;
  readonly host: string;
  readonly secure: boolean;
  /** The `Authorization` of a URL with a user and password. */
  readonly basic?: string;
}

/** Whether a list of header names and values has an `Authorization`. */
function hasAuthorization(list: readonly string[]): boolean {
  for (let i = 0; i < list.length; i += 2) if (list[i]?.toLowerCase() === 'authorization') return true;
  return false;
}

/** Wraps Node's lower-case header record as {@link ResponseHeaders}. */
function headersOf(headers: IncomingHttpHeaders): ResponseHeaders {
  return {
    get(name) {
      const value = headers[name.toLowerCase()];
      if (value === undefined) return null;
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
}

/** POSTs to upstream URLs over kept-alive connections (one pool per origin, for http and https). */
export class UpstreamTransport {
  readonly #http: HttpAgent;
  readonly #https: HttpsAgent;

  constructor(options: TransportOptions) {
    // Keep-alive: a new connection per call was most of the remaining cost after fetch's own.
    // `timeout` only closes free (pooled) sockets; a call in flight is bounded by its own timer in `post`.
    const agentOptions = {
      keepAlive: true,
      maxSockets: options.maxSockets,
      timeout: options.idleSocketMs ?? DEFAULT_IDLE_SOCKET_MS,
    };
    this.#http = new HttpAgent(agentOptions);
    this.#https = new HttpsAgent(agentOptions);
  }

  /**
   * POSTs `body` to `url`. The timeout covers waiting for a socket, the request and the whole response body;
   * a body over `maxResponseBytes` (declared or counted as it streams) ends the call and its connection.
   * `headers`: by name, or as a list of names and values (`[name, value, name, value, …]`), which the transport
   * takes over and appends `Content-Length` and `Host` to.
   */
  post(
    url: URL,
    headers: Readonly<Record<string, string>> | string[],
    body: Buffer | string,
    timeoutMs: number,
    maxResponseBytes: number,
  ): Promise<TransportResult> {
    const { options, host, secure, basic } = this.#target(url);
    // The headers as a list: Node writes them as they are (each name and value still checked), instead of
    // storing each one by its lower-cased name first; so `Host` is the transport's to add, as Node would.
    // A list of names and values is the transport's from here on (it appends to it).
    const list = Array.isArray(headers) ? headers : Object.entries(headers).flat();
    list.push('Content-Length', String(Buffer.byteLength(body)), 'Host', host);
    if (basic !== undefined && !hasAuthorization(list)) list.push('Authorization', basic);
    return new Promise((resolve) => {
      const req = (secure ? httpsRequest : httpRequest)({
        ...options,
        method: 'POST',
        headers: list,
        agent: secure ? this.#https : this.#http,
      });
      let settled = false;
      let timedOut = false;
      const settle = (result: TransportResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const timer = setTimeout(() => {
        timedOut = true;
        settle({ kind: 'timeout' });
        req.destroy();
      }, timeoutMs);
      const failed = (error: unknown): void => {
        if (timedOut) return;
        settle({ kind: 'unreachable', code: (error as NodeJS.ErrnoException).code });
      };
      req.on('error', failed);
      req.on('response', (res) => {
        const tooLarge = (): void => {
          settle({ kind: 'too-large' });
          // Not drained: an endless (or merely huge) body would keep the socket busy; this connection ends.
          req.destroy();
        };
        // A declared length over the limit fails before a byte is buffered; otherwise bytes are counted as they
        // arrive (the header may be absent or understate). Events, not an async iterator: one call's body is a
        // chunk or two, and the iterator's promises per chunk cost more than the read itself.
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > maxResponseBytes) {
          tooLarge();
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        let ended = false;
        res.on('data', (chunk: Buffer) => {
          if (settled) return;
          size += chunk.length;
          if (size > maxResponseBytes) {
            tooLarge();
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          ended = true;
          settle({
            kind: 'response',
            status: res.statusCode ?? 0,
            headers: headersOf(res.headers),
            body: Buffer.concat(chunks),
          });
        });
        res.on('error', failed);
        res.on('close', () => {
          if (!ended)
            failed(Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
        });
      });
      req.end(body);
    });
  }

  /** Where each URL goes, read once per URL object (the caller keeps one per route). */
  readonly #targets = new WeakMap<URL, Target>();

  #target(url: URL): Target {
    let target = this.#targets.get(url);
    if (target === undefined) {
      // As Node reads a URL it is given; the Host header as Node writes it (the port unless the default).
      const options = urlToHttpOptions(url);
      target = {
        options,
        host: url.host,
        secure: url.protocol === 'https:',
        // A URL's user and password, as Node sends them (Basic) when no Authorization is given.
        ...(options.auth ? { basic: `Basic ${Buffer.from(options.auth).toString('base64')}` } : {}),
      };
      this.#targets.set(url, target);
    }
    return target;
  }

  /** Closes every pooled connection; calls in flight fail as unreachable. */
  close(): void {
    this.#http.destroy();
    this.#https.destroy();
  }
}
