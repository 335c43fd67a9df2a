/**
 * The SignalR wing's WebSocket endpoint, `/client/?hub=…&id=…`, and the start of a session on any transport
 * (docs/local-service.md, "The SignalR wing").
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { JWTPayload } from 'jose';
import type { WebSocket } from 'ws';
import { tokenUserId } from '../auth/tokens.js';
import { Rejection } from '../errors.js';
import { sessionInit } from '../session-init.js';
import type { Transport } from '../transports/transport.js';
import { WebSocketTransport, type WebSocketTransportOptions } from '../transports/websocket.js';
import { authenticateClient, hubOf, takeNegotiation } from './negotiate.js';
import { SignalRSession } from './session.js';
import type { PendingNegotiation, SignalRContext } from './state.js';

/** Starts a SignalR session on a transport; it is found by its connection token until it ends. */
export function startSignalRSession(
  ctx: SignalRContext,
  token: string | null,
  negotiation: Pick<PendingNegotiation, 'connectionId' | 'statefulReconnect'>,
  payload: JWTPayload,
  url: URL,
  transport: Transport,
  /** The client's address: the fair-share lane of a connection without a user. */
  remoteAddress?: string,
): SignalRSession {
  const hub = hubOf(url);
  const registry = ctx.registry.hub(hub);
  const session = new SignalRSession(
    ctx,
    registry,
    sessionInit(negotiation.connectionId, hub, payload, url),
    negotiation.statefulReconnect,
  );
  // A connection without a user shares its address's lane, so anonymous connects open no new lanes.
  if (session.userId === undefined) session.lane = `address:${remoteAddress ?? 'unknown'}`;
  if (token !== null) {
    ctx.connectionsByToken.set(token, session);
    void session.done.then(() => {
      if (ctx.connectionsByToken.get(token) === session) ctx.connectionsByToken.delete(token);
    });
  }
  session.attach(transport);
  session.awaitHandshake();
  return session;
}

/** The WebSocket of the signalr dialect: `/client/?hub=…&id=…`. */
export async function handleSignalRUpgrade(
  ctx: SignalRContext,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  url: URL,
): Promise<void> {
  const hub = hubOf(url);
  const token = url.searchParams.get('id');
  // A negotiated WebSocket was counted at its negotiate (its id is single-use); one without is a connect.
  if (token === null) ctx.connectLimits.address(req.socket.remoteAddress);
  const payload = await authenticateClient(ctx, req, url, hub);
  const userId = tokenUserId(payload);
  let negotiation: Pick<PendingNegotiation, 'connectionId' | 'statefulReconnect'>;
  if (token === null) {
    // A client that skipped negotiation: a connect of its own.
    ctx.connectLimits.user(userId);
    negotiation = { connectionId: ctx.options.generateConnectionId(), statefulReconnect: false };
  } else {
    const live = ctx.connectionsByToken.get(token);
    if (live) {
      if (live.hub.toLowerCase() !== hub.toLowerCase()) throw new Rejection('connection-not-found');
      if (live.userId !== userId) throw new Rejection('user-mismatch');
      // Only a stateful connection takes a new WebSocket (its reconnect); any other has its one transport.
      if (!(live instanceof SignalRSession) || !live.canResume) throw new Rejection('connection-active');
      if (ctx.closing()) throw new Rejection('shutting-down');
      ctx.wss.handleUpgrade(req, socket, head, (ws: WebSocket) =>
        live.resume(new WebSocketTransport(ws, recordsCoalescing(ctx))),
      );
      return;
    }
    negotiation = takeNegotiation(ctx, token, hub, userId);
  }
  if (ctx.closing()) throw new Rejection('shutting-down');
  ctx.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
    startSignalRSession(
      ctx,
      token,
      negotiation,
      payload,
      url,
      new WebSocketTransport(ws, recordsCoalescing(ctx)),
      req.socket.remoteAddress,
    );
  });
}

/**
 * Records sent to one client in one turn leave as one WebSocket message, as ASP.NET Core SignalR sends them
 * (transports/websocket.ts).
 */
function recordsCoalescing(ctx: SignalRContext): WebSocketTransportOptions {
  return { coalescing: 'records', maxCoalescedBytes: ctx.options.maxCoalescedBytes };
}
