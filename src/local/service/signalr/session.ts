/**
 * One SignalR connection after negotiate: the handshake, the JSON or MessagePack hub protocol, stateful
 * reconnect, and its upstream calls (docs/local-service.md, "The SignalR wing").
 */
import { HUB_CODECS, type HubCodec } from '../../../lib/signalr/hub-codec.js';
import {
  HANDSHAKE_CANCELED,
  type HubMessage,
  HubMessageType,
  HubProtocolError,
  type HubProtocolName,
  parseHubMessages,
  RECORD_SEPARATOR,
  writeHandshakeResponse,
} from '../../../lib/signalr/hub-protocol.js';
import {
  announcedFrameLength,
  parseMessagePackMessages,
  splitFrames,
  withoutLengthPrefix,
} from '../../../lib/signalr/messagepack.js';
import {
  closeConnectionBody,
  openConnectionBody,
  SIGNALR_EVENTS,
  UPSTREAM_CATEGORIES,
} from '../../../lib/signalr/upstream-contract.js';
import type { HubRegistry, OutboundMessage } from '../connections.js';
import type { ServiceContext } from '../context.js';
import { CloseCode } from '../errors.js';
import { Session } from '../session.js';
import { type SessionInit, upstreamCallOf } from '../session-init.js';
import type { Transport } from '../transports/transport.js';
import type { UpstreamCall, UpstreamOutcome } from '../upstream/call.js';
import { ClientResults } from './client-results.js';
import { readHandshake } from './handshake.js';
import { type InvocationAnswer, invocationAnswer } from './invocation-answer.js';
import { invocationFrame } from './outbound-frames.js';
import { PendingBytes, RecordReader, RecordTooLargeError } from './record-reader.js';
import { gateMessage, ReconnectBuffer } from './stateful-reconnect.js';
import { eventNameProblem, quoteTarget, SIGNALR_UPSTREAM } from './upstream-codec.js';

/** One SignalR connection. */
export class SignalRSession extends Session {
  #handshakeDone = false;
  /** The `connected` notification was skipped because the connection left before its turn. */
  #connectedShed = false;
  #handshakeTimer: NodeJS.Timeout | undefined;
  /** The hub protocol the handshake chose (JSON until then: nothing but the handshake answer is sent before). */
  #codec: HubCodec = HUB_CODECS.json;
  /** Before the handshake, and for JSON after it: records that span frames (linear in the bytes received). */
  readonly #records = new RecordReader(RECORD_SEPARATOR, this.ctx.options.maxMessageBytes);
  /** MessagePack: bytes of a message not complete yet, joined only once it can be. */
  readonly #pending = new PendingBytes();
  /** Stateful reconnect's sequence numbers and kept messages, once the handshake turned it on. */
  #reconnect: ReconnectBuffer | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  /** Client invocations of the REST API waiting for their Completion. */
  readonly results = new ClientResults();

  readonly #hubRegistry: HubRegistry; // joined after the handshake

  constructor(ctx: ServiceContext, registry: HubRegistry, init: SessionInit, statefulNegotiated = false) {
    super(ctx, registry, init);
    this.#hubRegistry = registry;
    this.#statefulNegotiated = statefulNegotiated;
    void this.done.then(() => this.results.endAll('The connection closed before answering'));
  }

  /** Negotiate granted stateful reconnect; the handshake (version 2, on WebSockets) decides whether it is used. */
  readonly #statefulNegotiated: boolean;

  awaitHandshake(): void {
    const ms = this.ctx.options.handshakeTimeoutMs;
    this.#handshakeTimer = setTimeout(() => {
      if (!this.#handshakeDone) {
        this.#refuseHandshake(
          HANDSHAKE_CANCELED,
          `No handshake received within ${ms} ms (handshakeTimeoutMs)`,
          false,
        );
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
    this.#writeDirect({ type: HubMessageType.Sequence, sequenceId });
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
    return this.#handshakeDone && !this.#connectedShed;
  }

  /** The hub protocol of the connection (`json` until the handshake says otherwise). */
  get protocol(): HubProtocolName {
    return this.#codec.name;
  }

