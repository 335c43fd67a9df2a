/**
 * The WebSocket transport over a `ws` socket: violations routed through `onViolation`, and what a connection
 * sends in one turn written at its end, as records or as frames (docs/local-service.md, "Transports").
 */
import type { WebSocket } from 'ws';
import { flushAtEndOfTurn, type TurnFlushable } from './end-of-turn.js';
import { sharedFrame } from './shared-frames.js';
import type { CloseHandler, MessageHandler, Transport } from './transport.js';

/** `ws` send options, shared by every send (ws only reads them). */
const BINARY = { binary: true } as const;
const TEXT = { binary: false } as const;

/** How frames sent in one turn are put on the wire (see the file comment). */
export type Coalescing = 'records' | 'frames';

export interface WebSocketTransportOptions {
  readonly coalescing: Coalescing;
  /** Bytes of frames joined into one WebSocket message (`records`) or held in one cork (`frames`). */
  readonly maxCoalescedBytes: number;
}

/** A frame held until the end of the turn. */
interface Held {
  readonly data: string | Buffer;
  readonly binary: boolean;
  readonly bytes: number;
  readonly done: (() => void) | undefined;
}

/** What this transport needs of the stream under a `ws` WebSocket. */
interface Corkable {
  cork(): void;
  uncork(): void;
  /** Absent: shared frames go through ws like any other (see `#writesShared`). */
  write?(chunk: Buffer, callback?: () => void): boolean;
}

/**
 * The net.Socket under a `ws` WebSocket, to cork it. ws has no public cork and keeps the socket in its
 * undocumented `_socket` field (its own Sender corks it around each frame's header and payload; Node counts
 * corks, so ours around a whole turn nests with them). Undefined when the field is not there (another ws
 * version): the frames are then written one by one, as without coalescing.
 */
function corkableSocketOf(ws: WebSocket): Corkable | undefined {
  const socket = (ws as unknown as { _socket?: Partial<Corkable> | null })._socket;
  return typeof socket?.cork === 'function' && typeof socket.uncork === 'function'
    ? (socket as Corkable)
    : undefined;
}

function byteLength(data: string | Buffer): number {
  return typeof data === 'string' ? Buffer.byteLength(data) : data.length;
}

/** The frames `held[start..end)` as one message body: their records one after another. */
function joined(held: readonly Held[], start: number, end: number, bytes: number): string | Buffer {
  const parts: Buffer[] = [];
  for (let i = start; i < end; i++) {
    const data = (held[i] as Held).data;
    parts.push(typeof data === 'string' ? Buffer.from(data) : data);
  }
  return Buffer.concat(parts, bytes);
}

/** One write callback for the frames `held[start..end)`: each frame's own callback runs once it is written. */
function allDone(held: readonly Held[], start: number, end: number): (() => void) | undefined {
  const callbacks: Array<() => void> = [];
  for (let i = start; i < end; i++) {
    const done = (held[i] as Held).done;
    if (done) callbacks.push(done);
  }
  if (callbacks.length === 0) return undefined;
  return () => {
    for (const done of callbacks) done();
  };
}

export class WebSocketTransport implements Transport, TurnFlushable {
  readonly kind = 'WebSockets' as const;
  readonly inherentKeepAlive = false;
  readonly closed: Promise<void>;
  #onMessage: MessageHandler = () => {};
  #onClose: CloseHandler = () => {};
  #onActivity: () => void = () => {};
  #violation: ((code: number) => string | undefined) | undefined;
  readonly #coalescing: Coalescing;
  readonly #maxCoalescedBytes: number;
  /** `records`: the frames held this turn, in order, and their bytes. */
  #held: Held[] = [];
  #heldBytes = 0;
  /** `frames`: the corked socket (undefined without one), and the bytes written under the current cork. */
  readonly #corkable: Corkable | undefined;
  #corked = false;
  /**
   * Whether a shared frame (shared-frames.ts) may go out as the bytes every recipient gets, written beside
   * ws's own writes. It keeps their order because without an extension (no compression, fixed at the
   * handshake) ws writes each frame at once and never queues one.
   */
  readonly #writesShared: boolean;
  #corkedBytes = 0;
  /** Listed for the end-of-turn flush. */
  #listed = false;

