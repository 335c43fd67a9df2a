/**
 * The front end of several built-in Functions hosts: one address that spreads requests over the hosts in turn,
 * standing in for the platform's load balancer in front of a scaled-out Function app (docs/architecture.md,
 * "Many Function instances").
 */
import {
  Agent,
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  guardConnections,
  refusalMessage,
  resolveSocketLimits,
  type SocketLimits,
  serverOptions,
} from '../socket-guard.js';
import { DEFAULT_MAX_REQUEST_BODY_BYTES } from './host.js';

/** How long a host that refused a connection is left out of the rotation before it is tried again. */
export const DEFAULT_EJECT_MS = 5_000;
/** Connections kept open to each host. */
export const DEFAULT_FRONT_END_SOCKETS_PER_HOST = 256;
/**
 * How long a kept-alive connection to a host may sit idle before the front end closes it: under the hosts' 5 s
 * `keepAliveTimeout` (Node's default), so the front end, not the host, ends an idle connection, and a request is
 * never written to a connection the host is closing (which would answer the caller 502 for a request no host
 * ran). Node's agent keeps idle sockets with no limit unless told.
 */
export const DEFAULT_FRONT_END_IDLE_SOCKET_MS = 4_000;
/** The interface the front end binds to unless told otherwise: local development only. */
export const DEFAULT_FRONT_END_HOST = '127.0.0.1';

/** Connection errors that prove the request never reached the host, so another host may take it. */
const NOT_DELIVERED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);
/** Headers of one hop, not passed on (RFC 9110, section 7.6.1). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Options of the front end; its TCP connection bounds are the hosts' own (../socket-guard.ts). */
export interface FrontEndOptions extends Partial<SocketLimits> {
  /** The port; 0 picks a free one. */
  port: number;
  /** The interface to bind; default {@link DEFAULT_FRONT_END_HOST}. */
  host?: string;
  /** The hosts' base URLs, e.g. `http://127.0.0.1:7072`; more can be added with `add`. */
  backends?: readonly string[];
  /** See {@link DEFAULT_EJECT_MS}. */
  ejectMs?: number;
  /** Largest request body passed on (it is held until a host takes it); default the host's own limit. */
  maxRequestBodyBytes?: number;
  /** See {@link DEFAULT_FRONT_END_SOCKETS_PER_HOST}. */
  socketsPerHost?: number;
  /** See {@link DEFAULT_FRONT_END_IDLE_SOCKET_MS}. */
  idleSocketMs?: number;
  /** Where a refused host or a failed request is reported. */
  log?: (line: string) => void;
}

export interface RunningFrontEnd {
  readonly url: string;
  readonly port: number;
  /** The hosts in the rotation. */
  readonly backends: readonly string[];
  /** Puts a host into the rotation. */
  add(backend: string): void;
  /** Takes a host out of the rotation (requests in flight to it finish). */
  remove(backend: string): void;
  close(): Promise<void>;
}

