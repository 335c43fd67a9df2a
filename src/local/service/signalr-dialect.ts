/**
 * The signalr dialect (Azure SignalR today): `POST /client/negotiate?hub=…&negotiateVersion=1`, then a
 * WebSocket to `/client/?hub=…&id={connectionToken}` carrying the same kind of token (`Authorization: Bearer`
 * from Node clients, `?access_token=` from browsers). Frames speak the JSON hub protocol. The upstream gets
 * `connected` ({"type":10}) after the handshake, one call per Invocation (event = target), and
 * `disconnected` ({"type":11[,"error"]}); an invocation with an `invocationId` is answered with a Completion.
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
import { checkHubName, type OutboundMessage } from './connections.js';
import type { ServiceContext } from './context.js';
import { CloseCode, Rejection } from './errors.js';
import { sendJson } from './http.js';
import { randomConnectionId } from './options.js';
import { Session, sessionInit, upstreamCallOf } from './session.js';
import { describeFailure, succeeded, type UpstreamCall, type UpstreamOutcome } from './upstream.js';

/**
 * Each REST message framed once for all its recipients: a broadcast or group send reaches many connections,
 * and serialising and UTF-8 encoding it per connection repeated the same work once per recipient.
 */
const framedInvocations = new WeakMap<OutboundMessage, Buffer>();

/** How much of a failed upstream's body a Completion error quotes: enough for a reason, never a whole page. */
const MAX_FAILURE_DETAIL_CHARS = 200;

function hubOf(url: URL): string {
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
    `/client/?hub=${encodeURIComponent(hub)}`,
  ]);
}

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
  rememberNegotiation(ctx, connectionToken, {
    connectionId,
    hub,
    userId: tokenUserId(payload),
    expiresAt: Date.now() + ctx.options.negotiateTtlMs,
  });
  sendJson(
    res,
    200,
    {
      negotiateVersion: version,
      connectionId,
      ...(version === 1 ? { connectionToken } : {}),
      availableTransports: [{ transport: 'WebSockets', transferFormats: ['Text', 'Binary'] }],
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
  let connectionId: string;
  if (token === null) {
    connectionId = ctx.options.generateConnectionId(); // a client that skipped negotiation
  } else {
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
    connectionId = negotiation.connectionId;
  }
  if (ctx.closing()) throw new Rejection('shutting-down');
  const registry = ctx.registries.signalr.hub(hub);
  ctx.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
    const session = new SignalRSession(ctx, registry, sessionInit(connectionId, hub, payload, url));
    session.attach(ws);
    session.awaitHandshake();
  });
}

/** One signalr-dialect connection. */
export class SignalRSession extends Session {
  #handshakeDone = false;
  #handshakeTimer: NodeJS.Timeout | undefined;
  /** Text after the last complete record: a record may span frames. */
  #buffer = '';

  awaitHandshake(): void {
    const ms = this.ctx.options.handshakeTimeoutMs;
    this.#handshakeTimer = setTimeout(() => {
      if (!this.#handshakeDone) {
        this.clientError = `No handshake within ${ms} ms`;
        this.close(CloseCode.ProtocolError, `No handshake received within ${ms} ms (handshakeTimeoutMs)`);
      }
    }, ms).unref();
    this.socket?.once('close', () => clearTimeout(this.#handshakeTimer));
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
        const { rest } = parseHandshakeRequest(this.#buffer);
        this.#buffer = rest;
        this.#completeHandshake();
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

  #completeHandshake(): void {
    clearTimeout(this.#handshakeTimer);
    this.#handshakeDone = true;
    this.send(writeHandshakeResponse(), false);
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
      switch (message.type) {
        case HubMessageType.Invocation: {
          const { target, invocationId } = message;
          void this.enqueue(async () => {
            const outcome = await this.ctx.upstream.call(
              this.#call(UPSTREAM_CATEGORIES.messages, target, record),
            );
            if (invocationId !== undefined) this.#complete(invocationId, target, outcome);
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
          this.socket?.close(CloseCode.Normal);
          return;
        default:
          // Pings keep the connection alive (any frame does); client results, acks and cancels are not used.
          break;
      }
    }
  }

  #complete(invocationId: string, target: string, outcome: UpstreamOutcome): void {
    if (outcome.kind === 'response' && succeeded(outcome)) {
      if (outcome.body.length === 0) {
        this.send(writeHubMessage({ type: 3, invocationId }), false);
        return;
      }
      const text = outcome.body.toString('utf8');
      let result: unknown = text;
      try {
        result = JSON.parse(text);
      } catch {
        // A non-JSON body is returned as a string result.
      }
      this.send(writeHubMessage({ type: 3, invocationId, result }), false);
      return;
    }
    const detail =
      outcome.kind === 'no-template'
        ? `no upstream template matches the invocation '${target}'`
        : outcome.kind === 'response' && outcome.body.length > 0
          ? `${describeFailure(outcome)}: ${outcome.body.toString('utf8').slice(0, MAX_FAILURE_DETAIL_CHARS)}`
          : describeFailure(outcome);
    this.send(writeHubMessage({ type: 3, invocationId, error: `Invocation failed: ${detail}` }), false);
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
    if (this.#handshakeDone) this.send(writeHubMessage({ type: 6 }), false);
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