  protected onFrame(data: Buffer, isBinary: boolean): void {
    if (!this.#handshakeDone) {
      const limit = this.ctx.options.maxMessageBytes;
      const step = readHandshake(this.#records, data, this.transport?.kind, limit);
      if (step.kind === 'incomplete') return;
      if (step.kind === 'refused') {
        this.#refuseHandshake(step.answer, step.reason, isBinary);
        return;
      }
      this.#codec = step.codec;
      this.#completeHandshake(step.version);
      if (step.rest.length === 0) return;
      data = step.rest;
    }
    try {
      if (this.#codec.binary) this.#onBytes(data);
      else this.#onText(data, isBinary);
    } catch (error) {
      if (!(error instanceof HubProtocolError)) throw error;
      this.#protocolError(error.message);
    }
  }

  /**
   * A failed handshake, as ASP.NET Core's HubConnectionHandler ends it: the handshake answer carries the error,
   * then the connection closes normally (1000); the close reason says what to fix.
   */
  #refuseHandshake(answer: string, reason: string, binary: boolean): void {
    this.send(writeHandshakeResponse(answer), binary, true);
    this.clientError = reason;
    this.close(CloseCode.Normal, reason);
  }

  #tooLarge(bytes: number): boolean {
    if (bytes <= this.ctx.options.maxMessageBytes) return false;
    this.clientError = 'A hub protocol record was larger than maxMessageBytes';
    this.close(
      CloseCode.MessageTooBig,
      `A record is larger than ${this.ctx.options.maxMessageBytes} bytes (maxMessageBytes)`,
    );
    return true;
  }

