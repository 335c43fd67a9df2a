/**
 * A transparent HTTP reverse proxy that records each request and the bytes of each response body, so a test can
 * assert what a client actually fetched (ranged downloads, request counts) without reaching into SDK internals.
 * Shared Key signatures cover the path, not the host, so Blob clients work through it unchanged.
 */
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedExchange {
  method: string;
  /** Path and query as sent by the client. */
  url: string;
  /** The request's `x-ms-range` or `range` header, if any. */
  range: string | undefined;
  status: number;
  /** Bytes of the response body. */
  responseBytes: number;
}

export interface RecordingProxy {
  /** `http://127.0.0.1:<port>` */
  url: string;
  readonly exchanges: RecordedExchange[];
  close(): Promise<void>;
}

/** Starts a proxy on a free port that forwards every request to `target` (an `http://host:port` origin). */
export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const exchanges: RecordedExchange[] = [];
  const server = createServer((req, res) => {
    const forward = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host },
      },
      (answer) => {
        const exchange: RecordedExchange = {
          method: req.method ?? 'GET',
          url: req.url ?? '/',
          range: (req.headers['x-ms-range'] ?? req.headers.range) as string | undefined,
          status: answer.statusCode ?? 0,
          responseBytes: 0,
        };
        exchanges.push(exchange);
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.on('data', (chunk: Buffer) => {
          exchange.responseBytes += chunk.length;
        });
        answer.pipe(res);
      },
    );
    forward.on('error', (error) => {
      res.writeHead(502);
      res.end(String(error));
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
