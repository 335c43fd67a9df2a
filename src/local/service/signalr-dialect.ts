/**
 * The signalr dialect (Azure SignalR today): `POST /client/negotiate?hub=…&negotiateVersion=1`, then a
 * WebSocket to `/client/?hub=…&id={connectionToken}` carrying the same kind of token (`Authorization: Bearer`
 * from Node clients, `?access_token=` from browsers), or Server-Sent Events or Long Polling at the same URL
 * (transports/http-endpoint.ts). Stateful reconnect is granted when the client asks (`useStatefulReconnect=true`)
 * and used on WebSockets (stateful-reconnect.ts). Frames speak the JSON hub protocol. The upstream gets
 * `connected` ({"type":10}) after the handshake, one call per Invocation (event = target), and
 * `disconnected` ({"type":11[,"error"]}); an invocation with an `invocationId` is answered as Azure answers
 * it (see invocation-answer.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { JWTPayload } from 'jose';
import type { WebSocket } from 'ws';
import { setBounded } from '../../lib/bounded-map.js';
import {
  HubMessageType,
  HubProtocolError,
  parseHandshakeRequest,
  parseHubMessages,
  RECORD_SEPARATOR,
  writeHandshakeResponse,
  writeHubMessage,
} from '../../lib/signalr/hub-protocol.js';
import {
  closeConnectionBody,
  openConnectionBody,
  SIGNALR_EVENTS,
  UPSTREAM_CATEGORIES,
} from '../../lib/upstream/contract.js';
import { acceptedOrigins, authenticate, requestToken, tokenUserId } from './auth.js';
import { checkHubName, type HubRegistry, type OutboundMessage } from './connections.js';
import type { PendingNegotiation, ServiceContext } from './context.js';
import { CloseCode, Rejection } from './errors.js';
import { sendJson } from './http.js';
import { type InvocationAnswer, invocationAnswer } from './invocation-answer.js';
import { randomConnectionId } from './options.js';
import { Session, type SessionInit, sessionInit, upstreamCallOf } from './session.js';
import { ReconnectBuffer } from './stateful-reconnect.js';
import type { Transport } from './transports/transport.js';
import { WebSocketTransport } from './transports/websocket.js';
import type { UpstreamCall } from './upstream.js';

/**
 * Each REST message framed once for all its recipients: a broadcast or group send reaches many connections,
 * and serialising and UTF-8 encoding it per connection repeated the same work once per recipient.
 */
const framedInvocations = new WeakMap<OutboundMessage, Buffer>();

export function hubOf(url: URL): string {
  return checkHubName(url.searchParams.get('hub'), '?hub=chat');
}

/** Checks a client token: `aud` must be `{endpoint}/client/?hub={hub}` (see auth.ts for the endpoint). */
async function authenticateClient(
  ctx: ServiceContext,
  req: IncomingMessage,
  url: URL,
  hub: string,
): Promise<JWTPayload> {
  return authenticate(requestToken(req, url), ctx.options.accessKeys, acceptedOrigins(req, ctx.port()), [
    clientAudiencePath(hub),
  ]);
}

/** The path part of a client token's audience. */
export function clientAudiencePath(hub: string): string {
  return `/client/?hub=${encodeURIComponent(hub)}`;
}

/** The transports negotiate offers, with their transfer formats, as ASP.NET Core and Azure SignalR list them. */
export const AVAILABLE_TRANSPORTS = [
  { transport: 'WebSockets', transferFormats: ['Text', 'Binary'] },
  { transport: 'ServerSentEvents', transferFormats: ['Text'] },
  { transport: 'LongPolling', transferFormats: ['Text', 'Binary'] },
] as const;

