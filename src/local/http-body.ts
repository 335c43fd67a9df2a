/**
 * A capped reader for `node:http` request bodies, shared by the development servers under `src/local/` (the
 * local SignalR service and the built-in Functions host), so a client cannot make either buffer without bound.
 * See docs/architecture.md, "The local stack".
 */
import type { IncomingMessage } from 'node:http';

/** The body is larger than the reader's limit; the caller answers 413 in its own format. */
export class BodyTooLargeError extends RangeError {
  override readonly name = 'BodyTooLargeError';
  readonly code = 'body-too-large';
  constructor(readonly maxBytes: number) {
    super(`The request body is larger than ${maxBytes} bytes`);
  }
}

/**
 * Reads the whole body of `req`, at most `maxBytes`. A declared `Content-Length` over the limit fails before
 * a byte is buffered; otherwise bytes are counted as they arrive (the header may be absent or understate).
 * On failure the rest of the body is drained, so the connection can still carry the 413.
 */
export async function readCappedBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    req.resume();
    throw new BodyTooLargeError(maxBytes);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      req.resume();
      throw new BodyTooLargeError(maxBytes);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * The body of `req` as a stream that is read only when its consumer reads it, so a handler can check a
 * request's headers (a signature, a token) before a byte of its body is buffered. Bytes are counted as they
 * arrive: past `maxBytes` the stream fails with {@link BodyTooLargeError}. A declared `Content-Length` over the
 * limit is refused before the stream is made.
 */
export function cappedBodyStream(req: IncomingMessage, maxBytes: number): AsyncIterable<Uint8Array> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) throw new BodyTooLargeError(maxBytes);
  return (async function* counted() {
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) throw new BodyTooLargeError(maxBytes);
      yield chunk;
    }
  })();
}
