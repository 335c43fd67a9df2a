/**
 * Server and group messages framed once per framing for all their recipients, not once per recipient: the
 * plain WebSocket's frame, the JSON subprotocol's frame, and the reliable subprotocol's frame without its
 * closing brace, to which each connection appends its own `sequenceId` (docs/local-service.md, "The Web
 * PubSub wing").
 */
import { isUtf8 } from 'node:buffer';
import { frameHeaderBytes, markShared, writeFrameHeader } from '../transports/shared-frames.js';
import type { WebPubSubOutbound } from './hub.js';
import { dataField } from './messages.js';

/** The frames of one message, written on first use. */
interface Frames {
  plain?: Buffer;
  json?: Buffer;
}

const frames = new WeakMap<WebPubSubOutbound, Frames>();

function framesOf(message: WebPubSubOutbound): Frames {
  let found = frames.get(message);
  if (found === undefined) {
    found = {};
    frames.set(message, found);
  }
  return found;
}

/**
 * The message as a plain WebSocket client receives it: the bytes, in a binary frame for binary data, else in
 * a text frame (bytes that are not UTF-8 are replaced as a decoder would, so the text frame stays valid).
 */
export function plainFrame(message: WebPubSubOutbound): Buffer {
  const found = framesOf(message);
  found.plain ??= markShared(plainBytes(message));
  return found.plain;
}

/** What {@link plainFrame} sends, for a message only one connection receives (not remembered). */
export function plainBytes({ dataType, data }: WebPubSubOutbound): Buffer {
  return dataType === 'binary' || isUtf8(data) ? data : Buffer.from(data.toString('utf8'), 'utf8');
}

/** The message as a JSON subprotocol client receives it: `{"type":"message","from",…,"data"}`. */
export function jsonFrame(message: WebPubSubOutbound): Buffer {
  const found = framesOf(message);
  found.json ??= markShared(Buffer.from(jsonText(message), 'utf8'));
  return found.json;
}

function jsonText(message: WebPubSubOutbound): string {
  const fields = {
    type: 'message',
    from: message.from,
    ...(message.from === 'group' ? { group: message.group } : {}),
    ...(message.from === 'group' && message.fromUserId !== undefined
      ? { fromUserId: message.fromUserId }
      : {}),
    dataType: message.dataType,
    data: dataField(message.dataType, message.data),
  };
  return JSON.stringify(fields);
}

/** A frame of one connection's own: its payload, and the whole WebSocket frame around it. */
export interface OwnFrame {
  /** The JSON message, as a reliable connection keeps it for a recovery (a view into `whole`). */
  readonly payload: Buffer;
  /** The unmasked text frame of `payload`, header included, written as it is where the socket allows. */
  readonly whole: Buffer;
}

/** `length` bytes of payload behind a text frame's header, in one buffer; `write` puts them at `offset`. */
function ownFrame(length: number, write: (frame: Buffer, offset: number) => void): OwnFrame {
  const header = frameHeaderBytes(length);
  const whole = Buffer.allocUnsafe(header + length);
  writeFrameHeader(whole, length, false);
  write(whole, header);
  return { payload: whole.subarray(header), whole };
}

/**
 * The JSON frame of a message that only one connection receives (an event handler's answer to its client):
 * written straight behind its WebSocket header, without the bookkeeping that shares a frame between recipients.
 */
export function soleJsonFrame(message: WebPubSubOutbound): OwnFrame {
  const text = jsonText(message);
  return ownFrame(Buffer.byteLength(text), (frame, offset) => frame.write(text, offset, 'utf8'));
}

/**
 * The message as a reliable subprotocol client receives it: the JSON frame with `"sequenceId":n` as its last
 * field, as `JSON.stringify({...fields, sequenceId})` writes it. The shared frame is copied once into the
 * connection's own, with the number in place of the closing brace, behind the WebSocket header, so the
 * socket gets one buffer and nothing is copied again.
 */
export function sequencedFrame(message: WebPubSubOutbound, sequenceId: number): OwnFrame {
  const json = jsonFrame(message);
  const head = json.length - 1; // without the closing brace
  const tail = `,"sequenceId":${sequenceId}}`;
  // The tail is ASCII: one byte a character.
  return ownFrame(head + tail.length, (frame, offset) => {
    json.copy(frame, offset, 0, head);
    frame.write(tail, offset + head, 'latin1');
  });
}
