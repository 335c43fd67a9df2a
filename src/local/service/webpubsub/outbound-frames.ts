/**
 * Server and group messages framed once per framing for all their recipients, not once per recipient: the
 * plain WebSocket's frame, the JSON subprotocol's frame, and the reliable subprotocol's frame without its
 * closing brace, to which each connection appends its own `sequenceId` (docs/local-service.md, "The Web
 * PubSub wing").
 */
import { isUtf8 } from 'node:buffer';
import { markShared } from '../transports/shared-frames.js';
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
  if (found.plain === undefined) {
    const { data } = message;
    found.plain = markShared(
      message.dataType === 'binary' || isUtf8(data) ? data : Buffer.from(data.toString('utf8'), 'utf8'),
    );
  }
  return found.plain;
}

/** The message as a JSON subprotocol client receives it: `{"type":"message","from",…,"data"}`. */
export function jsonFrame(message: WebPubSubOutbound): Buffer {
  const found = framesOf(message);
  if (found.json === undefined) {
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
    found.json = markShared(Buffer.from(JSON.stringify(fields), 'utf8'));
  }
  return found.json;
}

/**
 * The message as a reliable subprotocol client receives it: the JSON frame with `"sequenceId":n` as its last
 * field, as `JSON.stringify({...fields, sequenceId})` writes it. The shared frame is copied once into the
 * connection's own, with the number in place of the closing brace.
 */
export function sequencedFrame(message: WebPubSubOutbound, sequenceId: number): Buffer {
  const json = jsonFrame(message);
  const head = json.length - 1; // without the closing brace
  const tail = `,"sequenceId":${sequenceId}}`;
  const frame = Buffer.allocUnsafe(head + tail.length);
  json.copy(frame, 0, 0, head);
  frame.write(tail, head, 'latin1');
  return frame;
}
