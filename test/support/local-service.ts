/**
 * Helpers for the local service's integration tests: a real upstream receiver on port 0 that records every
 * call, real `ws` clients that queue what they receive, and raw HTTP calls (node:http, so tests can set the
 * Host header that REST audiences are derived from). Nothing here waits on a clock: every wait resolves on an
 * event, and vitest's test timeout is the only bound.
 */
import { once } from 'node:events';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebPubSubServiceClient } from '@azure/web-pubsub';
import { afterEach } from 'vitest';
import { type ClientOptions, WebSocket } from 'ws';
import { DEV_ACCESS_KEY, DEV_WEBPUBSUB_ACCESS_KEY } from '../../src/local/dev-constants.js';
import {
  type LogLevel,
  type RunningService,
  type ServiceLog,
  type ServiceOptions,
  startService,
} from '../../src/local/service/index.js';

/** The service's primary key in tests: the development key. */
export const PRIMARY_KEY = DEV_ACCESS_KEY;
export const SECONDARY_KEY = 'ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvuts';

/** One call the upstream received. */
export interface RecordedCall {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly text: string;
  /** `X-ASRS-Event`, or a Web PubSub call's `ce-eventName` (`connect`, `connected`, `disconnected`, `message`, …). */
  readonly event: string;
  /** `X-ASRS-Connection-Id`, or a Web PubSub call's `ce-connectionId`. */
  readonly connectionId: string;
}

/** What the upstream answers. */
export interface UpstreamReply {
  readonly status?: number;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
}

export type UpstreamHandler = (
  call: RecordedCall,
) => UpstreamReply | undefined | Promise<UpstreamReply | undefined>;

export interface TestUpstream {
  readonly url: string;
  readonly calls: RecordedCall[];
  handler: UpstreamHandler;
  /** Resolves with the calls once `predicate` holds for at least `count` of them. */
  waitFor(predicate: (call: RecordedCall) => boolean, count?: number): Promise<RecordedCall[]>;
  close(): Promise<void>;
}

