/**
 * What both wings share about one client connection, whatever its transport: bounded sending, the upstream
 * queue, liveness, closes, one disconnect upstream, shutdown (docs/local-service.md, "Connections").
 */
import { messageOf } from '../../lib/error-message.js';
import type { HubRegistry, OutboundMessage, RegisteredConnection } from './connections.js';
import type { LiveSession, ServiceContext } from './context.js';
import { CloseCode } from './errors.js';
import type { SessionInit } from './session-init.js';
import { FrameParts } from './transports/shared-frames.js';
import type { Transport } from './transports/transport.js';
import { WebSocketTransport } from './transports/websocket.js';
import type { UpstreamCall } from './upstream/call.js';
import { SerialQueue } from './upstream/serial-queue.js';
import { backlogRefusal } from './upstream/user-backlog.js';

/** Reasons for the closes ws makes by itself when a frame breaks the rules. */
const RECEIVER_CLOSE_REASONS: Readonly<Record<number, (maxMessageBytes: number) => string>> = {
  [CloseCode.MessageTooBig]: (max) => `A message is larger than ${max} bytes (maxMessageBytes)`,
  [CloseCode.InvalidPayload]: () => 'A text frame is not valid UTF-8',
  [CloseCode.ProtocolError]: () => 'The frame breaks the WebSocket protocol (RFC 6455)',
  [CloseCode.PolicyViolation]: () => 'A message is split into too many frames (maxMessageFragments)',
};

const MAX_CLOSE_REASON_BYTES = 123; // RFC 6455: the close frame's payload is at most 125 bytes, 2 are the code

/** Truncates a close reason to what fits in a close frame without splitting a character. */
function closeReason(reason: string): string {
  let result = reason;
  while (Buffer.byteLength(result) > MAX_CLOSE_REASON_BYTES) result = result.slice(0, -1);
  return result;
}

/** One accepted client connection; a subclass per wing frames what goes over the socket. */
export abstract class Session implements RegisteredConnection, SessionInit, LiveSession {
  readonly id: string;
  readonly hub: string;
  readonly userId: string | undefined;
  readonly claims: ReadonlyArray<readonly [string, string]>;
  readonly clientQuery: string;
  /** One upstream call in flight per connection, in order. */
  readonly queue = new SerialQueue();

  protected transport: Transport | undefined;
  #alive = true;
  #lastSeen = Date.now();
  #pendingSends = 0;
  #serverClose: { code: number; reason: string } | undefined;
  #finished: Promise<void> | undefined;

  constructor(
    protected readonly ctx: ServiceContext,
    /** Where the connection is registered: it leaves on close (a wing's registry, or its own hub state). */
    protected readonly registry: Pick<HubRegistry, 'remove'>,
    init: SessionInit,
  ) {
    this.id = init.id;
    this.hub = init.hub;
    this.userId = init.userId;
    this.claims = init.claims;
    this.clientQuery = init.clientQuery;
    ctx.sessions.add(this);
  }

