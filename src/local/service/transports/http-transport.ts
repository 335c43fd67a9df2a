/**
 * What Server-Sent Events and Long Polling share: the client sends with HTTP POSTs, each body handed to the
 * session as it came, and backpressure holds the POST until the session reads again (docs/local-service.md,
 * "Transports").
 */
import type { CloseHandler, MessageHandler, Transport, TransportKind } from './transport.js';

/** `Cache-Control` and friends on every poll and event stream, as ASP.NET Core sends them. */
export const NO_CACHE_HEADERS: Readonly<Record<string, string>> = {
  'Cache-Control': 'no-cache, no-store',
  Pragma: 'no-cache',
  Expires: 'Thu, 01 Jan 1970 00:00:00 GMT',
};

export abstract class HttpTransport implements Transport {
  abstract readonly kind: TransportKind;
  abstract readonly inherentKeepAlive: boolean;
  readonly closed: Promise<void>;
  protected onMessageHandler: MessageHandler = () => {};
  protected onActivityHandler: () => void = () => {};
  #onClose: CloseHandler = () => {};
  #resolveClosed: () => void = () => {};
  #ended = false;
  #paused = false;
  #resumed: Array<() => void> = [];
  /** A POST of this connection is being handled. */
  #posting = false;

  constructor() {
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  abstract readonly open: boolean;
  abstract readonly bufferedAmount: number;
  abstract send(data: string | Buffer, binary: boolean, done?: () => void): void;
  abstract close(code: number, reason: string): void;
  abstract terminate(): void;

  /** Whether the transport has ended (its close handler ran). */
  get ended(): boolean {
    return this.#ended;
  }

  get isPaused(): boolean {
    return this.#paused;
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    for (const resolve of this.#resumed.splice(0)) resolve();
  }

  ping(): boolean {
    return false;
  }

  /**
   * Handles one POST of this connection with `post`, or returns false without calling it while another is still
   * in flight: one POST body at a time, as ASP.NET Core's dispatcher reads them (under its `WriteLock`), and as
   * every SignalR client sends them.
   */
  async exclusively(post: () => Promise<void>): Promise<boolean> {
    if (this.#posting) return false;
    this.#posting = true;
    try {
      await post();
      return true;
    } finally {
      this.#posting = false;
    }
  }

  /** A POST body from the client: waits while reading is paused, then hands it to the session. */
  async receive(body: Buffer, isBinary: boolean): Promise<void> {
    this.onActivityHandler();
    while (this.#paused && !this.#ended) await new Promise<void>((resolve) => this.#resumed.push(resolve));
    if (this.#ended) return;
    this.onMessageHandler(body, isBinary);
  }

  onMessage(handler: MessageHandler): void {
    this.onMessageHandler = handler;
  }

  onClose(handler: CloseHandler): void {
    this.#onClose = handler;
  }

  onActivity(handler: () => void): void {
    this.onActivityHandler = handler;
  }

  /** Ends the transport once: the session hears the code and reason, waiting POSTs are released. */
  protected end(code: number, reason: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.resume();
    this.#onClose(code, reason);
    this.#resolveClosed();
  }
}
