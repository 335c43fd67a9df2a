/**
 * The state one running service shares with its wings and the REST API (docs/local-service.md, "Wings").
 */
import type { IncomingMessage } from 'node:http';
import type { WebSocketServer } from 'ws';
import type { EntraTokenVerifier } from './auth/entra.js';
import type { ResolvedServiceOptions } from './options.js';
import type { ConnectLimits } from './rate-limit.js';
import type { Upstream } from './upstream/upstream.js';

/** What the service's keep-alive timer and shutdown need of a connection (session.ts implements it). */
export interface LiveSession {
  /** One keep-alive tick. */
  heartbeat(): void;
  /** Delivers the disconnect upstream, then closes the client with 1001. */
  shutdown(): Promise<void>;
}

export interface ServiceContext {
  readonly options: ResolvedServiceOptions;
  readonly upstream: Upstream;
  /** Identity mode: the check of REST callers' Entra tokens (undefined in key mode). */
  readonly entra: EntraTokenVerifier | undefined;
  /** Per-address and per-user connect rate limits (429 with Retry-After). */
  readonly connectLimits: ConnectLimits;
  readonly wss: WebSocketServer;
  /** The subprotocol a client endpoint chose for an upgrade request, read by the server's `handleProtocols`. */
  readonly chosenSubprotocols: WeakMap<IncomingMessage, string>;
  /** Every session from its accepted connect until its disconnect upstream has been delivered. */
  readonly sessions: Set<LiveSession>;
  /** Handshakes in progress (awaiting the connect upstream), so shutdown can wait for them. */
  readonly handshakes: Set<Promise<void>>;
  /** The port the service listens on. */
  readonly port: () => number;
  /** The service's public endpoint (the `endpoint` option, default `http://localhost:<port>`): token audiences. */
  readonly endpoint: () => URL;
  /** True once shutdown has begun: new connections are refused with 503. */
  readonly closing: () => boolean;
}