/** `POST /client/negotiate?hub=…&negotiateVersion=1`. */
export async function handleNegotiate(
  ctx: ServiceContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  corsHeaders: Readonly<Record<string, string>>,
): Promise<void> {
  if (req.method !== 'POST') {
    throw new Rejection('method-not-allowed', 'Negotiate with POST', { Allow: 'POST, OPTIONS' });
  }
  const hub = hubOf(url);
  const payload = await authenticateClient(ctx, req, url, hub);
  req.resume(); // negotiate has no meaningful body
  const version = Number(url.searchParams.get('negotiateVersion') ?? '0') >= 1 ? 1 : 0;
  const connectionId = ctx.options.generateConnectionId();
  // The token is a secret of the client (it names the connection on the WebSocket), never a guessable id.
  const connectionToken = version === 1 ? randomConnectionId() : connectionId;
  // ASP.NET Core reads the flag with bool.TryParse: "true" in any letter case.
  const statefulReconnect = url.searchParams.get('useStatefulReconnect')?.toLowerCase() === 'true';
  rememberNegotiation(ctx, connectionToken, {
    connectionId,
    hub,
    userId: tokenUserId(payload),
    expiresAt: Date.now() + ctx.options.negotiateTtlMs,
    statefulReconnect,
  });
  sendJson(
    res,
    200,
    {
      negotiateVersion: version,
      connectionId,
      ...(version === 1 ? { connectionToken } : {}),
      availableTransports: AVAILABLE_TRANSPORTS,
      ...(statefulReconnect ? { useStatefulReconnect: true } : {}),
    },
    corsHeaders,
  );
}

function rememberNegotiation(
  ctx: ServiceContext,
  token: string,
  negotiation: Parameters<ServiceContext['negotiations']['set']>[1],
): void {
  const now = Date.now();
  // Insertion order is age order (one TTL for all), so the expired ones are at the front.
  for (const [key, value] of ctx.negotiations) {
    if (value.expiresAt > now) break;
    ctx.negotiations.delete(key);
  }
  setBounded(ctx.negotiations, token, negotiation, ctx.options.maxPendingNegotiations);
}

/**
 * Takes the negotiation a connection token names (each is used once), checking its hub and user; a 404 that
 * says to negotiate when there is none.
 */
export function takeNegotiation(
  ctx: ServiceContext,
  token: string,
  hub: string,
  userId: string | undefined,
): PendingNegotiation {
  const negotiation = ctx.negotiations.get(token);
  ctx.negotiations.delete(token);
  if (!negotiation || negotiation.expiresAt <= Date.now() || negotiation.hub !== hub) {
    throw new Rejection(
      'negotiation-not-found',
      `No negotiated connection with that id for hub ${hub}: POST /client/negotiate?hub=${hub}&negotiateVersion=1 first`,
    );
  }
  if (negotiation.userId !== userId) {
    throw new Rejection('user-mismatch');
  }
  return negotiation;
}

/** Starts a signalr-dialect session on a transport; it is found by its connection token until it ends. */
export function startSignalRSession(
  ctx: ServiceContext,
  token: string | null,
  negotiation: Pick<PendingNegotiation, 'connectionId' | 'statefulReconnect'>,
  payload: JWTPayload,
  url: URL,
  transport: Transport,
): SignalRSession {
  const hub = hubOf(url);
  const registry = ctx.registries.signalr.hub(hub);
  const session = new SignalRSession(
    ctx,
    registry,
    sessionInit(negotiation.connectionId, hub, payload, url),
    negotiation.statefulReconnect,
  );
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
  ctx: ServiceContext,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  url: URL,
): Promise<void> {
  const hub = hubOf(url);
  const payload = await authenticateClient(ctx, req, url, hub);
  const userId = tokenUserId(payload);
  const token = url.searchParams.get('id');
  let negotiation: Pick<PendingNegotiation, 'connectionId' | 'statefulReconnect'>;
  if (token === null) {
    // A client that skipped negotiation.
    negotiation = { connectionId: ctx.options.generateConnectionId(), statefulReconnect: false };
  } else {
    const live = ctx.connectionsByToken.get(token);
    if (live) {
      if (live.hub.toLowerCase() !== hub.toLowerCase()) throw new Rejection('connection-not-found');
      if (live.userId !== userId) throw new Rejection('user-mismatch');
      // Only a stateful connection takes a new WebSocket (its reconnect); any other has its one transport.
      if (!(live instanceof SignalRSession) || !live.canResume) throw new Rejection('connection-active');
      if (ctx.closing()) throw new Rejection('shutting-down');
      ctx.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => live.resume(new WebSocketTransport(ws)));
      return;
    }
    negotiation = takeNegotiation(ctx, token, hub, userId);
  }
  if (ctx.closing()) throw new Rejection('shutting-down');
  ctx.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
    startSignalRSession(ctx, token, negotiation, payload, url, new WebSocketTransport(ws));
  });
}

