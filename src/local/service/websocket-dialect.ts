/**
 * The websocket dialect (the 2020 Serverless WebSocket preview): raw frames, one frame = one message.
 * Endpoints `/ws/client/hubs/{hub}`, `/ws/client/hubs/{hub}/formats/{text|binary}` and `/ws/client?hub={hub}`
 * (optional `?format=`). A blocking `connect` upstream decides: 2xx accepts (the response may set
 * `X-ASRS-User-Id`, choose one offered `Sec-WebSocket-Protocol`, and carry the client's first message);
 * anything else is returned to the client as the handshake response. The format, when given, fixes the frame
 * type of messages sent to the client; otherwise a message's own type (text or binary) is kept.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import {
  UPSTREAM_CATEGORIES,
  UPSTREAM_HEADERS,
  WEBSOCKET_EVENTS,
} from '../../lib/signalr/upstream-contract.js';
import { acceptedOrigins, authenticate, requestToken, tokenUserId } from './auth.js';
import { checkHubName, type HubRegistry, type OutboundMessage } from './connections.js';
import type { ServiceContext } from './context.js';
import { CloseCode, Rejection } from './errors.js';
import { rejectUpgrade, rejectUpgradeWith } from './http.js';
import { Session, type SessionInit, sessionInit, upstreamCallOf } from './session.js';
import { WebSocketTransport } from './transports/websocket.js';
import { describeFailure, succeeded, type UpstreamCall } from './upstream.js';

export type FrameFormat = 'text' | 'binary';

/** The subprotocol the upstream chose for an upgrade request, read by the server's `handleProtocols`. */
export const chosenSubprotocols = new WeakMap<IncomingMessage, string>();

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

/** Handles a WebSocket upgrade on a websocket-dialect path. */
export async function handleWebSocketDialectUpgrade(
  ctx: ServiceContext,
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
    ...upstreamCallOf(init, UPSTREAM_CATEGORIES.connections, WEBSOCKET_EVENTS.connect, {
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
  const registry = ctx.registries.websocket.hub(hub);
  const session = new WebSocketSession(ctx, registry, { ...init, userId }, route.format);
  if (socket.destroyed) {
    void session.abandon('The client went away during the connect handshake');
    return;
  }
  if (ctx.closing()) {
    rejectUpgradeWith(socket, new Rejection('shutting-down'));
    void session.abandon('The service is shutting down');
    return;
  }
  let upgraded = false;
  // ws answers malformed handshakes itself without calling back; the accepted connect still needs its disconnect.
  socket.once('close', () => {
    if (!upgraded) void session.abandon('The WebSocket handshake failed');
  });
  if (chosen !== undefined) chosenSubprotocols.set(req, chosen);
  ctx.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
    upgraded = true;
    // One message is one frame here: a turn's frames stay separate messages, written under one cork.
    session.attach(
      new WebSocketTransport(ws, { coalescing: 'frames', maxCoalescedBytes: ctx.options.maxCoalescedBytes }),
    );
    if (firstMessage) session.deliver(firstMessage);
    registry.add(session);
    session.logConnected('websocket');
  });
}

/**
 * The UTF-8 bytes of a text message, encoded once for all its recipients (a broadcast or group send reaches
 * many connections) rather than once per connection.
 */
const encodedMessages = new WeakMap<OutboundMessage, Buffer>();

function utf8Of(message: Exclude<OutboundMessage, { kind: 'binary' }>): Buffer {
  let bytes = encodedMessages.get(message);
  if (bytes === undefined) {
    const text =
      message.kind === 'text'
        ? message.text
        : JSON.stringify({ target: message.target, arguments: message.arguments });
    bytes = Buffer.from(text, 'utf8');
    encodedMessages.set(message, bytes);
  }
  return bytes;
}

function frameOf(body: Buffer, contentType: string | null): OutboundMessage {
  return contentType?.toLowerCase().startsWith('application/octet-stream')
    ? { kind: 'binary', data: body }
    : { kind: 'text', text: body.toString('utf8') };
}

/** One websocket-dialect connection. */
export class WebSocketSession extends Session {
  constructor(
    ctx: ServiceContext,
    registry: HubRegistry,
    init: SessionInit,
    private readonly format: FrameFormat | undefined,
  ) {
    super(ctx, registry, init);
  }

  protected onFrame(data: Buffer, isBinary: boolean): void {
    void this.enqueue(async () => {
      const outcome = await this.ctx.upstream.call(
        upstreamCallOf(this, UPSTREAM_CATEGORIES.messages, WEBSOCKET_EVENTS.message, {
          body: data,
          contentType: isBinary ? 'application/octet-stream' : 'text/plain',
        }),
      );
      if (outcome.kind === 'no-template') return;
      if (outcome.kind !== 'response' || !succeeded(outcome)) {
        this.close(CloseCode.InternalError, `The message upstream failed: ${describeFailure(outcome)}`);
        return;
      }
      if (outcome.body.length > 0) this.deliver(frameOf(outcome.body, outcome.headers.get('content-type')));
    });
  }

  deliver(message: OutboundMessage): void {
    const binary = this.format ? this.format === 'binary' : message.kind === 'binary';
    if (message.kind === 'binary') {
      // Bytes sent as a text frame must be valid UTF-8: decoding replaces invalid sequences.
      this.send(binary ? message.data : message.data.toString('utf8'), binary);
      return;
    }
    this.send(utf8Of(message), binary);
  }

  protected disconnectCall(): UpstreamCall {
    return upstreamCallOf(this, UPSTREAM_CATEGORIES.connections, WEBSOCKET_EVENTS.disconnect);
  }

  protected beforeServerClose(): void {
    // The websocket dialect has no in-band close message: the close frame's reason says it all.
  }
}
