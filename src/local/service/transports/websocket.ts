/**
 * The WebSocket transport over a `ws` socket. `ws` closes by itself with a bare code when a frame breaks the
 * rules (1009 oversized, 1007 invalid UTF-8, 1002 bad framing); such a close is routed through
 * {@link WebSocketTransport.onViolation} first, so the session can explain it and send its Close message.
 */
import type { WebSocket } from 'ws';
import type { CloseHandler, MessageHandler, Transport } from './transport.js';

/** `ws` send options, shared by every send (ws only reads them). */
const BINARY = { binary: true } as const;
const TEXT = { binary: false } as const;

export class WebSocketTransport implements Transport {
  readonly kind = 'WebSockets' as const;
  readonly inherentKeepAlive = false;
  readonly closed: Promise<void>;
  #onMessage: MessageHandler = () => {};
  #onClose: CloseHandler = () => {};
  #onActivity: () => void = () => {};
  #violation: ((code: number) => string | undefined) | undefined;

  constructor(readonly socket: WebSocket) {
    const close = socket.close.bind(socket);
    socket.close = (code?: number, data?: string | Buffer) => {
      const explained =
        code === undefined || data !== undefined || !this.#violation ? undefined : this.#violation(code);
      return explained === undefined ? close(code, data) : close(code, explained);
    };
    let resolveClosed: () => void = () => {};
    this.closed = new Promise((resolve) => {
      resolveClosed = resolve;
    });
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      this.#onActivity();
      this.#onMessage(data, isBinary);
    });
    socket.on('pong', () => this.#onActivity());
    socket.on('close', (code: number, reason: Buffer) => {
      this.#onClose(code, reason.toString('utf8'));
      resolveClosed();
    });
  }

  /**
   * Called when `ws` closes the socket by itself with a bare code; the returned reason (if any) goes into the
   * close frame.
   */
  onViolation(handler: (code: number) => string | undefined): void {
    this.#violation = handler;
  }

  get open(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  get isPaused(): boolean {
    return this.socket.isPaused;
  }

  send(data: string | Buffer, binary: boolean, done?: () => void): void {
    this.socket.send(data, binary ? BINARY : TEXT, done);
  }

  close(code: number, reason: string): void {
    this.socket.close(code, reason);
  }

  terminate(): void {
    this.socket.terminate();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  ping(): boolean {
    this.socket.ping();
    return true;
  }

  onMessage(handler: MessageHandler): void {
    this.#onMessage = handler;
  }

  onClose(handler: CloseHandler): void {
    this.#onClose = handler;
  }

  onActivity(handler: () => void): void {
    this.#onActivity = handler;
  }
}
