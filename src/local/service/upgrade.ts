/**
 * The end of a client endpoint's WebSocket upgrade, shared by the wings whose connect the upstream decides
 * (docs/local-service.md, "Wings").
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { ServiceContext } from './context.js';
import { Rejection } from './errors.js';
import { rejectUpgradeWith } from './http.js';
import type { Session } from './session.js';
import { WebSocketTransport } from './transports/websocket.js';

/** The handshake a client endpoint accepted: the upgrade request, its socket, and the subprotocol chosen. */
export interface AcceptedUpgrade {
  readonly req: IncomingMessage;
  readonly socket: Duplex;
  readonly head: Buffer;
  readonly subprotocol: string | undefined;
}

/**
 * Completes the WebSocket handshake of a session whose connect was accepted, then calls `opened`. A client
 * that left, or a shutdown that began, during the connect upstream abandons the session instead, so its
 * accepted connect still gets its one disconnect.
 */
export function completeUpgrade(
  ctx: ServiceContext,
  session: Session,
  upgrade: AcceptedUpgrade,
  opened: () => void,
): void {
  const { req, socket, head, subprotocol } = upgrade;
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
  const onEarlyClose = () => {
    if (!upgraded) void session.abandon('The WebSocket handshake failed');
  };
  socket.once('close', onEarlyClose);
  if (subprotocol !== undefined) ctx.chosenSubprotocols.set(req, subprotocol);
  ctx.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
    upgraded = true;
    // Not needed from here on; left on the socket it would keep the handshake's request alive as long.
    socket.off('close', onEarlyClose);
    // One message is one frame here: a turn's frames stay separate messages, written under one cork.
    session.attach(
      new WebSocketTransport(ws, { coalescing: 'frames', maxCoalescedBytes: ctx.options.maxCoalescedBytes }),
    );
    opened();
  });
}
