/**
 * Bounds on the TCP connections of the development servers under `src/local/` (the local service and the
 * built-in Functions host): how long a client may take over its request's headers and over its whole request,
 * how long an idle keep-alive connection stays open, and how many connections one address and all addresses
 * may hold at once. Without them, one address that opens sockets and drips a header now and then holds every
 * file descriptor of the process, and nobody else can connect (Node's own defaults wait 60 s for headers and
 * 300 s for a request, with no cap on connections).
 * See docs/local-service.md, "Connections".
 */
import type { Server, ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import { setBounded } from '../lib/bounded-map.js';

/** Time to send a request's headers, from the connection's open or the end of its previous request (408 past it). */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
/** Time to send a whole request, body included (408 past it). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/**
 * How long an idle connection is kept open between requests: Node's own default, above the 4 s after which the
 * project's HTTP clients drop an idle pooled connection, so a client never writes to a connection being closed.
 */
export const DEFAULT_HTTP_KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** TCP connections one client address may hold open at once (WebSockets included); more are closed at once. */
export const DEFAULT_MAX_SOCKETS_PER_ADDRESS = 1_000;
/** TCP connections all clients together may hold open at once; more are closed at once. */
export const DEFAULT_MAX_SOCKETS = 10_000;
/** How often the refusals of one address are logged at most: one line, with the count since the last. */
export const REFUSAL_LOG_INTERVAL_MS = 60_000;
/** Addresses whose last refusal log line is remembered (the oldest is forgotten first). */
const MAX_REMEMBERED_REFUSALS = 1_024;

/** The connection bounds of one server, each a named option of the server that applies them. */
export interface SocketLimits {
  /** See {@link DEFAULT_HEADERS_TIMEOUT_MS}; at most `requestTimeoutMs`. */
  readonly headersTimeoutMs: number;
  /** See {@link DEFAULT_REQUEST_TIMEOUT_MS}. */
  readonly requestTimeoutMs: number;
  /** See {@link DEFAULT_HTTP_KEEP_ALIVE_TIMEOUT_MS}. */
  readonly httpKeepAliveTimeoutMs: number;
  /** See {@link DEFAULT_MAX_SOCKETS_PER_ADDRESS}. */
  readonly maxSocketsPerAddress: number;
  /** See {@link DEFAULT_MAX_SOCKETS}. */
  readonly maxSockets: number;
}

export const DEFAULT_SOCKET_LIMITS: SocketLimits = {
  headersTimeoutMs: DEFAULT_HEADERS_TIMEOUT_MS,
  requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
  httpKeepAliveTimeoutMs: DEFAULT_HTTP_KEEP_ALIVE_TIMEOUT_MS,
  maxSocketsPerAddress: DEFAULT_MAX_SOCKETS_PER_ADDRESS,
  maxSockets: DEFAULT_MAX_SOCKETS,
};

/** The limits with the defaults applied, each checked; the error names the option and what it needs. */
export function resolveSocketLimits(options: Partial<SocketLimits>): SocketLimits {
  const limits = { ...DEFAULT_SOCKET_LIMITS };
  for (const name of Object.keys(DEFAULT_SOCKET_LIMITS) as (keyof SocketLimits)[]) {
    const value: unknown = options[name] ?? DEFAULT_SOCKET_LIMITS[name];
    const whole = name.startsWith('max');
    if (
      typeof value !== 'number' ||
      !Number.isFinite(value) ||
      value <= 0 ||
      (whole && !Number.isInteger(value))
    ) {
      throw new RangeError(
        `${name} must be a positive ${whole ? 'whole number' : 'number'} (default ${DEFAULT_SOCKET_LIMITS[name]}), not ${String(value)}`,
      );
    }
    limits[name] = value;
  }
  // An unset header timeout follows a shorter request timeout down; Node refuses headers longer than requests.
  if (options.headersTimeoutMs === undefined) {
    limits.headersTimeoutMs = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  } else if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    throw new RangeError(
      `headersTimeoutMs (${limits.headersTimeoutMs}) must not exceed requestTimeoutMs (${limits.requestTimeoutMs})`,
    );
  }
  return limits;
}

/**
 * The `node:http` server options that apply the time limits. Node checks them on a timer (every 30 s unless
 * told), so it runs here at a quarter of the header timeout, at most once a second: a connection is cut within
 * about a quarter of its timeout after it ran out.
 */
export function serverOptions(limits: SocketLimits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.httpKeepAliveTimeoutMs,
    connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 4))),
  };
}