/** A real HTTP server on port 0 that records calls and answers with `handler` (default 200, empty). */
export async function startUpstream(handler: UpstreamHandler = () => undefined): Promise<TestUpstream> {
  const calls: RecordedCall[] = [];
  const waiters = new Set<() => void>();
  const state: TestUpstream = {
    url: '',
    calls,
    handler,
    waitFor(predicate, count = 1) {
      return new Promise((resolve) => {
        const check = () => {
          const matching = calls.filter(predicate);
          if (matching.length >= count) {
            waiters.delete(check);
            resolve(matching);
          }
        };
        waiters.add(check);
        check();
      });
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const call: RecordedCall = {
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      body,
      text: body.toString('utf8'),
      event: String(req.headers['x-asrs-event'] ?? req.headers['ce-eventname'] ?? ''),
      connectionId: String(req.headers['x-asrs-connection-id'] ?? req.headers['ce-connectionid'] ?? ''),
    };
    calls.push(call);
    for (const check of [...waiters]) check();
    const reply = (await state.handler(call)) ?? {};
    if (res.destroyed) return;
    res.writeHead(reply.status ?? 200, reply.headers ?? {});
    res.end(reply.body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  (state as { url: string }).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

/** An event handler's answers: the Web PubSub wing's abuse-protection handshake allowed, every event 204. */
export const acceptEveryEvent: UpstreamHandler = (call) =>
  call.method === 'OPTIONS' ? { headers: { 'WebHook-Allowed-Origin': '*' } } : { status: 204 };

/** Service options under which the Web PubSub wing sends every event of hub `chat` to `up`. */
export function webPubSubEventsTo(up: TestUpstream): Pick<ServiceOptions, 'webPubSubHubs'> {
  const systemEvents = ['connect', 'connected', 'disconnected'] as const;
  return {
    webPubSubHubs: {
      chat: { eventHandlers: [{ urlTemplate: `${up.url}/u`, userEventPattern: '*', systemEvents }] },
    },
  };
}

/** Microsoft's REST client for hub `chat` of the service's Web PubSub wing (its development key). */
export function webPubSubHub(svc: RunningService): WebPubSubServiceClient {
  return new WebPubSubServiceClient(
    `Endpoint=${svc.endpoint};AccessKey=${DEV_WEBPUBSUB_ACCESS_KEY};Version=1.0;`,
    'chat',
    { allowInsecureConnection: true },
  );
}

/** The Web PubSub client URL (token included) an app hands `userId`, minted by Microsoft's REST client. */
export async function webPubSubClientUrl(svc: RunningService, userId: string): Promise<string> {
  return (await webPubSubHub(svc).getClientAccessToken({ userId })).url;
}

/** A log sink that keeps entries so tests can check them (and that nothing secret was logged). */
export function recordingLog(): {
  log: ServiceLog;
  entries: Array<{ level: LogLevel; message: string; fields?: Readonly<Record<string, unknown>> }>;
  text(): string;
} {
  const entries: Array<{ level: LogLevel; message: string; fields?: Readonly<Record<string, unknown>> }> = [];
  return {
    entries,
    log: (level, message, fields) => {
      entries.push(fields === undefined ? { level, message } : { level, message, fields });
    },
    text: () => entries.map((e) => `${e.message} ${JSON.stringify(e.fields ?? {})}`).join('\n'),
  };
}

export interface Received {
  readonly data: Buffer;
  readonly isBinary: boolean;
  readonly text: string;
}

/** A `ws` client that queues what it receives and records how it closed. */
export class TestClient {
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly #queue: Received[] = [];
  readonly #waiting: Array<(message: Received) => void> = [];

  constructor(
    url: string,
    protocols?: string | string[],
    headers?: Record<string, string>,
    options: ClientOptions = {},
  ) {
    this.ws = new WebSocket(url, protocols, { ...options, ...(headers ? { headers } : {}) });
    this.opened = once(this.ws, 'open').then(() => undefined);
    this.closed = new Promise((resolve) => {
      this.ws.on('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') }));
    });
    this.ws.on('error', () => {}); // failures show up in `opened` / `closed`
    this.ws.on('message', (data: Buffer, isBinary: boolean) => {
      const message = { data, isBinary, text: data.toString('utf8') };
      const waiter = this.#waiting.shift();
      if (waiter) waiter(message);
      else this.#queue.push(message);
    });
  }

  /** The next message received. */
  next(): Promise<Received> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Messages received and not yet read. */
  get pending(): number {
    return this.#queue.length;
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    if (this.ws.readyState === WebSocket.CONNECTING) {
      this.ws.terminate();
    } else {
      this.ws.close();
    }
    await this.closed;
  }
}

/** Opens a client and waits until it is open. */
export async function connect(
  url: string,
  protocols?: string | string[],
  headers?: Record<string, string>,
): Promise<TestClient> {
  const client = new TestClient(url, protocols, headers);
  await client.opened;
  return client;
}

/** A refused WebSocket handshake: the HTTP response the service answered with. */
export async function refusedHandshake(
  url: string,
  protocols?: string | string[],
  headers?: Record<string, string>,
): Promise<{ status: number; body: string; headers: IncomingHttpHeaders }> {
  const ws = new WebSocket(url, protocols, headers ? { headers } : {});
  ws.on('error', () => {});
  const [, res] = (await once(ws, 'unexpected-response')) as [unknown, IncomingMessage];
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  ws.terminate();
  return { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers };
}

export interface HttpResult {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
}

/** An HTTP call with node:http (which, unlike fetch, lets the test choose the Host header). */
export async function http(
  method: string,
  url: string,
  options: { headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<HttpResult> {
  const req = request(url, { method, headers: options.headers ?? {} });
  req.end(options.body);
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return { status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') };
}

/** What {@link useServiceTest} gives a test file: starters whose results are closed after each test. */
export interface ServiceTestFixture {
  /** A recording upstream receiver on port 0 (see {@link startUpstream}). */
  upstream(handler?: UpstreamHandler): Promise<TestUpstream>;
  /** The service on port 0, logging into a {@link recordingLog} unless `options.log` is given. */
  service(options?: ServiceOptions): Promise<RunningService>;
  /** An open `ws` client (see {@link connect}). */
  client(url: string, protocols?: string | string[]): Promise<TestClient>;
  /** Runs `cleanup` after the current test, before what was started earlier (reverse order). */
  defer(cleanup: () => unknown): void;
}

/**
 * The per-test setup of the local service's integration tests. Call it at the top level of a test file: it
 * registers the afterEach that closes, newest first, everything its starters opened during the test.
 */
export function useServiceTest(): ServiceTestFixture {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const defer = (cleanup: () => unknown) => {
    cleanups.push(cleanup);
  };
  return {
    defer,
    async upstream(handler) {
      const up = await startUpstream(handler);
      defer(() => up.close());
      return up;
    },
    async service(options = {}) {
      const running = await startService({ port: 0, log: recordingLog().log, ...options });
      defer(() => running.close());
      return running;
    },
    async client(url, protocols) {
      const c = await connect(url, protocols);
      defer(() => c.close());
      return c;
    },
  };
}