/** One signalr-dialect connection. */
export class SignalRSession extends Session {
  #handshakeDone = false;
  #handshakeTimer: NodeJS.Timeout | undefined;
  /** Text after the last complete record: a record may span frames. */
  #buffer = '';
  /** Stateful reconnect's sequence numbers and kept messages, once the handshake turned it on. */
  #reconnect: ReconnectBuffer | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;

  constructor(
    ctx: ServiceContext,
    registry: HubRegistry,
    init: SessionInit,
    /** Negotiate granted stateful reconnect; the handshake (version 2, on WebSockets) decides whether it is used. */
    private readonly statefulNegotiated = false,
  ) {
    super(ctx, registry, init);
  }

  awaitHandshake(): void {
    const ms = this.ctx.options.handshakeTimeoutMs;
    this.#handshakeTimer = setTimeout(() => {
      if (!this.#handshakeDone) {
        this.clientError = `No handshake within ${ms} ms`;
        this.close(CloseCode.ProtocolError, `No handshake received within ${ms} ms (handshakeTimeoutMs)`);
      }
    }, ms).unref();
    void this.transport?.closed.then(() => clearTimeout(this.#handshakeTimer));
  }

  /** The transport the connection uses now (none while a stateful connection waits for its client). */
  get currentTransport(): Transport | undefined {
    return this.transport;
  }

  /** Whether a new WebSocket may take over this connection (stateful reconnect, not closing). */
  get canResume(): boolean {
    return this.#reconnect !== undefined && !this.closing;
  }

  /**
   * Stateful reconnect: the client's new WebSocket takes over. An old transport still open (its loss not yet
   * noticed) is cut; the service says where its resend starts (Sequence) and sends every unacknowledged
   * message again. The client does the same, and its duplicates are dropped.
   */
  resume(transport: Transport): void {
    const reconnect = this.#reconnect;
    if (!reconnect || this.closing) {
      transport.close(CloseCode.PolicyViolation, 'The connection cannot be resumed');
      return;
    }
    const old = this.transport;
    clearTimeout(this.#reconnectTimer);
    if (old?.open) {
      reconnect.disconnected();
      old.terminate();
    }
    this.detached = false;
    this.attach(transport);
    const { sequenceId, messages } = reconnect.resend();
    super.send(writeHubMessage({ type: HubMessageType.Sequence, sequenceId }), false);
    for (const message of messages) super.send(message.data, message.binary);
    this.ctx.options.log('info', 'Client reconnected', {
      hub: this.hub,
      connectionId: this.id,
      resent: messages.length,
    });
  }

  protected override onTransportLost(code: number, reason: string): boolean {
    const reconnect = this.#reconnect;
    if (!reconnect || this.closing) return false;
    reconnect.disconnected();
    this.detached = true;
    const ms = this.ctx.options.statefulReconnectWindowMs;
    this.#reconnectTimer = setTimeout(() => {
      if (!this.detached) return;
      this.detached = false;
      reconnect.dispose();
      void this.finish(
        `The connection closed abnormally (code ${code}${reason ? `: ${reason}` : ''}) and the client did not reconnect within ${ms} ms (statefulReconnectWindowMs)`,
      );
    }, ms);
    this.#reconnectTimer.unref();
    this.ctx.options.log('info', 'Client transport lost; waiting for a stateful reconnect', {
      hub: this.hub,
      connectionId: this.id,
      windowMs: ms,
    });
    return true;
  }

  /**
   * Sends a hub message. With stateful reconnect each is numbered and kept until the client acknowledges it
   * (while the client is away it is only kept); Pings, Acks, Sequences, the handshake and the Close message go
   * through {@link Session.send} directly.
   */
  protected override send(data: string | Buffer, binary: boolean, force = false): void {
    const reconnect = this.#reconnect;
    if (!reconnect || force) {
      super.send(data, binary, force);
      return;
    }
    if (this.closing) return;
    if (!reconnect.keep(data, binary)) {
      const limit = this.ctx.options.statefulReconnectBufferBytes;
      this.close(
        CloseCode.PolicyViolation,
        `Slow consumer: more than ${limit} bytes sent and not acknowledged (statefulReconnectBufferBytes)`,
      );
      return;
    }
    if (!this.detached) super.send(data, binary);
  }

  protected override get silenceLimitMs(): number | undefined {
    // Long Polling proves the client alive by polling; the official client sends it no Pings.
    return this.transport?.inherentKeepAlive ? undefined : this.ctx.options.clientTimeoutMs;
  }

  protected override get announced(): boolean {
    return this.#handshakeDone;
  }

  protected onFrame(data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      this.#protocolError('The json hub protocol is sent in text frames, not binary ones');
      return;
    }
    this.#buffer += data.toString('utf8');
    if (Buffer.byteLength(this.#buffer) > this.ctx.options.maxMessageBytes) {
      this.clientError = 'A hub protocol record was larger than maxMessageBytes';
      this.close(
        CloseCode.MessageTooBig,
        `A record is larger than ${this.ctx.options.maxMessageBytes} bytes (maxMessageBytes)`,
      );
      return;
    }
    try {
      if (!this.#handshakeDone) {
        if (!this.#buffer.includes(RECORD_SEPARATOR)) return;
        const { request, rest } = parseHandshakeRequest(this.#buffer);
        this.#buffer = rest;
        this.#completeHandshake(request.version);
      }
      const end = this.#buffer.lastIndexOf(RECORD_SEPARATOR);
      if (end < 0) return;
      const complete = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 1);
      for (const record of complete.split(RECORD_SEPARATOR)) {
        if (this.closing) return;
        this.#onRecord(record);
      }
    } catch (error) {
      if (!(error instanceof HubProtocolError)) throw error;
      if (!this.#handshakeDone) {
        this.send(writeHandshakeResponse(error.message), false, true);
        this.clientError = error.message;
        this.close(CloseCode.ProtocolError, error.message);
      } else {
        this.#protocolError(error.message);
      }
    }
  }

  #completeHandshake(version: number): void {
    clearTimeout(this.#handshakeTimer);
    this.#handshakeDone = true;
    this.send(writeHandshakeResponse(), false);
    // The official client asks for version 2 only on WebSockets and only when negotiate granted it.
    if (this.statefulNegotiated && version >= 2 && this.transport?.kind === 'WebSockets') {
      this.#reconnect = new ReconnectBuffer(this.ctx.options.statefulReconnectBufferBytes, (sequenceId) => {
        if (!this.detached) super.send(writeHubMessage({ type: HubMessageType.Ack, sequenceId }), false);
      });
      void this.done.then(() => {
        clearTimeout(this.#reconnectTimer);
        this.#reconnect?.dispose();
      });
    }
    this.registry.add(this);
    this.logConnected('signalr');
    void this.enqueue(() =>
      this.ctx.upstream.notify(
        this.#call(
          UPSTREAM_CATEGORIES.connections,
          SIGNALR_EVENTS.connected,
          JSON.stringify(openConnectionBody()),
        ),
      ),
    );
  }

  #onRecord(record: string): void {
    // Each record is parsed on its own so the invocation upstream gets the client's exact JSON.
    for (const message of parseHubMessages(`${record}${RECORD_SEPARATOR}`)) {
      const reconnect = this.#reconnect;
      if (reconnect) {
        if (message.type === HubMessageType.Ack) {
          const sequenceId = Number(message.sequenceId);
          if (!Number.isInteger(sequenceId)) {
            this.#protocolError('An Ack message must carry an integer "sequenceId"');
            return;
          }
          reconnect.ack(sequenceId);
          continue;
        }
        if (message.type === HubMessageType.Sequence) {
          const sequenceId = Number(message.sequenceId);
          if (!Number.isInteger(sequenceId) || sequenceId < 1 || !reconnect.sequence(sequenceId)) {
            this.#protocolError('The Sequence message names a message the service has not received yet');
            return;
          }
          continue;
        }
        if (!reconnect.accept(message.type)) continue;
      }
      switch (message.type) {
        case HubMessageType.Invocation: {
          const { target, invocationId } = message;
          void this.enqueue(async () => {
            const outcome = await this.ctx.upstream.call(
              this.#call(UPSTREAM_CATEGORIES.messages, target, record),
            );
            // Without an invocation id (a send) the answer is ignored, whatever it is.
            if (invocationId !== undefined) this.#answer(invocationAnswer(invocationId, target, outcome));
          });
          break;
        }
        case HubMessageType.StreamInvocation:
          this.send(
            writeHubMessage({
              type: 3,
              invocationId: String(message.invocationId),
              error: 'Streaming invocations are not supported by the serverless service',
            }),
            false,
          );
          break;
        case HubMessageType.Close:
          // The client is leaving; its error (if any) is reported in the disconnected upstream.
          this.clientError = message.error || undefined;
          this.transport?.close(CloseCode.Normal, '');
          return;
        default:
          // Pings keep the connection alive (any frame does); client results, acks and cancels are not used.
          break;
      }
    }
  }

  #answer(answer: InvocationAnswer): void {
    if (answer.kind === 'verbatim') this.send(answer.body, false);
    else this.send(writeHubMessage(answer.message), false);
  }

  #protocolError(message: string): void {
    this.clientError = message;
    this.close(CloseCode.ProtocolError, message);
  }

  deliver(message: OutboundMessage): void {
    if (message.kind !== 'invocation') return; // the signalr REST API only produces invocations
    let frame = framedInvocations.get(message);
    if (frame === undefined) {
      const text = writeHubMessage({ type: 1, target: message.target, arguments: message.arguments });
      frame = Buffer.from(text, 'utf8');
      framedInvocations.set(message, frame);
    }
    this.send(frame, false); // a text frame: the bytes are the record's UTF-8
  }

  protected override onKeepAlive(): void {
    // No Pings on Long Polling: its client neither expects nor answers them (inherent keep-alive).
    if (this.#handshakeDone && !this.transport?.inherentKeepAlive) {
      super.send(writeHubMessage({ type: HubMessageType.Ping }), false);
    }
  }

  protected disconnectCall(error: string | undefined): UpstreamCall {
    return this.#call(
      UPSTREAM_CATEGORIES.connections,
      SIGNALR_EVENTS.disconnected,
      JSON.stringify(closeConnectionBody(error)),
    );
  }

  protected beforeServerClose(reason: string, allowReconnect: boolean): void {
    if (!this.#handshakeDone) return;
    const close = {
      type: 7 as const,
      ...(reason ? { error: reason } : {}),
      ...(allowReconnect ? { allowReconnect: true } : {}),
    };
    this.send(writeHubMessage(close), false, true);
  }

  #call(category: UpstreamCall['category'], event: string, body: string): UpstreamCall {
    return upstreamCallOf(this, category, event, { body, contentType: 'application/json' });
  }
}
