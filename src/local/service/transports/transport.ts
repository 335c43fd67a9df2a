/**
 * The seam between a client connection and how its bytes travel: a session speaks to one {@link Transport}
 * at a time, never to a `ws` socket or an HTTP response directly (docs/local-service.md, "Transports").
 */

/** The transports of the ASP.NET Core SignalR transport protocol, spelled as negotiate lists them. */
export type TransportKind = 'WebSockets' | 'ServerSentEvents' | 'LongPolling';

/** What a client sent: one WebSocket frame, or one HTTP POST body (which may hold several or partial records). */
export type MessageHandler = (data: Buffer, isBinary: boolean) => void;

/** How the transport ended: a WebSocket close code (1006 when the peer vanished) and its reason. */
export type CloseHandler = (code: number, reason: string) => void;

export interface Transport {
  readonly kind: TransportKind;
  /**
   * True when the transport proves the client alive by itself (Long Polling: each poll is the proof). The
   * official client then sends no Ping messages and runs no server timeout, so the service sends no hub Pings
   * and runs no client timeout for it either.
   */
  readonly inherentKeepAlive: boolean;
  /** Whether messages can still be sent. */
  readonly open: boolean;
  /** Bytes accepted by {@link send} and not yet handed to the network. */
  readonly bufferedAmount: number;
  /** Whether reading from the client is paused for backpressure. */
  readonly isPaused: boolean;
  /** Resolves once the transport has ended (after {@link onClose} ran). */
  readonly closed: Promise<void>;
  /** Sends one message; `done` runs once it has been written out (or dropped because the transport ended). */
  send(data: string | Buffer, binary: boolean, done?: () => void): void;
  /**
   * Sends a whole unmasked WebSocket frame (header and payload, shared-frames.ts) as it is, from its parts; false
   * when this transport cannot (not a WebSocket, or one with an extension) and nothing was sent.
   */
  sendWhole?(parts: readonly Buffer[], done?: () => void): boolean;
  /** Ends the transport from the service side, after what was sent before it (a WebSocket close frame carries the code and reason). */
  close(code: number, reason: string): void;
  /** Ends the transport at once, dropping what was not sent. */
  terminate(): void;
  /** Stops reading from the client (backpressure) until {@link resume}. */
  pause(): void;
  resume(): void;
  /** A transport-level liveness probe (WebSocket ping); false when the transport has none. */
  ping(): boolean;
  onMessage(handler: MessageHandler): void;
  onClose(handler: CloseHandler): void;
  /** Any sign of life from the client (a message, a pong, a poll). */
  onActivity(handler: () => void): void;
}