/** Connections from one address refused since the last line about it, for the server's log. */
export interface SocketRefusal {
  readonly address: string;
  /** The option that refused them. */
  readonly limit: 'maxSocketsPerAddress' | 'maxSockets';
  /** Its value. */
  readonly max: number;
  /** Refused since the last line about this address (this one included). */
  readonly refused: number;
}

/**
 * Counts open connections per address and in total, and says whether a new one may stay. Pure bookkeeping,
 * so the counting can be checked without sockets; {@link guardConnections} puts it on a server.
 */
export class ConnectionCounter {
  readonly #limits: Pick<SocketLimits, 'maxSocketsPerAddress' | 'maxSockets'>;
  readonly #now: () => number;
  readonly #open = new Map<string, number>();
  readonly #refused = new Map<string, { count: number; loggedAt: number }>();
  #total = 0;

  constructor(
    limits: Pick<SocketLimits, 'maxSocketsPerAddress' | 'maxSockets'>,
    now: () => number = Date.now,
  ) {
    this.#limits = limits;
    this.#now = now;
  }

  /** Connections open now, in total or from `address`. */
  open(address?: string): number {
    return address === undefined ? this.#total : (this.#open.get(address) ?? 0);
  }

  /**
   * Admits a new connection from `address` (give it back with {@link release} when it closes), or refuses it:
   * then `toLog` is the refusal to log now, or `undefined` while the last line about this address is recent.
   */
  admit(address: string): { admitted: true } | { admitted: false; toLog: SocketRefusal | undefined } {
    const fromAddress = this.#open.get(address) ?? 0;
    const { maxSocketsPerAddress, maxSockets } = this.#limits;
    const limit =
      fromAddress >= maxSocketsPerAddress
        ? 'maxSocketsPerAddress'
        : this.#total >= maxSockets
          ? 'maxSockets'
          : undefined;
    if (limit === undefined) {
      this.#open.set(address, fromAddress + 1);
      this.#total++;
      return { admitted: true };
    }
    const now = this.#now();
    const refused = this.#refused.get(address) ?? { count: 0, loggedAt: -Infinity };
    refused.count++;
    if (now - refused.loggedAt < REFUSAL_LOG_INTERVAL_MS) {
      setBounded(this.#refused, address, refused, MAX_REMEMBERED_REFUSALS);
      return { admitted: false, toLog: undefined };
    }
    setBounded(this.#refused, address, { count: 0, loggedAt: now }, MAX_REMEMBERED_REFUSALS);
    const max = limit === 'maxSockets' ? maxSockets : maxSocketsPerAddress;
    return { admitted: false, toLog: { address, limit, max, refused: refused.count } };
  }

  /** One admitted connection from `address` closed. */
  release(address: string): void {
    const open = (this.#open.get(address) ?? 1) - 1;
    if (open > 0) this.#open.set(address, open);
    else this.#open.delete(address);
    this.#total = Math.max(0, this.#total - 1);
  }
}

/**
 * Closes at once every new connection of `server` past `maxSocketsPerAddress` from its address or past
 * `maxSockets` in all, before the server reads a byte of it. `report` hears of the refusals of an address at
 * most once per {@link REFUSAL_LOG_INTERVAL_MS}; it is given the address and the option, never request data.
 * The address is the TCP peer's, never a header a client can write.
 */
export function guardConnections(
  server: Server,
  limits: Pick<SocketLimits, 'maxSocketsPerAddress' | 'maxSockets'>,
  report: (refusal: SocketRefusal) => void,
): ConnectionCounter {
  const counter = new ConnectionCounter(limits);
  // First in line, so the HTTP parser of a refused connection never sees a request.
  server.prependListener('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const admission = counter.admit(address);
    if (!admission.admitted) {
      socket.destroy();
      if (admission.toLog) report(admission.toLog);
      return;
    }
    socket.once('close', () => counter.release(address));
  });
  return counter;
}

/** The log line of a refusal: what was refused, by which option, and what to do. */
export function refusalMessage({ address, limit, max, refused }: SocketRefusal): string {
  const holder = limit === 'maxSockets' ? 'The server' : `The address ${address}`;
  return (
    `Closed ${refused} new connection(s) from ${address} at once: ${holder} already holds ${max} open ` +
    `connections (${limit}). Close idle connections or raise ${limit}; refusals from ${address} are noted ` +
    `at most once per ${REFUSAL_LOG_INTERVAL_MS / 1000} s`
  );
}
