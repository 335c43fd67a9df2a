/**
 * The raw-WebSocket wing's client endpoint: `/ws/client/hubs/{hub}[/formats/{text|binary}]` and
 * `/ws/client?hub=…`, accepted or refused by the blocking `connect` upstream
 * (docs/local-service.md, "The raw-WebSocket wing").
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  UPSTREAM_CATEGORIES,
  UPSTREAM_HEADERS,
  WEBSOCKET_EVENTS,
} from '../../../lib/signalr/upstream-contract.js';
import { acceptedOrigins, authenticate, requestToken, tokenUserId } from '../auth/tokens.js';
import { checkHubName, type OutboundMessage } from '../connections.js';
import { Rejection } from '../errors.js';
import { rejectUpgrade } from '../http.js';
import { sessionInit, upstreamCallOf } from '../session.js';
import { completeUpgrade } from '../upgrade.js';
import { describeFailure, succeeded } from '../upstream/call.js';
import { type FrameFormat, WebSocketSession } from './session.js';
import type { WebSocketContext } from './state.js';
import { frameOf, WEBSOCKET_UPSTREAM } from './upstream-codec.js';

/** Parses the websocket dialect's client paths; undefined when the path is not one of them. */
function parseClientRoute(url: URL): { hub: string; format?: FrameFormat } | undefined {
  const path = url.pathname.replace(/\/+$/, '');
  let hub: string | null | undefined;
  let format: string | null = url.searchParams.get('format');
  const match = /^\/ws\/client\/hubs\/([^/]+)(?:\/formats\/([^/]+))?$/.exec(path);
  if (match) {
    hub = safeDecode(match[1] ?? '');
    format = match[2] !== undefined ? safeDecode(match[2]) : format;
  } else if (path === '/ws/client') {
    hub = url.searchParams.get('hub');
  } else {
    return undefined;
  }
  const valid = checkHubName(hub, '/ws/client/hubs/chat');
  if (format !== null && format !== 'text' && format !== 'binary') {
    throw new Rejection('invalid-request', `Unknown format '${format}': use text or binary`);
  }
  return format === null ? { hub: valid } : { hub: valid, format };
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new Rejection('invalid-request', 'The URL path is not valid percent-encoding');
  }
}

/** Handles a WebSocket upgrade on one of the wing's client paths. */
export async function handleWebSocketDialectUpgrade(
  ctx: WebSocketContext,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  url: URL,
): Promise<void> {
  const route = parseClientRoute(url);
  if (!route) throw new Rejection('not-found', `No client endpoint at ${url.pathname}`);
  const { hub } = route;
  ctx.connectLimits.address(req.socket.remoteAddress);
  const token = requestToken(req, url);
  const payload =
    token === undefined
      ? undefined
      : await authenticate(token, ctx.options.accessKeys, acceptedOrigins(ctx.endpoint()), [
          `/ws/client/hubs/${encodeURIComponent(hub)}`,
          url.pathname.replace(/\/+$/, ''),
        ]);
  ctx.connectLimits.user(tokenUserId(payload));
  const offered = (req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const init = sessionInit(ctx.options.generateConnectionId(), hub, payload, url);
  const outcome = await ctx.upstream.call({
    ...upstreamCallOf(init, WEBSOCKET_UPSTREAM, UPSTREAM_CATEGORIES.connections, WEBSOCKET_EVENTS.connect, {
      subprotocols: offered,
    }),
    // A connect without a user waits in its address's lane, so anonymous connects cannot open new lanes.
    ...(init.userId === undefined ? { lane: `address:${req.socket.remoteAddress ?? 'unknown'}` } : {}),
  });
  let firstMessage: OutboundMessage | undefined;
  let userId = init.userId;
  let chosen: string | undefined;
  if (outcome.kind === 'response') {
    if (!succeeded(outcome)) {
      rejectUpgrade(
        socket,
        outcome.status,
        outcome.body,
        outcome.headers.get('content-type') ?? 'text/plain; charset=utf-8',
      );
      return;
    }
    userId = outcome.headers.get(UPSTREAM_HEADERS.userId) || userId;
    chosen = outcome.headers.get('sec-websocket-protocol')?.trim() || undefined;
    if (chosen !== undefined && !offered.includes(chosen)) {
      throw new Rejection(
        'upstream-failed',
        `The upstream chose the subprotocol '${chosen}', which the client did not offer (offered: ${offered.join(', ') || 'none'})`,
      );
    }
    if (outcome.body.length > 0) firstMessage = frameOf(outcome.body, outcome.headers.get('content-type'));
  } else if (outcome.kind !== 'no-template') {
    throw new Rejection(
      outcome.kind === 'timeout' ? 'upstream-timeout' : 'upstream-failed',
      `The connect upstream failed: ${describeFailure(outcome)}`,
    );
  }
  if (userId === undefined) {
    throw new Rejection(
      'no-user',
      `No user id: connect with an access_token whose nameid is the user, or let the connect upstream set ${UPSTREAM_HEADERS.userId}`,
    );
  }
  const registry = ctx.registry.hub(hub);
  const session = new WebSocketSession(ctx, registry, { ...init, userId }, route.format);
  completeUpgrade(ctx, session, { req, socket, head, subprotocol: chosen }, () => {
    if (firstMessage) session.deliver(firstMessage);
    registry.add(session);
    session.logConnected('websocket');
  });
}
