/**
 * The upstream wire contract (docs/architecture.md, "The upstream contract"): what the SignalR service
 * sends the app's upstream endpoint and what the app answers, in one place. The local service
 * (src/local/service) writes these calls and the app (src/lib/upstream, src/app) reads them, so both take
 * every name and shape from here and agree by construction.
 *
 * It imports only the hub message types of its own package, so any layer may depend on it.
 */
import { HubMessageType } from './hub-protocol.js';

/**
 * How a connection's messages are framed, and so which service carries it (docs/architecture.md, "Two
 * services"): `signalr`, the hub protocol over Azure SignalR; `websocket`, raw frames over Azure Web PubSub.
 */
export type Dialect = 'websocket' | 'signalr';

/** Every dialect, the signalr dialect (Azure's default) first. */
export const DIALECTS: readonly Dialect[] = ['signalr', 'websocket'];

/** Whether `value` names a dialect (exactly, lower case). */
export function isDialect(value: unknown): value is Dialect {
  return value === 'signalr' || value === 'websocket';
}

/**
 * The request headers of an upstream call, as the service spells them (HTTP header names compare
 * case-insensitively, so readers may look them up in any case).
 */
export const UPSTREAM_HEADERS = {
  hub: 'X-ASRS-Hub',
  category: 'X-ASRS-Category',
  event: 'X-ASRS-Event',
  connectionId: 'X-ASRS-Connection-Id',
  /** `sha256=<hex>[,sha256=<hex>]`: HMAC-SHA256 of the connection id, one entry per access key. */
  signature: 'X-ASRS-Signature',
  /** Sent on a request when the service knows the user. */
  userId: 'X-ASRS-User-Id',
  /** `type: value, type: value`. */
  userClaims: 'X-ASRS-User-Claims',
  /** The client's query string with its leading `?`, without the access token. */
  clientQuery: 'X-ASRS-Client-Query',
} as const;

/**
 * What the bearer token of an upstream call must satisfy when the service authenticates with a managed identity
 * (the SIGNALR_UPSTREAM_* settings); src/lib/upstream/bearer.ts checks it.
 */
export interface UpstreamTokenPolicy {
  /** `iss`, e.g. `https://sts.windows.net/<tenant>/`; the v2 form of the same tenant is accepted too. */
  readonly issuer: string;
  /** `aud`: the resource the upstream template's ManagedIdentity auth names. */
  readonly audience: string;
  /** OpenID Connect metadata URL; its `jwks_uri` gives the signing keys. */
  readonly openIdConfiguration: string;
  /** `oid` of SignalR's managed identity. */
  readonly callerId: string;
  /** Clock skew allowed on `exp` and `nbf`. Default 300 (`DEFAULT_UPSTREAM_CLOCK_SKEW_SECONDS`, src/lib/upstream/bearer.ts). */
  readonly clockToleranceSeconds?: number;
  /** Timeout of fetching the metadata or the key set. Default 10 000 (`DEFAULT_METADATA_TIMEOUT_MS`, src/lib/upstream/bearer.ts). */
  readonly metadataTimeoutMs?: number;
}

/** The `X-ASRS-Category` of an upstream call. */
export type UpstreamCategory = 'connections' | 'messages';

export const UPSTREAM_CATEGORIES = {
  connections: 'connections',
  messages: 'messages',
} as const satisfies Record<UpstreamCategory, UpstreamCategory>;

/** Whether `value` names a category (exactly, lower case). */
export function isUpstreamCategory(value: unknown): value is UpstreamCategory {
  return value === 'connections' || value === 'messages';
}

/**
 * The event names of the connections category (both notifications). In the messages
 * category the event is the name of the hub method the client invoked.
 */
export const SIGNALR_EVENTS = {
  connected: 'connected',
  disconnected: 'disconnected',
} as const;

/** The body `type` of the upstream calls (the serverless protocol's message types). */
export const UPSTREAM_MESSAGE_TYPE = {
  /** A hub protocol Invocation: the body of a messages-category call. */
  invocation: HubMessageType.Invocation,
  /** OpenConnection: the body of `connected`. */
  openConnection: 10,
  /** CloseConnection: the body of `disconnected`. */
  closeConnection: 11,
} as const;

/** Body of `connected`: `{"type":10}`. */
export interface OpenConnectionBody {
  readonly type: typeof UPSTREAM_MESSAGE_TYPE.openConnection;
}

/** Body of `disconnected`: `{"type":11}`, or `{"type":11,"error":"…"}` when the connection closed abnormally. */
export interface CloseConnectionBody {
  readonly type: typeof UPSTREAM_MESSAGE_TYPE.closeConnection;
  readonly error?: string | null;
}

/** Body of an invocation: the client's hub protocol Invocation message. */
export interface InvocationBody {
  readonly type: typeof UPSTREAM_MESSAGE_TYPE.invocation;
  readonly target: string;
  readonly arguments: readonly unknown[];
  readonly invocationId?: string | null;
}

/** The body of `connected`. */
export function openConnectionBody(): OpenConnectionBody {
  return { type: UPSTREAM_MESSAGE_TYPE.openConnection };
}

/** The body of `disconnected`; `error` only when the connection closed abnormally. */
export function closeConnectionBody(error?: string): CloseConnectionBody {
  return error === undefined
    ? { type: UPSTREAM_MESSAGE_TYPE.closeConnection }
    : { type: UPSTREAM_MESSAGE_TYPE.closeConnection, error };
}
