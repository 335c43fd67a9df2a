/**
 * The typed upstream dispatcher: the public face of `src/lib/upstream/`.
 *
 * ```ts
 * const handleMessages = createUpstreamHandler(
 *   {
 *     handleConnect: async (req, res) => res.accept({ userId: req.context.query.get('name') ?? undefined }),
 *     handleInvocation: async (req, res) => res.success(await run(req.event.target, req.event.arguments)),
 *     onDisconnected: async (req) => forget(req.context.connectionId),
 *   },
 *   { accessKeys: () => [primaryKey], hub: 'chat' },
 * );
 * // app.http('messages', { methods: ['POST'], authLevel: 'anonymous', handler: handleMessages });
 * ```
 * See docs/architecture.md, "The upstream contract".
 */

export { DEFAULT_MAX_MESSAGEPACK_DEPTH } from '../signalr/index.js';
export {
  acceptedIssuers,
  DEFAULT_METADATA_TIMEOUT_MS,
  DEFAULT_UPSTREAM_CLOCK_SKEW_SECONDS,
  UNCONFIGURED_BEARER_CHECK,
  UpstreamTokenValidator,
} from './bearer.js';
export { createUpstreamHandler, type UpstreamHttpHandler } from './dispatcher.js';
export { UPSTREAM_ERRORS, UpstreamError, type UpstreamErrorCode } from './errors.js';
export {
  type Claims,
  type ClientMessageEvent,
  type ConnectAcceptance,
  type ConnectEvent,
  type ConnectedEvent,
  type ConnectFailStatus,
  type ConnectResponse,
  DEFAULT_MAX_BODY_BYTES,
  type DisconnectEvent,
  type DisconnectedEvent,
  type FailStatus,
  type InvocationEvent,
  type InvocationResponse,
  type MessageData,
  type MessageResponse,
  type ResponseBody,
  type UpstreamBearerCheck,
  type UpstreamContext,
  type UpstreamEvent,
  type UpstreamHandlerOptions,
  type UpstreamHandlers,
  type UpstreamRequest,
} from './events.js';
export { parseClaims } from './parse.js';
