/**
 * One raw-WebSocket connection: one frame is one message, each sent upstream, its answer sent back
 * (docs/local-service.md, "The raw-WebSocket wing").
 */
import { UPSTREAM_CATEGORIES, WEBSOCKET_EVENTS } from '../../../lib/signalr/upstream-contract.js';
import type { HubRegistry, OutboundMessage } from '../connections.js';
import type { ServiceContext } from '../context.js';
import { CloseCode } from '../errors.js';
import { Session, type SessionInit, upstreamCallOf } from '../session.js';
import { describeFailure, succeeded, type UpstreamCall } from '../upstream/call.js';
import { frameOf, WEBSOCKET_UPSTREAM } from './upstream-codec.js';

export type FrameFormat = 'text' | 'binary';

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

/** One raw-WebSocket connection. */
export class WebSocketSession extends Session {
  constructor(
    ctx: ServiceContext,
    registry: HubRegistry,
    init: SessionInit,
    format: FrameFormat | undefined,
  ) {
    super(ctx, registry, init);
    this.#format = format;
  }

  /** The frame type of every message sent to the client, when the client's path fixed one. */
  readonly #format: FrameFormat | undefined;

  protected onFrame(data: Buffer, isBinary: boolean): void {
    // Refused past the user's bound: dropped (logged by enqueueMessage); the dialect has no answer to a message.
    this.enqueueMessage(
      async () => {
        const outcome = await this.ctx.upstream.call(
          upstreamCallOf(this, WEBSOCKET_UPSTREAM, UPSTREAM_CATEGORIES.messages, WEBSOCKET_EVENTS.message, {
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
      },
      () => undefined,
    );
  }

  deliver(message: OutboundMessage): void {
    const binary = this.#format ? this.#format === 'binary' : message.kind === 'binary';
    if (message.kind === 'binary') {
      // Bytes sent as a text frame must be valid UTF-8: decoding replaces invalid sequences.
      this.send(binary ? message.data : message.data.toString('utf8'), binary);
      return;
    }
    this.send(utf8Of(message), binary);
  }

  protected disconnectCall(): UpstreamCall {
    return upstreamCallOf(
      this,
      WEBSOCKET_UPSTREAM,
      UPSTREAM_CATEGORIES.connections,
      WEBSOCKET_EVENTS.disconnect,
    );
  }

  protected beforeServerClose(): void {
    // The websocket dialect has no in-band close message: the close frame's reason says it all.
  }
}
