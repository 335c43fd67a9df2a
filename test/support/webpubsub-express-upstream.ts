/**
 * Microsoft's `@azure/web-pubsub-express` event handler mounted in a real HTTP server on port 0: the upstream
 * of the local service's Web PubSub wing in tests, and the oracle of what Azure sends. It records what the
 * handler's callbacks saw and every abuse-protection `OPTIONS` request.
 */
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type ConnectedRequest,
  type ConnectRequest,
  type ConnectResponseHandler,
  type DisconnectedRequest,
  type UserEventRequest,
  type UserEventResponseHandler,
  WebPubSubEventHandler,
} from '@azure/web-pubsub-express';

export interface ExpressUpstream {
  /** The handler's URL for the hub: `http://127.0.0.1:<port>/api/webpubsub/hubs/<hub>/`. */
  readonly url: string;
  readonly connects: ConnectRequest[];
  readonly connected: ConnectedRequest[];
  readonly userEvents: UserEventRequest[];
  readonly disconnected: DisconnectedRequest[];
  /** The headers of every `OPTIONS` request (the abuse-protection handshake). */
  readonly handshakes: IncomingHttpHeaders[];
  /** Headers of every POST, in order. */
  readonly posts: IncomingHttpHeaders[];
  /** What `handleConnect` does (default: accept as is). */
  onConnect: (req: ConnectRequest, res: ConnectResponseHandler) => void;
  /** What `handleUserEvent` does (default: answer `echo: <data>` as text). */
  onUserEvent: (req: UserEventRequest, res: UserEventResponseHandler) => void;
  /** Resolves once `read()` holds at least `count` items. */
  until<T>(read: () => readonly T[], count?: number): Promise<readonly T[]>;
  close(): Promise<void>;
}

export async function startExpressUpstream(hub = 'chat'): Promise<ExpressUpstream> {
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const check of [...waiters]) check();
  };
  const state: ExpressUpstream = {
    url: '',
    connects: [],
    connected: [],
    userEvents: [],
    disconnected: [],
    handshakes: [],
    posts: [],
    onConnect: (_req, res) => res.success(),
    onUserEvent: (req, res) => res.success(`echo: ${String(req.data)}`, 'text'),
    until(read, count = 1) {
      return new Promise((resolve) => {
        const check = () => {
          if (read().length >= count) {
            waiters.delete(check);
            resolve(read());
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
  const handler = new WebPubSubEventHandler(hub, {
    handleConnect: (req, res) => {
      state.connects.push(req);
      notify();
      state.onConnect(req, res);
    },
    onConnected: (req) => {
      state.connected.push(req);
      notify();
    },
    handleUserEvent: (req, res) => {
      state.userEvents.push(req);
      notify();
      state.onUserEvent(req, res);
    },
    onDisconnected: (req) => {
      state.disconnected.push(req);
      notify();
    },
  });
  const middleware = handler.getMiddleware();
  const server = createServer((req, res) => {
    if (req.method === 'OPTIONS') state.handshakes.push(req.headers);
    else state.posts.push(req.headers);
    notify();
    // The middleware reads Express's baseUrl and path; a bare Node request gets them here.
    Object.assign(req, { baseUrl: '', path: new URL(req.url ?? '/', 'http://upstream.invalid').pathname });
    void middleware(req as never, res as never, () => {
      res.statusCode = 404;
      res.end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  (state as { url: string }).url = `http://127.0.0.1:${port}/api/webpubsub/hubs/${hub}/`;
  return state;
}