  constructor(
    readonly socket: WebSocket,
    options: WebSocketTransportOptions,
  ) {
    this.#coalescing = options.coalescing;
    this.#maxCoalescedBytes = options.maxCoalescedBytes;
    this.#corkable = options.coalescing === 'frames' ? corkableSocketOf(socket) : undefined;
    this.#writesShared = typeof this.#corkable?.write === 'function' && socket.extensions === '';
    const close = socket.close.bind(socket);
    socket.close = (code?: number, data?: string | Buffer) => {
      const explained =
        code === undefined || data !== undefined || !this.#violation ? undefined : this.#violation(code);
      // Whatever was sent before the close goes out before its close frame (the session's Close message too).
      this.#flush();
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
      this.#flush(); // frames still held are dropped, their callbacks run
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

  /** What ws has not written yet, and the frames held for the end of the turn. */
  get bufferedAmount(): number {
    return this.socket.bufferedAmount + this.#heldBytes;
  }

  get isPaused(): boolean {
    return this.socket.isPaused;
  }

  send(data: string | Buffer, binary: boolean, done?: () => void): void {
    if (!this.open) {
      this.socket.send(data, binary ? BINARY : TEXT, done); // ws drops it and calls back
      return;
    }
    if (this.#coalescing === 'records') {
      const bytes = byteLength(data);
      this.#held.push({ data, binary, bytes, done });
      this.#heldBytes += bytes;
    } else if (this.#corkable) {
      if (!this.#corked) {
        this.#corkable.cork();
        this.#corked = true;
      }
      const whole = this.#writesShared && typeof data !== 'string' ? sharedFrame(data, binary) : undefined;
      if (whole) this.#corkable.write?.(whole, done);
      else this.socket.send(data, binary ? BINARY : TEXT, done);
      this.#corkedBytes += byteLength(data);
      // A large turn leaves in several writes rather than all in memory at once.
      if (this.#corkedBytes >= this.#maxCoalescedBytes) this.#uncork();
    } else {
      this.socket.send(data, binary ? BINARY : TEXT, done);
      return;
    }
    this.#listForFlush();
  }

  /** A whole frame goes out as it is under the turn's cork, where shared frames may (see `#writesShared`). */
  sendWhole(parts: readonly Buffer[], done?: () => void): boolean {
    const corkable = this.#corkable;
    if (!this.#writesShared || !corkable?.write || !this.open) return false;
    if (!this.#corked) {
      corkable.cork();
      this.#corked = true;
    }
    const last = parts.length - 1;
    for (let i = 0; i < last; i++) corkable.write(parts[i] as Buffer);
    corkable.write(parts[last] as Buffer, done);
    for (const part of parts) this.#corkedBytes += part.length;
    if (this.#corkedBytes >= this.#maxCoalescedBytes) this.#uncork();
    this.#listForFlush();
    return true;
  }

  #listForFlush(): void {
    if (!this.#listed) {
      this.#listed = true;
      flushAtEndOfTurn(this);
    }
  }

  flushTurn(): void {
    this.#listed = false;
    try {
      this.#flush();
    } catch (error) {
      // A failure costs this connection only, never the other connections flushed in this turn.
      this.#held = [];
      this.#heldBytes = 0;
      if (this.socket.listenerCount('error') > 0) {
        this.socket.emit('error', error instanceof Error ? error : new Error(String(error)));
      }
      this.socket.terminate();
    }
  }

  /** Writes out what this turn held: the joined records, or the corked frames. */
  #flush(): void {
    if (this.#held.length > 0) this.#sendHeld();
    if (this.#corked) this.#uncork();
  }

  #uncork(): void {
    this.#corked = false;
    this.#corkedBytes = 0;
    this.#corkable?.uncork();
  }

  /**
   * Sends the held frames in order: consecutive frames of one kind (text or binary) as one message of at most
   * `maxCoalescedBytes` (a larger frame alone), a lone frame as it is.
   */
  #sendHeld(): void {
    const held = this.#held;
    this.#held = [];
    this.#heldBytes = 0;
    const max = this.#maxCoalescedBytes;
    let start = 0;
    while (start < held.length) {
      const first = held[start] as Held;
      let bytes = first.bytes;
      let end = start + 1;
      for (; end < held.length; end++) {
        const next = held[end] as Held;
        if (next.binary !== first.binary || bytes + next.bytes > max) break;
        bytes += next.bytes;
      }
      const options = first.binary ? BINARY : TEXT;
      if (end === start + 1) this.socket.send(first.data, options, first.done);
      else this.socket.send(joined(held, start, end, bytes), options, allDone(held, start, end));
      start = end;
    }
  }

  close(code: number, reason: string): void {
    this.socket.close(code, reason); // flushes first (see the constructor)
  }

  /** Ends at once: held frames are dropped (their callbacks run), as is what ws had not written. */
  terminate(): void {
    const held = this.#held;
    this.#held = [];
    this.#heldBytes = 0;
    for (const frame of held) frame.done?.();
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
