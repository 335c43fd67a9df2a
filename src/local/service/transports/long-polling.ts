/**
 * Long Polling, as ASP.NET Core's `LongPollingServerTransport` answers it (docs/local-service.md,
 * "Transports").
 */
import type { ServerResponse } from 'node:http';
import { CloseCode } from '../errors.js';
import { HttpTransport, NO_CACHE_HEADERS } from './http-transport.js';

export interface LongPollingTimeouts {
  /** How long a poll waits for messages before answering 200 empty. */
  readonly pollTimeoutMs: number;
  /** How long the connection survives without a poll waiting. */
  readonly disconnectTimeoutMs: number;
}

interface Queued {
  readonly data: Buffer;
  readonly done: (() => void) | undefined;
}

interface Poll {
  readonly res: ServerResponse;
  readonly headers: Readonly<Record<string, string>>;
  readonly timer: NodeJS.Timeout;
}

export class LongPollingTransport extends HttpTransport {
  readonly kind = 'LongPolling' as const;
  readonly inherentKeepAlive = true;
  #queue: Queued[] = [];
  #queuedBytes = 0;
  #poll: Poll | undefined;
  #flushScheduled = false;
  #serverClose: { code: number; reason: string } | undefined;
  #disconnectTimer: NodeJS.Timeout | undefined;
  #started = false;

  readonly #timeouts: LongPollingTimeouts;

  constructor(timeouts: LongPollingTimeouts) {
    super();
    this.#timeouts = timeouts;
  }

  get open(): boolean {
    return !this.ended && this.#serverClose === undefined;
  }

  get bufferedAmount(): number {
    return this.#queuedBytes;
  }

  /** A `GET` from the client. */
  poll(res: ServerResponse, headers: Readonly<Record<string, string>>): void {
    this.onActivityHandler();
    clearTimeout(this.#disconnectTimer);
    if (this.ended) {
      answer(res, 204, headers);
      return;
    }
    if (this.#poll) {
      // A new poll replaces the waiting one (the client gave up on it, or a proxy retried).
      const previous = this.#poll;
      this.#poll = undefined;
      clearTimeout(previous.timer);
      answer(previous.res, 204, previous.headers);
    }
    if (!this.#started) {
      this.#started = true;
      answer(res, 200, headers, Buffer.alloc(0), 'application/octet-stream');
      this.#awaitNextPoll();
      return;
    }
    const timer = setTimeout(() => {
      if (this.#poll?.res !== res) return;
      this.#poll = undefined;
      answer(res, 200, headers);
      this.#awaitNextPoll();
    }, this.#timeouts.pollTimeoutMs);
    timer.unref();
    this.#poll = { res, headers, timer };
    res.on('close', () => {
      if (this.#poll?.res !== res) return;
      // The client went away while waiting; it may still come back within the disconnect timeout.
      clearTimeout(timer);
      this.#poll = undefined;
      this.#awaitNextPoll();
    });
    if (this.#queue.length > 0 || this.#serverClose) this.#flush();
  }

  /** `DELETE` from the client: the connection ends normally and a waiting poll gets 204. */
  delete(): void {
    this.onActivityHandler();
    this.#finish(CloseCode.Normal, '');
  }

  send(data: string | Buffer, _binary: boolean, done?: () => void): void {
    if (!this.open) {
      done?.();
      return;
    }
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    this.#queue.push({ data: bytes, done });
    this.#queuedBytes += bytes.length;
    // Messages sent together leave in one response.
    if (this.#poll && !this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => {
        this.#flushScheduled = false;
        this.#flush();
      });
    }
  }

  close(code: number, reason: string): void {
    if (this.#serverClose || this.ended) return;
    this.#serverClose = { code, reason };
    // What was queued (the Close message among it) still goes out with the next poll; the poll after gets 204.
    if (this.#poll) this.#flush();
  }

  terminate(): void {
    this.#finish(CloseCode.Abnormal, '');
  }

  #flush(): void {
    const poll = this.#poll;
    if (!poll) return;
    this.#poll = undefined;
    clearTimeout(poll.timer);
    if (this.#queue.length === 0) {
      if (this.#serverClose) {
        answer(poll.res, 204, poll.headers);
        this.#finish(this.#serverClose.code, this.#serverClose.reason);
      }
      return;
    }
    const items = this.#queue;
    this.#queue = [];
    this.#queuedBytes = 0;
    const body = Buffer.concat(items.map((item) => item.data));
    answer(poll.res, 200, poll.headers, body, 'application/octet-stream', () => {
      for (const item of items) item.done?.();
    });
    this.#awaitNextPoll();
  }

  /** Starts the clock between two polls. */
  #awaitNextPoll(): void {
    clearTimeout(this.#disconnectTimer);
    if (this.ended) return;
    this.#disconnectTimer = setTimeout(() => {
      if (this.#poll) return;
      const server = this.#serverClose;
      this.#finish(
        server?.code ?? CloseCode.Abnormal,
        server?.reason ??
          `No poll within ${this.#timeouts.disconnectTimeoutMs} ms (longPollingDisconnectTimeoutMs)`,
      );
    }, this.#timeouts.disconnectTimeoutMs);
    this.#disconnectTimer.unref();
  }

  #finish(code: number, reason: string): void {
    if (this.ended) return;
    clearTimeout(this.#disconnectTimer);
    const poll = this.#poll;
    this.#poll = undefined;
    if (poll) {
      clearTimeout(poll.timer);
      answer(poll.res, 204, poll.headers);
    }
    for (const item of this.#queue) item.done?.();
    this.#queue = [];
    this.#queuedBytes = 0;
    this.end(code, reason);
  }
}

function answer(
  res: ServerResponse,
  status: number,
  headers: Readonly<Record<string, string>>,
  body: Buffer = Buffer.alloc(0),
  contentType = 'text/plain',
  done?: () => void,
): void {
  if (res.destroyed || res.headersSent) {
    done?.();
    return;
  }
  res.writeHead(status, {
    ...headers,
    ...NO_CACHE_HEADERS,
    'Content-Type': contentType,
    'Content-Length': body.length,
  });
  res.end(body, () => done?.());
}
