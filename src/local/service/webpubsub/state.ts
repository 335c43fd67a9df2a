/**
 * What the Web PubSub wing keeps while the service runs: the hub state, the reliable connections that can be
 * recovered, the upstream codec and the abuse-protection outcomes (docs/local-service.md, "The Web PubSub wing").
 */
import type { ServiceContext } from '../context.js';
import type { Transport } from '../transports/transport.js';
import type { UpstreamCodec } from '../upstream/call.js';
import { AbuseProtection, HandlerRoutes } from './event-handlers.js';
import { WebPubSubHubState } from './hub.js';
import { webPubSubUpstream } from './upstream-codec.js';

/** A connection that a client may recover (the reliable subprotocol), as the client endpoint sees it. */
export interface RecoverableConnection {
  readonly hub: string;
  /** The connection's user, who pays for a recovery as for a connect. */
  readonly userId: string | undefined;
  /** Whether the presented token is this connection's (constant time). */
  matches(reconnectionToken: string): boolean;
  readonly canResume: boolean;
  /** The client's new WebSocket takes over; what the old one may have lost is sent again. */
  resume(transport: Transport): void;
}

export interface WebPubSubContext extends ServiceContext {
  readonly hubs: WebPubSubHubState;
  /** Reliable connections by id, from their connect until they end. */
  readonly recoverable: Map<string, RecoverableConnection>;
  readonly codec: UpstreamCodec;
  /** Which handler template each event of a hub goes to. */
  readonly handlers: HandlerRoutes;
}

/** The service's host as `WebHook-Request-Origin` names it (Azure: `<name>.webpubsub.azure.com`). */
function originOf(ctx: ServiceContext): string {
  return ctx.endpoint().host;
}

export function webPubSubContext(ctx: ServiceContext): WebPubSubContext {
  const protection = new AbuseProtection(() => originOf(ctx), ctx.options.upstreamTimeoutMs, ctx.options.log);
  return {
    ...ctx,
    hubs: new WebPubSubHubState(),
    recoverable: new Map(),
    handlers: new HandlerRoutes(ctx.options.webPubSubHubs),
    codec: webPubSubUpstream(
      () => originOf(ctx),
      (url) => protection.allowed(url),
      ctx.options.webPubSubAccessKeys,
    ),
  };
}
