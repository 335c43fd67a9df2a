/**
 * The HTTP side of `/client/?hub=…&id={connectionToken}`: the SignalR wing's Server-Sent Events and Long
 * Polling, with ASP.NET Core's `HttpConnectionDispatcher` answers (docs/local-service.md, "The SignalR wing").
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { acceptedOrigins, authenticate, requestToken, tokenUserId } from '../auth/tokens.js';
import { Rejection } from '../errors.js';
import { readBody } from '../http.js';
import { NO_CACHE_HEADERS } from '../transports/http-transport.js';
import { LongPollingTransport } from '../transports/long-polling.js';
import { ServerSentEventsTransport } from '../transports/server-sent-events.js';
import { startSignalRSession } from './client-endpoint.js';
import { clientAudiencePath, hubOf, takeNegotiation } from './negotiate.js';
import type { SignalRSession } from './session.js';
import type { SignalRContext } from './state.js';

/** Methods a browser may use on `/client/` from another origin (the CORS preflight's answer). */
export const CLIENT_ENDPOINT_METHODS = 'GET, POST, DELETE, OPTIONS';

/** The plain-text answers of ASP.NET Core's dispatcher, which the official clients know. */
export const TRANSPORT_TEXTS = {
  idRequired: 'Connection ID required',
  noConnection: 'No Connection with that ID',
  cannotChange: 'Cannot change transports mid-connection',
  postOnWebSocket: 'POST requests are not allowed for WebSocket connections.',
  deleteNotLongPolling: 'Cannot terminate this connection using the DELETE endpoint.',
} as const;

function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Readonly<Record<string, string>>,
): void {
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

function isEventStreamRequest(req: IncomingMessage): boolean {
  return (req.headers.accept ?? '')
    .split(',')
    .some((part) => part.split(';')[0]?.trim().toLowerCase() === 'text/event-stream');
}

/** A request to `/client/` that is not a WebSocket upgrade. */
export async function handleClientHttpRequest(
  ctx: SignalRContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  cors: Readonly<Record<string, string>>,
): Promise<void> {
  const method = req.method ?? 'GET';
  if (method !== 'GET' && method !== 'POST' && method !== 'DELETE') {
    throw new Rejection('method-not-allowed', 'Use GET, POST or DELETE on /client/', {
      Allow: CLIENT_ENDPOINT_METHODS,
      ...cors,
    });
  }
  const hub = hubOf(url);
  const token = url.searchParams.get('id');
  if (!token) {
    sendText(res, 400, TRANSPORT_TEXTS.idRequired, cors);
    return;
  }
  const eventStream = method === 'GET' && isEventStreamRequest(req);
  // The query's token counts only on the event stream, as Azure reads it; every other request sends a header.
  const header = requestToken(req, new URL('http://service.invalid/'));
  const payload = await authenticate(
    header ?? (eventStream ? (url.searchParams.get('access_token') ?? undefined) : undefined),
    ctx.options.accessKeys,
    acceptedOrigins(ctx.endpoint()),
    [clientAudiencePath(hub)],
  );
  const userId = tokenUserId(payload);
  const live = ctx.connectionsByToken.get(token);
  if (live) {
    if (live.hub.toLowerCase() !== hub.toLowerCase()) {
      sendText(res, 404, TRANSPORT_TEXTS.noConnection, cors);
      return;
    }
    if (live.userId !== userId) throw new Rejection('user-mismatch', undefined, cors);
    await onLiveConnection(ctx, live, method, eventStream, req, res, cors);
    return;
  }
  if (method !== 'GET' || !ctx.negotiations.has(token)) {
    sendText(res, 404, TRANSPORT_TEXTS.noConnection, cors);
    return;
  }
  if (ctx.closing()) throw new Rejection('shutting-down', undefined, cors);
  const negotiation = takeNegotiation(ctx, token, hub, userId);
  req.resume();
  const transport = eventStream
    ? new ServerSentEventsTransport(res, cors)
    : new LongPollingTransport({
        pollTimeoutMs: ctx.options.longPollingTimeoutMs,
        disconnectTimeoutMs: ctx.options.longPollingDisconnectTimeoutMs,
      });
  startSignalRSession(ctx, token, negotiation, payload, url, transport, req.socket.remoteAddress);
  if (transport instanceof LongPollingTransport) transport.poll(res, cors);
}

async function onLiveConnection(
  ctx: SignalRContext,
  session: SignalRSession,
  method: string,
  eventStream: boolean,
  req: IncomingMessage,
  res: ServerResponse,
  cors: Readonly<Record<string, string>>,
): Promise<void> {
  const transport = session.currentTransport;
  const kind = transport?.kind ?? 'WebSockets';
  if (method === 'POST') {
    if (kind === 'WebSockets') {
      sendText(res, 405, TRANSPORT_TEXTS.postOnWebSocket, cors);
      return;
    }
    if (!(transport instanceof ServerSentEventsTransport || transport instanceof LongPollingTransport))
      return;
    const contentType = (req.headers['content-type'] ?? '').toLowerCase();
    // One POST of a connection at a time, and a bounded number per address, each refused before its body is read.
    const handled = await transport.exclusively(async () => {
      const release = ctx.sendSlots.take(req.socket.remoteAddress ?? 'unknown', cors);
      try {
        const body = await readBody(req, ctx.options.maxMessageBytes);
        if (transport.ended) {
          sendText(res, 404, '', cors);
          return;
        }
        await transport.receive(body, contentType.startsWith('application/octet-stream'));
        sendText(res, 200, '', cors);
      } finally {
        release();
      }
    });
    if (!handled) throw new Rejection('send-in-progress', undefined, cors);
    return;
  }
  if (method === 'DELETE') {
    if (!(transport instanceof LongPollingTransport)) {
      sendText(res, 400, TRANSPORT_TEXTS.deleteNotLongPolling, cors);
      return;
    }
    req.resume();
    transport.delete();
    sendText(res, 202, '', { ...cors, ...NO_CACHE_HEADERS });
    return;
  }
  req.resume();
  const wanted = eventStream ? 'ServerSentEvents' : 'LongPolling';
  if (kind !== wanted) {
    sendText(res, 400, TRANSPORT_TEXTS.cannotChange, cors);
    return;
  }
  if (transport instanceof LongPollingTransport) {
    transport.poll(res, cors);
    return;
  }
  // A second event stream for the same connection.
  throw new Rejection('connection-active', undefined, cors);
}
