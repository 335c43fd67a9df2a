/**
 * Server and group messages framed once per framing for all their recipients, not once per recipient: the
 * plain WebSocket's frame, the JSON subprotocol's frame, and the reliable subprotocol's frame: small, whole
 * once per `sequenceId`; large, without its closing brace, to which each connection appends its own
 * `sequenceId` (docs/local-service.md, "The Web PubSub wing").
 */
import { isUtf8 } from 'node:buffer';
import { FrameParts, frameHeaderBytes, markShared, writeFrameHeader } from '../transports/shared-frames.js';
import type { WebPubSubOutbound } from './hub.js';
import { dataField } from './messages.js';

/** The frames of one message, written on first use. */
interface Frames {
  plain?: Buffer;
  json?: Buffer;
  /** The first parts of reliable frames, by their payload's length (see {@link reliableFrame}). */
  heads?: Map<number, Buffer>;
  /** Whole reliable frames of a small message, by sequence id (see {@link reliableFrame}). */
  numbered?: Map<number, FrameParts>;
}

/**
 * A reliable frame whose JSON frame has at most this many bytes goes out as one buffer, written once per
 * sequence id and shared by the recipients at that id; a larger one as the shared head and the connection's
 * own tail, so no recipient copies it.
 */
export const MAX_WHOLE_RELIABLE_FRAME_BYTES = 4096;

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

/** The whole WebSocket frame of a payload of `length` bytes, in one buffer; `write` puts the payload at `offset`. */
function framed(length: number, write: (frame: Buffer, offset: number) => void): FrameParts {
  const header = frameHeaderBytes(length);
  const whole = Buffer.allocUnsafe(header + length);
  writeFrameHeader(whole, length, false);
  write(whole, header);
  return new FrameParts([whole], length);
}

/**
 * The JSON frame of a message that only one connection receives (an event handler's answer to its client):
 * written straight behind its WebSocket header, without the bookkeeping that shares a frame between recipients.
 */
export function soleJsonFrame(message: WebPubSubOutbound): FrameParts {
  const text = jsonText(message);
  return framed(Buffer.byteLength(text), (frame, offset) => frame.write(text, offset, 'utf8'));
}

/** The end of a reliable frame: `,"sequenceId":n}` in place of the JSON frame's closing brace. */
function sequenceTail(sequenceId: number): string {
  return `,"sequenceId":${sequenceId}}`;
}

/** The bytes of `,"sequenceId":}` around the number. */
const SEQUENCE_TAIL_BYTES = sequenceTail(0).length - 1;

/** The decimal digits of a non-negative safe integer. */
function digits(n: number): number {
  let count = 1;
  for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) count++;
  return count;
}

/**
 * The bytes of the reliable frame of `json` (a shared JSON frame) numbered `sequenceId`: counted, not written
 * (a reliable connection counts each message it keeps and each one acknowledged).
 */
export function sequencedBytes(json: Buffer, sequenceId: number): number {
  return json.length - 1 + SEQUENCE_TAIL_BYTES + digits(sequenceId); // the tail is ASCII: a byte a character
}

/**
 * The message as a reliable subprotocol client receives it: the JSON frame with `"sequenceId":n` as its last
 * field, as `JSON.stringify({...fields, sequenceId})` writes it (from `json`, a shared JSON frame).
 */
export function sequencedPayload(json: Buffer, sequenceId: number): Buffer {
  const tail = sequenceTail(sequenceId);
  const frame = Buffer.allocUnsafe(json.length - 1 + tail.length);
  json.copy(frame, 0, 0, json.length - 1);
  frame.write(tail, json.length - 1, 'latin1');
  return frame;
}

/** {@link sequencedPayload} of a message, for one connection. */
export function sequencedFrame(message: WebPubSubOutbound, sequenceId: number): Buffer {
  return sequencedPayload(jsonFrame(message), sequenceId);
}

/**
 * The reliable frame of a message. Up to {@link MAX_WHOLE_RELIABLE_FRAME_BYTES}: one buffer (header, JSON frame
 * without its closing brace, `,"sequenceId":n}`), written once per sequence id, so the recipients at the same
 * point of the stream share it and each costs one write. Larger: two parts, the WebSocket header and the JSON
 * frame without its closing brace, shared by every recipient whose frame has the same length (their sequence
 * ids have as many digits), then the connection's own `,"sequenceId":n}`; no recipient copies the message.
 */
export function reliableFrame(message: WebPubSubOutbound, sequenceId: number): FrameParts {
  const json = jsonFrame(message);
  const found = framesOf(message);
  const tail = sequenceTail(sequenceId);
  const length = json.length - 1 + tail.length; // the tail is ASCII: a byte a character
  if (json.length <= MAX_WHOLE_RELIABLE_FRAME_BYTES) {
    found.numbered ??= new Map();
    let whole = found.numbered.get(sequenceId);
    if (whole === undefined) {
      whole = framed(length, (frame, offset) => {
        json.copy(frame, offset, 0, json.length - 1);
        frame.write(tail, offset + json.length - 1, 'latin1');
      });
      found.numbered.set(sequenceId, whole);
    }
    return whole;
  }
  found.heads ??= new Map();
  let head = found.heads.get(length);
  if (head === undefined) {
    const header = frameHeaderBytes(length);
    head = Buffer.allocUnsafe(header + json.length - 1);
    writeFrameHeader(head, length, false);
    json.copy(head, header, 0, json.length - 1);
    found.heads.set(length, head);
  }
  return new FrameParts([head, Buffer.from(tail, 'latin1')], length);
}
