/**
 * What the SignalR wing keeps while the service runs: its connections by hub, the negotiations whose transport
 * has not arrived yet, and its live connections by connection token (docs/local-service.md, "The SignalR wing").
 */
import { randomUUID } from 'node:crypto';
import { ConnectionRegistry } from '../connections.js';
import type { ServiceContext } from '../context.js';
import { SendSlots } from '../transports/send-slots.js';
import type { SignalRSession } from './session.js';

/** A SignalR negotiate whose transport has not arrived yet. */
export interface PendingNegotiation {
  readonly connectionId: string;
  readonly hub: string;
  readonly userId: string | undefined;
  readonly expiresAt: number;
  /** The client asked for stateful reconnect (`useStatefulReconnect=true`) and negotiate granted it. */
  readonly statefulReconnect: boolean;
}

/** The service's context with the SignalR wing's own state. */
export interface SignalRContext extends ServiceContext {
  /** The wing's connections: its REST API addresses these only. */
  readonly registry: ConnectionRegistry;
  /** Negotiated connections by connection token (insertion order = age). */
  readonly negotiations: Map<string, PendingNegotiation>;
  /**
   * Live connections by connection token, until their session ends: where the POSTs, polls and DELETEs of
   * Server-Sent Events and Long Polling, and stateful reconnects, find their connection.
   */
  readonly connectionsByToken: Map<string, SignalRSession>;
  /** The id `/api/auth/accessKey` gives the primary access key (Microsoft's SDKs sign with it as `kid`). */
  readonly accessKeyId: string;
  /** Server-Sent Events and Long Polling POSTs in flight per client address (`maxConcurrentSendsPerAddress`). */
  readonly sendSlots: SendSlots;
}

/** The wing's state beside the service's context. */
export function signalRContext(ctx: ServiceContext): SignalRContext {
  return {
    ...ctx,
    registry: new ConnectionRegistry(),
    negotiations: new Map(),
    connectionsByToken: new Map(),
    accessKeyId: randomUUID(),
    sendSlots: new SendSlots(ctx.options.maxConcurrentSendsPerAddress),
  };
}