  /** Takes over a transport (an open WebSocket, an event stream, a long-polling connection). */
  attach(transport: Transport): void {
    this.transport = transport;
    this.#alive = true;
    this.#lastSeen = Date.now();
    if (transport instanceof WebSocketTransport) {
      // On a frame it cannot accept, ws closes by itself with a bare code (1009 oversized, 1007 invalid UTF-8,
      // 1002 bad framing). Such a close carries a reason that says what to fix, and SignalR clients get their
      // Close message first, like every other service-side close.
      transport.onViolation((code) => {
        const explain = RECEIVER_CLOSE_REASONS[code];
        if (!explain || this.#serverClose) return undefined;
        const reason = explain(this.ctx.options.maxMessageBytes);
        this.clientError = reason;
        this.#serverClose = { code, reason };
        this.registry.remove(this);
        this.beforeServerClose(reason, false);
        return reason;
      });
      transport.socket.on('error', (error: Error & { code?: string }) => {
        // ws reports protocol violations here after closing (see onViolation above).
        this.ctx.options.log('warn', 'Client connection error', {
          hub: this.hub,
          connectionId: this.id,
          error: error.message,
          code: error.code,
        });
      });
    }
    transport.onActivity(() => {
      this.#alive = true;
      this.#lastSeen = Date.now();
    });
    transport.onMessage((data: Buffer, isBinary: boolean) => {
      if (this.#serverClose || transport !== this.transport) return; // closing: nothing more reaches the upstream
      try {
        this.onFrame(data, isBinary);
      } catch (error) {
        // A bug must cost this connection, never the process.
        this.#fail(error);
      }
    });
    transport.onClose((code, reason) => {
      if (transport === this.transport) this.#onClosed(code, reason);
    });
  }

  /** A complete frame from the client. */
  protected abstract onFrame(data: Buffer, isBinary: boolean): void;
  /** Frames a REST message for this dialect and sends it. */
  abstract deliver(message: OutboundMessage): void;
  /** The disconnect upstream of this dialect (`error` when the connection ended abnormally). */
  protected abstract disconnectCall(error: string | undefined): UpstreamCall;
  /** Tells the client why the service closes (the SignalR dialect sends a Close message). */
  protected abstract beforeServerClose(reason: string, allowReconnect: boolean): void;
  /** Called on every keep-alive tick of a live connection (the SignalR dialect sends a Ping message). */
  protected onKeepAlive(): void {}
  /**
   * How long the client may stay silent before it is cut off (the SignalR dialect's client timeout), or
   * undefined for no such limit.
   */
  protected get silenceLimitMs(): number | undefined {
    return undefined;
  }
  /**
   * Called when the transport ended without the service or the client closing the connection (the client
   * vanished). True keeps the session for the client to come back (stateful reconnect); false ends it.
   */
  protected onTransportLost(_code: number, _reason: string): boolean {
    return false;
  }

  /** Logs that the connection is up (after the connect upstream or the SignalR handshake). */
  logConnected(dialect: 'signalr' | 'webpubsub'): void {
    this.ctx.options.log('info', 'Client connected', {
      dialect,
      transport: this.transport?.kind,
      hub: this.hub,
      connectionId: this.id,
    });
  }

  /** Whether the service has started closing this connection. */
  protected get closing(): boolean {
    return this.#serverClose !== undefined;
  }

  /**
   * Sends a frame (one in parts goes whole where the transport can: shared-frames.ts), but closes a slow
   * consumer with 1008: more than `maxOutboundMessages` unwritten messages or `maxOutboundBytes` buffered.
   */
  protected send(data: string | Buffer | FrameParts, binary: boolean, force = false): void {
    const transport = this.transport;
    if (!transport?.open) return;
    if (!force) {
      if (this.#serverClose) return;
      const { maxOutboundMessages, maxOutboundBytes } = this.ctx.options;
      const size = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
      if (this.#pendingSends >= maxOutboundMessages || transport.bufferedAmount + size > maxOutboundBytes) {
        this.ctx.options.log('warn', 'Closing a slow consumer', {
          hub: this.hub,
          connectionId: this.id,
          transport: transport.kind,
          pendingMessages: this.#pendingSends,
          bufferedBytes: transport.bufferedAmount,
        });
        this.close(
          CloseCode.PolicyViolation,
          `Slow consumer: more than ${maxOutboundMessages} messages or ${maxOutboundBytes} bytes waiting to be read`,
        );
        return;
      }
    }
    this.#pendingSends++;
    if (data instanceof FrameParts && transport.sendWhole?.(data.parts, this.#sent)) return;
    transport.send(data instanceof FrameParts ? data.payload() : data, binary, this.#sent);
  }

  /** A frame counted in `#pendingSends` was written (or dropped with its transport). */
  readonly #sent = (): number => this.#pendingSends--;

  /**
   * Closes the connection from the service side with a code and a reason the client sees; the client may
   * reconnect after a shutdown (1001) or when `allowReconnect` says so.
   */
  close(code: number, reason: string, allowReconnect = false): void {
    if (this.#serverClose) return;
    this.#serverClose = { code, reason };
    this.registry.remove(this);
    const transport = this.transport;
    if (!transport?.open) {
      // A stateful connection waiting for its client to come back ends here; any other ends with its transport.
      if (this.detached) void this.finish(this.#closeError());
      return;
    }
    this.beforeServerClose(reason, allowReconnect || code === CloseCode.GoingAway);
    if (transport.isPaused) transport.resume(); // paused for backpressure: the client's close must be read
    transport.close(code, closeReason(reason));
  }

  /** True while a stateful connection has lost its transport and waits for the client to reconnect. */
  protected detached = false;

  /** Queues an upstream call behind this connection's earlier ones; stops reading the socket while too many wait. */
  protected enqueue<T>(task: () => Promise<T>): Promise<T> {
    const limit = this.ctx.options.maxQueuedUpstreamCalls;
    const result = this.queue.run(async () => {
      try {
        return await task();
      } finally {
        // `size` still counts this task.
        if (this.transport?.isPaused && this.queue.size - 1 <= limit / 2 && !this.#serverClose) {
          this.transport.resume();
        }
      }
    });
    if (this.queue.size >= limit && this.transport && !this.transport.isPaused) this.transport.pause();
    // Callers may ignore the promise; a failure is still handled (logged, connection closed), never unhandled.
    result.catch((error: unknown) => this.#fail(error));
    return result;
  }

  /** Client messages in this connection's queue whose upstream call has not started. */
  #queuedMessages = 0;
  /** Client messages skipped because the connection closed before their turn. */
  #droppedMessages = 0;

  /**
   * Whether the upstream call of a client message is still wanted: not once the connection is closing. Passed
   * as the call's `wanted`, so a call still waiting for its lane's turn is skipped too.
   */
  protected readonly wanted = (): boolean => !this.#serverClose;

  /**
   * Queues a client message's upstream call, unless the user already has `maxQueuedUpstreamCallsPerUser`
   * messages waiting across their connections, or has one while `maxQueuedUpstreamCallsTotal` wait in all: then
   * `refuse` answers the client (or drops it) at once and nothing is queued. A message whose turn comes after the connection closed is dropped, never sent: so
   * nothing of a flood reaches the app after the client stopped (docs/local-service.md, "Upstream calls").
   */
  protected enqueueMessage(task: () => Promise<void>, refuse: (reason: string) => void): void {
    const backlog = this.ctx.upstream.backlog;
    const key = this.userId !== undefined ? `user:${this.userId}` : `connection:${this.id}`;
    const admission = backlog.admit(key);
    if (!admission.admitted) {
      const refusal = backlogRefusal(admission.bound, backlog.bounds);
      if (admission.toLog > 0) {
        this.ctx.options.log('warn', refusal.log, {
          hub: this.hub,
          connectionId: this.id,
          ...(this.userId !== undefined ? { userId: this.userId } : {}),
          refused: admission.toLog,
          [refusal.option]: refusal.max,
        });
      }
      refuse(refusal.reason);
      return;
    }
    this.#queuedMessages++;
    void this.enqueue(async () => {
      this.#queuedMessages--;
      try {
        // Azure's server SDK likewise stops handing a client's messages to the hub once it has closed.
        if (this.#serverClose) this.#droppedMessages++;
        else await task();
      } finally {
        backlog.release(key);
      }
    });
  }

  /** Logs the client messages this connection drops because it closed before their turn (their count only). */
  #logDropped(): void {
    const dropped = this.#droppedMessages + this.#queuedMessages;
    if (dropped === 0) return;
    this.ctx.options.log(
      'info',
      'Dropped client messages queued for the upstream: the connection closed first',
      {
        hub: this.hub,
        connectionId: this.id,
        ...(this.userId !== undefined ? { userId: this.userId } : {}),
        dropped,
      },
    );
  }

  #fail(error: unknown): void {
    this.ctx.options.log('error', 'The service failed to handle a connection event', {
      hub: this.hub,
      connectionId: this.id,
      error: messageOf(error),
    });
    this.close(CloseCode.InternalError, 'The service failed to handle a message');
  }

  /**
   * Called by the service's keep-alive timer. A WebSocket peer that did not answer the last ping is cut off;
   * a client silent for longer than the dialect's limit (the SignalR client timeout) is closed with a reason.
   * A transport paused for backpressure cannot read what proves the client alive, so it is never judged.
   */
  heartbeat(): void {
    const transport = this.transport;
    if (!transport?.open || this.#serverClose || transport.isPaused) return;
    if (!this.#alive) {
      this.#serverClose = { code: CloseCode.Abnormal, reason: 'No pong within the keep-alive interval' };
      this.registry.remove(this);
      this.ctx.options.log('warn', 'Closing a dead connection', { hub: this.hub, connectionId: this.id });
      transport.terminate();
      return;
    }
    const limit = this.silenceLimitMs;
    if (limit !== undefined && Date.now() - this.#lastSeen > limit) {
      this.ctx.options.log('warn', 'Closing a silent connection', {
        hub: this.hub,
        connectionId: this.id,
        transport: transport.kind,
      });
      this.clientError = `No message from the client within ${limit} ms (clientTimeoutMs)`;
      this.close(CloseCode.PolicyViolation, `Server timeout: no message from the client within ${limit} ms`);
      return;
    }
    if (transport.ping()) this.#alive = false;
    this.onKeepAlive();
  }

  /**
   * Sends the disconnect upstream exactly once (queued after the connection's other calls, retried as a
   * notification). Resolves when it has been delivered or given up.
   */
  protected finish(error: string | undefined): Promise<void> {
    if (!this.#finished) {
      this.#serverClose ??= { code: CloseCode.Abnormal, reason: error ?? '' };
      this.registry.remove(this);
      // Every message still queued is dropped when its turn comes (enqueueMessage): counted now, once.
      this.#logDropped();
      this.#finished = this.queue
        .run(async () => {
          // Asked when the calls queued before have run: a `connected` shed while it waited announced nothing.
          if (this.announced) await this.ctx.upstream.notify(this.disconnectCall(error));
        })
        .then(
          () => undefined,
          () => undefined,
        )
        .finally(() => {
          this.ctx.sessions.delete(this);
          this.#resolveDone();
        });
    }
    return this.#finished;
  }

  #resolveDone: () => void = () => {};
  /** Resolves once the session has ended and its disconnect upstream has been delivered or given up. */
  readonly done: Promise<void> = new Promise((resolve) => {
    this.#resolveDone = resolve;
  });

  /** The error a service-side close reports upstream (none for a plain REST close or shutdown). */
  #closeError(): string | undefined {
    const server = this.#serverClose;
    if (!server) return undefined;
    if (server.code === CloseCode.GoingAway) return undefined;
    return server.code === CloseCode.Normal && server.reason === '' ? undefined : server.reason;
  }

  /**
   * Ends a session whose socket never opened (the client left, or shutdown began, during the connect
   * upstream): its accepted connect still gets its one disconnect.
   */
  abandon(reason: string): Promise<void> {
    this.#serverClose ??= { code: CloseCode.Abnormal, reason };
    return this.finish(reason);
  }

  /** Whether the upstream knows this connection (a SignalR connection is announced after its handshake). */
  protected get announced(): boolean {
    return true;
  }

  /**
   * The close code of a shutdown: 1001, or a dialect's own (a reliable Web PubSub connection's state ends with
   * the service, which its 1008 says).
   */
  protected get shutdownCloseCode(): number {
    return CloseCode.GoingAway;
  }

  /** Shutdown: deliver the disconnect upstream first, then close the client with 1001. */
  async shutdown(): Promise<void> {
    const transport = this.transport;
    if (transport?.open && !this.#serverClose) {
      // From here on messages from the client are dropped (see attach), so nothing more reaches the upstream.
      this.#serverClose = { code: CloseCode.GoingAway, reason: 'The service is shutting down' };
      this.registry.remove(this);
      await this.finish(undefined);
      this.beforeServerClose(this.#serverClose.reason, true);
      if (transport.isPaused) transport.resume(); // the client's close must be read
      transport.close(this.shutdownCloseCode, this.#serverClose.reason);
    } else {
      await this.finish(undefined);
    }
    if (transport) {
      const grace = new Promise<void>((resolve) =>
        setTimeout(resolve, this.ctx.options.shutdownGraceMs).unref(),
      );
      await Promise.race([transport.closed, grace]);
      transport.terminate();
    }
  }

  #onClosed(code: number, reason: string): void {
    const server = this.#serverClose;
    let error: string | undefined;
    if (server) {
      // A REST close without a reason is a normal close; every other service-side close has its reason.
      error = server.code === CloseCode.Normal && server.reason === '' ? undefined : server.reason;
      if (server.code === CloseCode.GoingAway) error = undefined;
    } else if (code !== CloseCode.Normal && code !== CloseCode.GoingAway && code !== CloseCode.NoStatus) {
      if (this.clientError === undefined && this.onTransportLost(code, reason)) return;
      error = `The connection closed abnormally (code ${code}${reason ? `: ${reason}` : ''})`;
    }
    if (!server) this.#serverClose = { code, reason };
    void this.finish(this.clientError ?? error);
  }

  /** An error the dialect recorded before the close (e.g. a protocol violation), reported upstream. */
  protected clientError: string | undefined;
}
