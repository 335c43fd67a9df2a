/**
 * Reads a web `ReadableStream` (a Functions `HttpRequest` body, a `fetch` response body) up to a byte limit,
 * counting as the bytes arrive, so a missing or understated `Content-Length` cannot make the reader buffer more.
 * See docs/architecture.md, "Layers".
 */

/** What is read: any web byte stream (the Functions library and `fetch` each bring their own stream type). */
export interface ByteStream {
  getReader(): {
    read(): Promise<{ done: boolean; value?: Uint8Array | ArrayBuffer | undefined }>;
    cancel(): Promise<void>;
  };
}

/**
 * The whole stream as bytes, or `undefined` (with the rest of the stream cancelled) as soon as it passes
 * `maxBytes`. A `null` stream is an empty body.
 */
export async function readStreamWithin(
  stream: ByteStream | null,
  maxBytes: number,
): Promise<Uint8Array | undefined> {
  if (!stream) return new Uint8Array(0);
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    if (read.value === undefined) continue;
    const chunk = read.value instanceof Uint8Array ? read.value : new Uint8Array(read.value);
    total += chunk.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(chunk);
  }
  if (chunks.length === 1) return chunks[0];
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}
