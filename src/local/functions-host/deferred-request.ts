/**
 * The fetch `Request` under an invocation's `HttpRequest`, made only when a handler wants what only a `Request`
 * gives (`text()`, `json()`, `arrayBuffer()`, `blob()`, `formData()`, `clone()`). The URL, method, headers and
 * body stream are there from the start: most calls read nothing else (negotiate reads no body, the upstream
 * endpoint reads its body as a stream), and a `Request` over a streamed body cost several times the CPU of the
 * rest of the conversion. See docs/architecture.md, "The local stack".
 */
import { Readable } from 'node:stream';

/**
 * What `HttpRequest` reads of its native request, each as a `Request` has it: `url` (parsed and serialised),
 * `method`, `headers`, `body` (null without one; a byte stream over the body as it arrives) and `bodyUsed`.
 */
export class DeferredRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: Headers;
  readonly #source: AsyncIterable<Uint8Array> | undefined;
  #stream: ReadableStream<Uint8Array> | undefined;
  #request: Request | undefined;

  /**
   * `body` is left out for GET and HEAD, as a `Request` refuses one there. Throws what `new Request` would throw
   * for the URL (a URL it cannot parse, or one with credentials), so a bad request fails where it failed before.
   */
  constructor(url: string, method: string, headers: Headers, body?: AsyncIterable<Uint8Array>) {
    const parsed = new URL(url);
    if (parsed.username !== '' || parsed.password !== '') new Request(url);
    this.url = parsed.href;
    this.method = method;
    this.headers = headers;
    this.#source = body;
  }

  /** The body as a byte stream, as `Request` makes one of an async iterable (null for GET and HEAD). */
  get body(): ReadableStream<Uint8Array> | null {
    if (this.#source === undefined) return null;
    this.#stream ??= byteStreamOf(this.#source);
    return this.#stream;
  }

  get bodyUsed(): boolean {
    // Node's check works on web streams too (its types name only its own streams).
    return this.#stream !== undefined && Readable.isDisturbed(this.#stream as unknown as Readable);
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    return this.#native().arrayBuffer();
  }

  blob(): Promise<Blob> {
    return this.#native().blob();
  }

  formData(): Promise<FormData> {
    return this.#native().formData();
  }

  json(): Promise<unknown> {
    return this.#native().json();
  }

  text(): Promise<string> {
    return this.#native().text();
  }

  clone(): Request {
    return this.#native().clone();
  }

  /** The `Request` itself, over the same body stream, made once. */
  #native(): Request {
    const body = this.body;
    this.#request ??= new Request(this.url, {
      method: this.method,
      headers: this.headers,
      ...(body !== null ? { body, duplex: 'half' } : {}),
    } as RequestInit);
    return this.#request;
  }
}

/**
 * A byte stream over an async iterable, pulled as its reader reads: what `Request` makes of an async iterable
 * body (undici's `ReadableStreamFrom`: each chunk copied into its own `Uint8Array`, empty ones skipped, the
 * iterator ended on cancel).
 */
function byteStreamOf(source: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  let iterator: AsyncIterator<Uint8Array>;
  return new ReadableStream({
    type: 'bytes',
    async start() {
      iterator = source[Symbol.asyncIterator]();
    },
    async pull(controller) {
      const { done, value } = await iterator.next();
      if (done) {
        queueMicrotask(() => {
          controller.close();
          controller.byobRequest?.respond(0);
        });
      } else {
        const buffer = Buffer.isBuffer(value) ? value : Buffer.from(value);
        if (buffer.byteLength > 0) controller.enqueue(new Uint8Array(buffer));
      }
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}
