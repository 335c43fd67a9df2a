/**
 * A transparent HTTP reverse proxy that records each request and the bytes of each response body, so a test can
 * assert what a client actually fetched (ranged downloads, request counts) without reaching into SDK internals,
 * that can inject faults (an error instead of the service's answer, before or after the request took effect), and
 * that can hold an answer back (the request took effect as things were then; the client learns it later).
 * Shared Key signatures cover the path, not the host, so Blob clients work through it unchanged.
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { BlobServiceClient, type ContainerClient, type StorageRetryOptions } from '@azure/storage-blob';
import { afterEach } from 'vitest';
import { azuriteConnectionString } from '../../src/local/dev-constants.js';

export interface RecordedExchange {
  method: string;
  /** Path and query as sent by the client. */
  url: string;
  /** The request's `x-ms-range` or `range` header, if any. */
  range: string | undefined;
  /** The status the client got (an injected fault's, when one was injected). */
  status: number;
  /** Bytes of the response body. */
  responseBytes: number;
  /** Bytes of the request body. */
  requestBytes: number;
  /** Line breaks in the request body (for an Append Block of history: the messages in the block). */
  requestLines: number;
  /** Whether the request reached the target. */
  forwarded: boolean;
}

/** An error answer the proxy gives instead of the target's, in the Blob service's error format. */
export interface InjectedFault {
  status: number;
  /** The error code (`x-ms-error-code` and `<Code>`). */
  code: string;
  /**
   * Forward the request first and answer the fault instead of the target's answer: the request took effect but
   * the client cannot know it (a lost answer). Otherwise the request never reaches the target.
   */
  afterForwarding?: boolean;
}

/**
 * Decides, per request, whether to inject a fault (or to hold the request: it may wait before answering).
 * `index` counts the requests seen, from 0.
 */
export type Interceptor = (request: {
  method: string;
  url: string;
  index: number;
  /** The request's body, read whole before the interceptor is asked. */
  body: Buffer;
}) => InjectedFault | undefined | Promise<InjectedFault | undefined>;

/**
 * Decides, per request that reached the target, whether to hold its answer back: the request has taken effect
 * (a listing has been answered as things were then), but the client gets the answer only once the returned
 * promise settles. `undefined`: pass the answer on at once.
 */
export type AnswerHold = (request: { method: string; url: string }) => Promise<void> | undefined;

export interface RecordingProxy {
  /** `http://127.0.0.1:<port>` */
  url: string;
  readonly exchanges: RecordedExchange[];
  close(): Promise<void>;
}

/**
 * Starts a proxy on a free port that forwards every request to `target` (an `http://host:port` origin, or a
 * function that names it when a request comes, for a target that starts after the proxy), unless `intercept`
 * injects a fault. A WebSocket upgrade is passed through as it is and recorded with the method `UPGRADE`.
 */
export async function startRecordingProxy(
  target: string | (() => string),
  { intercept, holdAnswer }: { intercept?: Interceptor; holdAnswer?: AnswerHold } = {},
): Promise<RecordingProxy> {
  const targetUrl = () => new URL(typeof target === 'string' ? target : target());
  const exchanges: RecordedExchange[] = [];
  let seen = 0;
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const upstream = targetUrl();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const fault = await intercept?.({ method, url, index: seen++, body });
    const exchange: RecordedExchange = {
      method,
      url,
      range: (req.headers['x-ms-range'] ?? req.headers.range) as string | undefined,
      status: 0,
      responseBytes: 0,
      requestBytes: body.length,
      requestLines: body.reduce((count, byte) => (byte === 0x0a ? count + 1 : count), 0),
      forwarded: fault === undefined || fault.afterForwarding === true,
    };
    if (fault !== undefined && !fault.afterForwarding) {
      exchange.status = fault.status;
      exchanges.push(exchange);
      answerFault(res, fault);
      return;
    }
    const forward = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method,
        path: url,
        headers: { ...req.headers, host: upstream.host },
      },
      async (answer) => {
        const hold = fault === undefined ? holdAnswer?.({ method, url }) : undefined;
        if (hold !== undefined) {
          answer.pause();
          await hold.catch(() => undefined);
        }
        exchange.status = fault?.status ?? answer.statusCode ?? 0;
        exchanges.push(exchange);
        if (fault !== undefined) {
          answer.resume();
          answer.on('end', () => answerFault(res, fault));
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.on('data', (chunk: Buffer) => {
          exchange.responseBytes += chunk.length;
        });
        answer.pipe(res);
      },
    );
    forward.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502);
      res.end(String(error));
    });
    forward.end(body);
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(502);
      res.end(String(error));
    });
  });
  /** The upgraded connections, cut when the proxy closes. */
  const upgraded = new Set<() => void>();
  server.on('upgrade', (req: IncomingMessage, client: Duplex, head: Buffer) => {
    const upstream = targetUrl();
    exchanges.push({
      method: 'UPGRADE',
      url: req.url ?? '/',
      range: undefined,
      status: 101,
      responseBytes: 0,
      requestBytes: 0,
      requestLines: 0,
      forwarded: true,
    });
    const to = connect(Number(upstream.port), upstream.hostname, () => {
      const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const name = req.rawHeaders[i] as string;
        lines.push(`${name}: ${name.toLowerCase() === 'host' ? upstream.host : req.rawHeaders[i + 1]}`);
      }
      to.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) to.write(head);
      to.pipe(client);
      client.pipe(to);
    });
    const cut = () => {
      to.destroy();
      client.destroy();
      upgraded.delete(cut);
    };
    upgraded.add(cut);
    to.on('error', cut);
    client.on('error', cut);
    to.on('close', cut);
    client.on('close', cut);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        for (const cut of [...upgraded]) cut();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function answerFault(res: ServerResponse, fault: InjectedFault): void {
  const body = `<?xml version="1.0" encoding="utf-8"?><Error><Code>${fault.code}</Code><Message>injected by the test proxy</Message></Error>`;
  res.writeHead(fault.status, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(body),
    'x-ms-error-code': fault.code,
  });
  res.end(body);
}

/**
 * Recording proxies in front of the suite's Azurite, closed after each test: `container` gives a container
 * client whose requests go through a new proxy (one try each unless `retryOptions` says otherwise, so an
 * injected fault reaches the caller as it is) and the proxy that records them.
 */
export function useProxiedContainers(azuritePort: () => number) {
  const proxies: RecordingProxy[] = [];
  afterEach(async () => {
    await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
  });
  return {
    async container(
      name: string,
      options: { intercept?: Interceptor; retryOptions?: StorageRetryOptions } = {},
    ): Promise<{ proxy: RecordingProxy; client: ContainerClient }> {
      const proxy = await startRecordingProxy(
        `http://127.0.0.1:${azuritePort()}`,
        options.intercept ? { intercept: options.intercept } : {},
      );
      proxies.push(proxy);
      const client = BlobServiceClient.fromConnectionString(
        azuriteConnectionString(`${proxy.url}/devstoreaccount1`),
        { retryOptions: options.retryOptions ?? { maxTries: 1 } },
      ).getContainerClient(name);
      return { proxy, client };
    },
  };
}