  #onText(data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      this.#protocolError('The json hub protocol is sent in text frames, not binary ones');
      return;
    }
    let records: string[];
    try {
      records = this.#records.push(data);
    } catch (error) {
      if (!(error instanceof RecordTooLargeError)) throw error;
      this.#tooLarge(Number.POSITIVE_INFINITY);
      return;
    }
    for (const record of records) {
      if (this.closing) return;
      // Each record is parsed on its own so the invocation upstream gets the client's exact JSON.
      for (const message of parseHubMessages(`${record}${RECORD_SEPARATOR}`)) {
        if (!this.#onMessage(message, record)) return;
      }
    }
  }

  #onBytes(data: Buffer): void {
    const bytes = this.#pending.push(data);
    if (bytes === undefined) return; // the message announced is not complete yet
    const { frames, rest } = splitFrames(bytes);
    // A message announced larger than the limit is refused as soon as its length prefix arrives.
    const announced = rest.length > 0 ? announcedFrameLength(rest) : undefined;
    const pending = rest.length > 0 ? (announced ?? rest.length) : 0;
    if (this.#tooLarge(Math.max(pending, ...frames.map((frame) => frame.length)))) return;
    this.#pending.keep(Buffer.from(rest), announced ?? rest.length + 1);
    const read = { maxDepth: this.ctx.options.maxMessagePackDepth };
    for (const frame of frames) {
      if (this.closing) return;
      // Azure sends the invocation upstream as the MessagePack array alone, without its length prefix.
      for (const message of parseMessagePackMessages(frame, read)) {
        if (!this.#onMessage(message, withoutLengthPrefix(frame))) return;
      }
    }
  }

  #completeHandshake(version: number): void {
    clearTimeout(this.#handshakeTimer);
    this.#handshakeDone = true;
    this.send(writeHandshakeResponse(), this.#codec.binary);
    // The official client asks for version 2 only on WebSockets and only when negotiate granted it.
    if (this.#statefulNegotiated && version >= 2 && this.transport?.kind === 'WebSockets') {
      this.#reconnect = new ReconnectBuffer(this.ctx.options.statefulReconnectBufferBytes, (sequenceId) => {
        if (!this.detached) this.#writeDirect({ type: HubMessageType.Ack, sequenceId });
      });
      void this.done.then(() => {
        clearTimeout(this.#reconnectTimer);
        this.#reconnect?.dispose();
      });
    }
    this.#hubRegistry.add(this);
    this.logConnected('signalr');
    void this.enqueue(async () => {
      const outcome = await this.ctx.upstream.notify(
        this.#call(
          UPSTREAM_CATEGORIES.connections,
          SIGNALR_EVENTS.connected,
          JSON.stringify(openConnectionBody()),
        ),
        // Not wanted once the connection is gone: neither sent late nor retried for a connection that left.
        { wanted: () => !this.closing },
      );
      // Never sent: the app knows nothing of this connection, so its disconnected is not sent either.
      if (outcome.kind === 'shed' && !outcome.attempted) this.#connectedShed = true;
    });
  }

  /**
   * One parsed message; `body` is what goes upstream if it is an invocation. False when the connection is
   * closing because of it (nothing after it is read).
   */
  #onMessage(message: HubMessage, body: string | Uint8Array): boolean {
    if (this.#reconnect) {
      const gate = gateMessage(this.#reconnect, message);
      if (typeof gate === 'object') {
        this.#protocolError(gate.error);
        return false;
      }
      if (gate !== 'deliver') return true;
    }
    switch (message.type) {
      case HubMessageType.Invocation: {
        const { target, invocationId } = message;
        const problem = eventNameProblem(target);
        if (problem !== undefined) {
          this.#refuseTarget(target, invocationId, problem);
          break;
        }
        const upstreamBody = typeof body === 'string' ? body : Buffer.from(body);
        const contentType = this.#codec.upstreamContentType;
        // Without an invocation id (a send) the answer is ignored, whatever it is; a refused send is dropped.
        const answer = (outcome: UpstreamOutcome) => {
          const configured = this.ctx.upstream.templates.length > 0;
          if (invocationId !== undefined)
            this.#answer(invocationAnswer(invocationId, target, outcome, configured));
        };
        const call = this.#call(UPSTREAM_CATEGORIES.messages, target, upstreamBody, contentType);
        this.enqueueMessage(
          async () => answer(await this.ctx.upstream.call(call, { wanted: this.wanted })),
          (message) => answer({ kind: 'shed', message, attempted: false }),
        );
        break;
      }
      case HubMessageType.StreamInvocation:
        this.#write({
          type: HubMessageType.Completion,
          invocationId: String(message.invocationId),
          error: 'Streaming invocations are not supported by the serverless service',
        });
        break;
      case HubMessageType.Completion:
        // The answer to a client invocation of the REST API (client results); any other is not used.
        this.results.complete(message);
        break;
      case HubMessageType.Close:
        // The client is leaving; its error (if any) is reported in the disconnected upstream.
        this.clientError = message.error || undefined;
        this.transport?.close(CloseCode.Normal, '');
        return false;
      default:
        // Pings keep the connection alive (any frame does); acks and cancels are not used.
        break;
    }
    return true;
  }

  #answer(answer: InvocationAnswer): void {
    if (answer.kind === 'ignored') {
      this.ctx.options.log('info', 'Ignored an invocation', {
        hub: this.hub,
        connectionId: this.id,
        why: answer.why,
      });
    } else if (answer.kind === 'verbatim') this.send(answer.body, this.#codec.binary);
    else this.#write(answer.message);
  }

  /** Writes a hub message in the connection's protocol (kept for stateful reconnect like any message). */
  #write(message: HubMessage, force = false): void {
    this.send(this.#codec.write(message), this.#codec.binary, force);
  }

  /** Writes a message that is never kept for a resend (Pings, Acks, Sequences). */
  #writeDirect(message: HubMessage): void {
    super.send(this.#codec.write(message), this.#codec.binary);
  }

  /** A target the upstream cannot receive: a Completion error when the client waits, else a logged drop. */
  #refuseTarget(target: string, invocationId: string | undefined, problem: string): void {
    if (invocationId !== undefined) {
      this.#write({ type: HubMessageType.Completion, invocationId, error: `Invocation refused: ${problem}` });
      return;
    }
    this.ctx.options.log('warn', 'Dropped an invocation whose target cannot be sent upstream', {
      hub: this.hub,
      connectionId: this.id,
      target: quoteTarget(target),
      reason: problem,
    });
  }

  #protocolError(message: string): void {
    this.clientError = message;
    this.close(CloseCode.ProtocolError, message);
  }

  /** Writes a message the REST API makes (client invocations, stream items), once the handshake is done. */
  writeMessage(message: HubMessage): void {
    if (this.#handshakeDone) this.#write(message);
  }

  deliver(message: OutboundMessage): void {
    if (message.kind !== 'invocation') return; // the signalr REST API only produces invocations
    // Framed once per protocol for all recipients of the message, not once per recipient.
    this.send(invocationFrame(message, this.#codec), this.#codec.binary);
  }

  protected override onKeepAlive(): void {
    // No Pings on Long Polling: its client neither expects nor answers them (inherent keep-alive).
    if (this.#handshakeDone && !this.transport?.inherentKeepAlive) {
      this.#writeDirect({ type: HubMessageType.Ping });
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
      type: HubMessageType.Close,
      ...(reason ? { error: reason } : {}),
      ...(allowReconnect ? { allowReconnect: true } : {}),
    };
    this.#write(close, true);
  }

  /** The fair-share lane of this connection's upstream calls when it has no user (default: the user's). */
  lane: string | undefined;

  /** An upstream call; `connected` and `disconnected` bodies are JSON whatever the client's protocol. */
  #call(
    category: UpstreamCall['category'],
    event: string,
    body: string | Buffer,
    contentType = 'application/json',
  ): UpstreamCall {
    const lane = this.lane === undefined ? {} : { lane: this.lane };
    return upstreamCallOf(this, SIGNALR_UPSTREAM, category, event, { body, contentType, ...lane });
  }
}
