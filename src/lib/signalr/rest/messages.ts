/**
 * What a message becomes on the wire in each dialect:
 *
 * - `signalr`: `{ target, arguments }` as application/json, delivered to clients as hub-protocol Invocations;
 * - `websocket` (the 2020 Serverless WebSocket preview): raw — a string is sent as text/plain (a text frame),
 *   bytes as application/octet-stream (a binary frame), anything else as JSON.
 */
import type { Dialect } from '../tokens.js';

/** Largest message body sent; Azure rejects REST payloads above 1 MB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

/** A message of the signalr dialect: clients receive an Invocation of `target` with `arguments`. */
export interface InvocationPayload {
  readonly target: string;
  readonly arguments: readonly unknown[];
}

/**
 * A message of the websocket dialect: a string becomes a text frame, bytes a binary frame, any other value
 * is serialised as JSON and arrives as a text frame.
 */
export type RawMessage = string | Uint8Array | ArrayBuffer | number | boolean | null | object;

/** The message type a client of dialect `D` sends. */
export type MessageOf<D extends Dialect> = D extends 'signalr' ? InvocationPayload : RawMessage;

/** A request body and its content type. */
export interface EncodedBody {
  contentType: string;
  data: string | Uint8Array<ArrayBuffer>;
}

/** Encodes a message for `dialect`; a `RangeError` when it is larger than `maxBytes`. */
export function encodeMessage(dialect: Dialect, message: unknown, maxBytes: number): EncodedBody {
  const encoded = dialect === 'signalr' ? encodeInvocation(message) : encodeRaw(message);
  const size = typeof encoded.data === 'string' ? Buffer.byteLength(encoded.data) : encoded.data.byteLength;
  if (size > maxBytes) {
    throw new RangeError(`The message is ${size} bytes; the limit is ${maxBytes} (option maxMessageBytes)`);
  }
  return encoded;
}

function encodeInvocation(message: unknown): { contentType: string; data: string } {
  const m = message as Partial<InvocationPayload> | null;
  if (
    !m ||
    typeof m !== 'object' ||
    typeof m.target !== 'string' ||
    m.target === '' ||
    !Array.isArray(m.arguments)
  ) {
    throw new TypeError('A signalr-dialect message is { target: string, arguments: unknown[] }');
  }
  return {
    contentType: 'application/json',
    data: JSON.stringify({ target: m.target, arguments: m.arguments }),
  };
}

function encodeRaw(message: unknown): EncodedBody {
  if (typeof message === 'string') return { contentType: 'text/plain', data: message };
  if (message instanceof Uint8Array) {
    // fetch takes bytes backed by an ArrayBuffer; a view of a SharedArrayBuffer is copied first.
    const data =
      message.buffer instanceof ArrayBuffer ? (message as Uint8Array<ArrayBuffer>) : new Uint8Array(message);
    return { contentType: 'application/octet-stream', data };
  }
  if (message instanceof ArrayBuffer) {
    return { contentType: 'application/octet-stream', data: new Uint8Array(message) };
  }
  if (message === undefined || typeof message === 'function' || typeof message === 'symbol') {
    throw new TypeError('A websocket-dialect message is a string, bytes, or a JSON-serialisable value');
  }
  return { contentType: 'application/json', data: JSON.stringify(message) };
}
