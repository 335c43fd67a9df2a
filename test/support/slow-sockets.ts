/**
 * Raw TCP clients that open a connection, send the start of a request and then drip a header line now and then
 * without ever finishing it (slowloris), from an address of the test's choice (any of 127.0.0.0/8 reaches a
 * server on 127.0.0.1). Tests wait for their states through their events, never for a time.
 */
import { connect, type Socket } from 'node:net';

export interface SlowSocketsOptions {
  /** The source address, e.g. `127.0.0.2`, so the attack comes from another address than the honest client. */
  readonly localAddress: string;
  /** What each socket sends once connected: a request line and some headers, not the blank line after them. */
  readonly head?: string;
  /** When given, each open socket sends one more header line this often. */
  readonly dripMs?: number;
}

interface Tracked {
  readonly socket: Socket;
  connected: boolean;
  closed: boolean;
  received: string;
}

export class SlowSockets {
  readonly #sockets: Tracked[] = [];
  readonly #waiters: Array<() => void> = [];
  readonly #drip: NodeJS.Timeout | undefined;

  private constructor(port: number, count: number, options: SlowSocketsOptions) {
    const head = options.head ?? 'GET /client/?hub=chat HTTP/1.1\r\nHost: localhost\r\n';
    for (let i = 0; i < count; i++) {
      const socket = connect({ port, host: '127.0.0.1', localAddress: options.localAddress });
      const tracked: Tracked = { socket, connected: false, closed: false, received: '' };
      this.#sockets.push(tracked);
      socket.on('connect', () => {
        tracked.connected = true;
        socket.write(head);
        this.#wake();
      });
      socket.on('data', (data: Buffer) => {
        tracked.received += data.toString('latin1');
        this.#wake();
      });
      socket.on('error', () => {});
      socket.on('close', () => {
        tracked.closed = true;
        this.#wake();
      });
    }
    this.#drip =
      options.dripMs === undefined
        ? undefined
        : setInterval(() => {
            // Only after the request's start: a header line first would be a malformed request, refused at once.
            for (const { socket, connected, closed } of this.#sockets) {
              if (connected && !closed)
                socket.write(`X-Drip-${Math.random().toString(36).slice(2, 8)}: a\r\n`);
            }
          }, options.dripMs);
  }

  /** Opens `count` sockets to `http://127.0.0.1:<port>`. */
  static open(port: number, count: number, options: SlowSocketsOptions): SlowSockets {
    return new SlowSockets(port, count, options);
  }

  /** Sockets the server has closed (or never let stay). */
  get closed(): number {
    return this.#sockets.filter((s) => s.closed).length;
  }

  /** Sockets connected and still open. */
  get open(): number {
    return this.#sockets.filter((s) => s.connected && !s.closed).length;
  }

  /** What each socket received, in opening order. */
  get received(): string[] {
    return this.#sockets.map((s) => s.received);
  }

  /** Resolves once `predicate` holds, checked again after every event of any socket. */
  async until(predicate: (sockets: this) => boolean): Promise<void> {
    while (!predicate(this)) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  /** Ends the attack: every socket is destroyed. */
  destroy(): void {
    clearInterval(this.#drip);
    for (const { socket } of this.#sockets) socket.destroy();
  }

  #wake(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }
}
