/**
 * What the raw-WebSocket wing keeps while the service runs: its connections by hub
 * (docs/local-service.md, "The raw-WebSocket wing").
 */
import { ConnectionRegistry } from '../connections.js';
import type { ServiceContext } from '../context.js';

/** The service's context with the raw-WebSocket wing's connections: its REST API addresses these only. */
export interface WebSocketContext extends ServiceContext {
  readonly registry: ConnectionRegistry;
}

export function webSocketContext(ctx: ServiceContext): WebSocketContext {
  return { ...ctx, registry: new ConnectionRegistry() };
}
