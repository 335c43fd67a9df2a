/**
 * The state one running service shares between its modules (dialects, REST API, shutdown).
 */
import type { WebSocketServer } from 'ws';
import type { EntraTokenVerifier } from './auth/entra.js';
import type { ConnectionRegistry } from './connections.js';
import type { ResolvedServiceOptions } from './options.js';
import type { ConnectLimits } from './rate-limit.js';
import type { Session } from './session.js';
import type { Upstream } from './upstream/upstream.js';

/** A SignalR negotiate whose WebSocket has not arrived yet. */
export interface PendingNegotiation {
  readonly connectionId: string;
  readonly hub: string;
  readonly userId: string | undefined;
  readonly expiresAt: number;
  /** The client asked for stateful reconnect (`useStatefulReconnect=true`) and negotiate granted it. */
  readonly statefulReconnect: boolean;
}

export interface ServiceContext {
  readonly options: ResolvedServiceOptions;
  readonly upstream: Upstream;
  /** Identity mode: the check of REST callers' Entra tokens (undefined in key mode). */
  readonly entra: EntraTokenVerifier | undefined;
  /** Per-address and per-user connect rate limits (429 with Retry-After). */
  readonly connectLimits: ConnectLimits;
  /** One registry per dialect: each REST prefix addresses the clients of its own dialect. */
  readonly registries: { readonly websocket: ConnectionRegistry; readonly signalr: ConnectionRegistry };
  readonly wss: WebSocketServer;
  /** Every session from its accepted connect until its disconnect upstream has been delivered. */
  readonly sessions: Set<Session>;
  /** Handshakes in progress (awaiting the connect upstream), so shutdown can wait for them. */
  readonly handshakes: Set<Promise<void>>;
  /** Negotiated SignalR connections by connection token (insertion order = age). */
  readonly negotiations: Map<string, PendingNegotiation>;
  /**
   * Live SignalR connections by connection token, until their session ends: where the POSTs, polls and
   * DELETEs of Server-Sent Events and Long Polling, and stateful reconnects, find their connection.
   */
  readonly connectionsByToken: Map<string, Session>;
  /** The port the service listens on. */
  readonly port: () => number;
  /** The service's public endpoint (the `endpoint` option, default `http://localhost:<port>`): token audiences. */
  readonly endpoint: () => URL;
  /** True once shutdown has begun: new connections are refused with 503. */
  readonly closing: () => boolean;
}
