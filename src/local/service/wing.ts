/**
 * A wing: one service protocol the service speaks (SignalR, Web PubSub), with its client endpoints, its
 * REST API and its upstream codec. The service composes its wings and knows nothing of their protocols
 * (docs/local-service.md, "Wings").
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ServiceContext } from './context.js';
import type { RestApi } from './rest/router.js';
import type { UpstreamCodec } from './upstream/call.js';

/** Client endpoints of one kind: which paths (trailing slashes dropped) they are at, and how they answer. */
export interface Endpoints<Handler> {
  serves(path: string): boolean;
  /** Throws a `Rejection` for every refusal. */
  readonly handle: Handler;
}

/** Plain HTTP requests (negotiate, Server-Sent Events, Long Polling; CORS preflights included). */
export type RequestHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  path: string,
) => Promise<void>;
/** WebSocket upgrades: accepted or refused. */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer, url: URL) => Promise<void>;

export interface Wing {
  /** Its client endpoints over plain HTTP, if it has any. */
  readonly requests?: Endpoints<RequestHandler>;
  /** Its client endpoints over WebSocket. */
  readonly upgrades: Endpoints<UpgradeHandler>;
  /** The wing's REST API (its path prefixes are its own). */
  readonly rest: RestApi;
  /** How the wing's upstream calls are written: every call its connections make carries this codec. */
  readonly upstream: UpstreamCodec;
}

/** Makes a wing for one running service: the wing's state (its connections) lives as long as the service. */
export type WingFactory = (ctx: ServiceContext) => Wing;
