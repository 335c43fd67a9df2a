/**
 * What a message becomes on the wire: `{ target, arguments }` as application/json, delivered to clients as
 * hub-protocol Invocations.
 */

/** Largest message body sent; Azure rejects REST payloads above 1 MB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

/** A message: clients receive an Invocation of `target` with `arguments`. */
export interface InvocationPayload {
  readonly target: string;
  readonly arguments: readonly unknown[];
}

/** A request body and its content type. */
export interface EncodedBody {
  contentType: string;
  data: string;
}

/** Encodes a message; a `RangeError` when it is larger than `maxBytes`. */
export function encodeMessage(message: unknown, maxBytes: number): EncodedBody {
  const encoded = encodeInvocation(message);
  const size = Buffer.byteLength(encoded.data);
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
    throw new TypeError('A message is { target: string, arguments: unknown[] }');
  }
  return {
    contentType: 'application/json',
    data: JSON.stringify({ target: m.target, arguments: m.arguments }),
  };
}