/** Starts the front end; resolves once it listens. */
export async function startFrontEnd(options: FrontEndOptions): Promise<RunningFrontEnd> {
  const backends: string[] = [...(options.backends ?? [])];
  const ejectMs = options.ejectMs ?? DEFAULT_EJECT_MS;
  const maxBody = options.maxRequestBodyBytes ?? DEFAULT_MAX_REQUEST_BODY_BYTES;
  const log = options.log ?? ((line: string) => console.error(line));
  const socketLimits = resolveSocketLimits(options);
  const agent = new Agent({
    keepAlive: true,
    maxSockets: options.socketsPerHost ?? DEFAULT_FRONT_END_SOCKETS_PER_HOST,
    // Closes free (pooled) sockets only; a request in flight is the host's to answer.
    timeout: options.idleSocketMs ?? DEFAULT_FRONT_END_IDLE_SOCKET_MS,
  });
  /** When each refused host may be tried again. */
  const ejectedUntil = new Map<string, number>();
  let next = 0;

  /** The hosts to try for one request, in order: the next in turn first, hosts that refused lately last. */
  const rotation = (): string[] => {
    const count = backends.length;
    const start = next++ % Math.max(1, count);
    const order = Array.from({ length: count }, (_, i) => backends[(start + i) % count] as string);
    const now = Date.now();
    const live = order.filter((b) => (ejectedUntil.get(b) ?? 0) <= now);
    return [...live, ...order.filter((b) => !live.includes(b))];
  };

  const server = createServer(serverOptions(socketLimits), (req, res) => {
    void handle(req, res).catch((error: unknown) => {
      log(`[front-end] ${req.method} ${pathOf(req)}: ${(error as Error).message}`);
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('Bad Gateway: the Functions host failed while answering');
    });
  });

  // It holds each body until a host takes it: one address must not hold every socket (or much memory) with
  // requests it never finishes (docs/local-service.md, "Connections").
  guardConnections(server, socketLimits, (refusal) => log(`[front-end] ${refusalMessage(refusal)}`));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req, maxBody);
    if (body === undefined) {
      res.writeHead(413, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
      res.end(`The request body is larger than ${maxBody} bytes`);
      return;
    }
    const headers = forwardedHeaders(req);
    for (const backend of rotation()) {
      const outcome = await forward(backend, req, headers, body, res);
      if (outcome === 'done') return;
      // Never reached the host: safe to give to the next one. The host stays out of turn for a while, as a
      // load balancer's health probe takes a dead instance out.
      ejectedUntil.set(backend, Date.now() + ejectMs);
      log(`[front-end] ${backend} refused the connection; trying the next host`);
    }
    res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '1' });
    res.end('Service Unavailable: no Functions host is running');
  }

  function forward(
    backend: string,
    req: IncomingMessage,
    headers: IncomingHttpHeaders,
    body: Buffer,
    res: ServerResponse,
  ): Promise<'done' | 'not-delivered'> {
    const target = new URL(req.url ?? '/', backend);
    return new Promise((resolve, reject) => {
      const upstream = request(
        target,
        { method: req.method, headers: { ...headers, 'content-length': String(body.length) }, agent },
        (answer) => {
          const answerHeaders: Record<string, string | string[]> = {};
          for (const [name, value] of Object.entries(answer.headers)) {
            if (value !== undefined && !HOP_BY_HOP.has(name)) answerHeaders[name] = value;
          }
          res.writeHead(answer.statusCode ?? 502, answer.statusMessage, answerHeaders);
          answer.pipe(res);
          answer.once('error', reject);
          res.once('close', () => {
            if (!answer.complete) answer.destroy();
            resolve('done');
          });
        },
      );
      upstream.once('error', (error: NodeJS.ErrnoException) => {
        if (!res.headersSent && NOT_DELIVERED.has(error.code ?? '')) resolve('not-delivered');
        else reject(error);
      });
      // The client gone before the answer: the host's work is not cut (the platform does not cut it either).
      upstream.end(body);
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? DEFAULT_FRONT_END_HOST, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${options.host ?? DEFAULT_FRONT_END_HOST}:${port}`,
    port,
    backends,
    add(backend) {
      if (!backends.includes(backend)) backends.push(backend);
      ejectedUntil.delete(backend);
    },
    remove(backend) {
      const index = backends.indexOf(backend);
      if (index >= 0) backends.splice(index, 1);
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 1_000).unref();
      });
      agent.destroy();
    },
  };
}

/** The request's headers for the host: hop-by-hop ones dropped, the client's address appended. */
function forwardedHeaders(req: IncomingMessage): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (!HOP_BY_HOP.has(name) && name !== 'content-length') headers[name] = value;
  }
  // As the platform's front end does: the address it saw, after whatever the client sent.
  const address = req.socket.remoteAddress ?? '';
  const previous = req.headers['x-forwarded-for'];
  headers['x-forwarded-for'] = previous ? `${previous}, ${address}` : address;
  headers['x-forwarded-proto'] = 'http';
  if (req.headers.host !== undefined) headers['x-forwarded-host'] = req.headers.host;
  return headers;
}

/** The whole body, or `undefined` when it is larger than `max` bytes. */
async function readBody(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) {
      req.resume();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function pathOf(req: IncomingMessage): string {
  return (req.url ?? '/').split('?')[0] ?? '/';
}
