/**
 * The Web PubSub wing's client endpoint, `/client/hubs/{hub}`: the access token (Web PubSub's audience and
 * claims), the blocking `connect` event, the subprotocol, and the recovery of reliable connections
 * (`awps_connection_id` + `awps_reconnection_token`) (docs/local-service.md, "The Web PubSub wing").
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { JWTPayload } from 'jose';
import type { WebSocket } from 'ws';
import {
  CLOUD_EVENT_CONTENT_TYPES,
  CLOUD_EVENTS_HEADERS,
  type ConnectAnswerBody,
  type ConnectRequestBody,
  WEBPUBSUB_SUBPROTOCOLS,
} from '../../../lib/webpubsub/protocol.js';
import { acceptedOrigins, authenticate, requestToken } from '../auth/tokens.js';
import { checkHubName } from '../connections.js';
import { CloseCode, Rejection } from '../errors.js';
import { rejectUpgrade } from '../http.js';
import { type SessionInit, sessionInit } from '../session-init.js';
import { WebSocketTransport } from '../transports/websocket.js';
import { completeUpgrade } from '../upgrade.js';
import { describeFailure } from '../upstream/call.js';
import { eventCall, type WebPubSubFraming, WebPubSubSession } from './session.js';
import type { WebPubSubContext } from './state.js';

/** The path prefix of the client endpoint. */
export const CLIENT_PATH = /^\/client\/hubs\/([^/]+)$/;

/** The query parameters of a recovery (Learn, "Create reliable WebSocket clients"). */
export const RECOVERY_QUERY = {
  connectionId: 'awps_connection_id',
  token: 'awps_reconnection_token',
} as const;

/** The subprotocols the service speaks itself, and how each frames its messages. */
const FRAMINGS: Readonly<Record<string, WebPubSubFraming>> = {
  [WEBPUBSUB_SUBPROTOCOLS.json]: 'json',
  [WEBPUBSUB_SUBPROTOCOLS.reliableJson]: 'reliable',
};

/** The protobuf subprotocols, which the local service does not speak (docs/local-service.md says why). */
const UNSUPPORTED: readonly string[] = [
  WEBPUBSUB_SUBPROTOCOLS.protobuf,
  WEBPUBSUB_SUBPROTOCOLS.reliableProtobuf,
];

/** The statuses an event handler's refusal keeps; any other refusal reaches the client as 500. */
const KEPT_REFUSALS: readonly number[] = [400, 401, 403];

/** A claim's values as strings, as the `connect` body and the role and group claims read them. */
function claimValues(value: unknown): string[] {
  const list = Array.isArray(value) ? value : [value];
  return list
    .filter((item) => item !== undefined && item !== null)
    .map((item) => (typeof item === 'string' ? item : JSON.stringify(item)));
}

/** The `connect` body: the token's claims, the query without the token, the headers, the offered subprotocols. */
function connectBody(
  req: IncomingMessage,
  url: URL,
  payload: JWTPayload,
  offered: readonly string[],
): ConnectRequestBody {
  const claims: Record<string, string[]> = {};
  for (const [type, value] of Object.entries(payload)) claims[type] = claimValues(value);
  const query: Record<string, string[]> = {};
  for (const [name, value] of url.searchParams) {
    if (name === 'access_token') continue;
    const values = query[name] ?? [];
    values.push(value);
    query[name] = values;
  }
  const headers: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (name === 'authorization' || value === undefined) continue;
    headers[name] = Array.isArray(value) ? value : [value];
  }
  return { claims, query, headers, subprotocols: [...offered], clientCertificates: [] };
}

/** Reads a `connect` answer body (204 or an empty body: nothing to change). */
function connectAnswer(body: Buffer): ConnectAnswerBody {
  if (body.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new Rejection('upstream-failed', 'The connect event handler answered a body that is not JSON');
  }
  const answer = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const strings = (name: string): string[] | undefined => {
    const field = answer[name];
    if (field === undefined || field === null) return undefined;
    if (!Array.isArray(field) || field.some((item) => typeof item !== 'string')) {
      throw new Rejection('upstream-failed', `The connect answer's "${name}" must be an array of strings`);
    }
    return field as string[];
  };
  const text = (name: string): string | undefined => {
    const field = answer[name];
    if (field === undefined || field === null) return undefined;
    if (typeof field !== 'string')
      throw new Rejection('upstream-failed', `The connect answer's "${name}" must be a string`);
    return field;
  };
  const userId = text('userId');
  const subprotocol = text('subprotocol');
  const groups = strings('groups');
  const roles = strings('roles');
  return {
    ...(userId !== undefined ? { userId } : {}),
    ...(subprotocol !== undefined ? { subprotocol } : {}),
    ...(groups ? { groups } : {}),
    ...(roles ? { roles } : {}),
  };
}

/** Handles a WebSocket upgrade on `/client/hubs/{hub}`. */
export async function handleWebPubSubUpgrade(
  ctx: WebPubSubContext,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  url: URL,
): Promise<void> {
  const match = CLIENT_PATH.exec(url.pathname.replace(/\/+$/, ''));
  if (!match) throw new Rejection('not-found', `No client endpoint at ${url.pathname}`);
  let hubName: string;
  try {
    hubName = decodeURIComponent(match[1] ?? '');
  } catch {
    throw new Rejection('invalid-request', 'The URL path is not valid percent-encoding');
  }
  const hub = checkHubName(hubName, '/client/hubs/chat');
  const offered = (req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const recovering = url.searchParams.get(RECOVERY_QUERY.connectionId);
  if (recovering !== null) {
    recover(ctx, req, socket, head, url, hub, recovering, offered);
    return;
  }
  ctx.connectLimits.address(req.socket.remoteAddress);
  const token = requestToken(req, url);
  if (token === undefined) {
    throw new Rejection('invalid-token', 'Connect with an access_token (query) or Authorization: Bearer', {
      'WWW-Authenticate': 'Bearer',
    });
  }
  const payload = await authenticate(
    token,
    ctx.options.webPubSubAccessKeys,
    acceptedOrigins(ctx.endpoint()),
    [`/client/hubs/${encodeURIComponent(hub)}`, `/client/hubs/${hub}`],
  );
  const tokenUser = typeof payload.sub === 'string' && payload.sub !== '' ? payload.sub : undefined;
  ctx.connectLimits.user(tokenUser);
  const base = sessionInit(ctx.options.generateConnectionId(), hub, undefined, url);
  let init: SessionInit = { ...base, userId: tokenUser };
  let subprotocol = offered.find((p) => FRAMINGS[p] !== undefined);
  const groups = claimValues(payload['webpubsub.group']);
  const roles = claimValues(payload.role);
  let connectionState: string | undefined;

  const outcome = await ctx.upstream.call({
    ...eventCall(
      ctx,
      init,
      subprotocol,
      undefined,
      { system: 'connect' },
      JSON.stringify(connectBody(req, url, payload, offered)),
      CLOUD_EVENT_CONTENT_TYPES.json,
    ),
    // A connect without a user waits in its address's lane, so anonymous connects cannot open new lanes.
    ...(init.userId === undefined ? { lane: `address:${req.socket.remoteAddress ?? 'unknown'}` } : {}),
  });
  if (outcome.kind === 'response') {
    if (outcome.status < 200 || outcome.status >= 300) {
      const status = KEPT_REFUSALS.includes(outcome.status) ? outcome.status : 500;
      rejectUpgrade(
        socket,
        status,
        outcome.body,
        outcome.headers.get('content-type') ?? 'text/plain; charset=utf-8',
      );
      return;
    }
    const answer = connectAnswer(outcome.body);
    if (answer.userId !== undefined) init = { ...init, userId: answer.userId };
    if (answer.subprotocol !== undefined) {
      if (!offered.includes(answer.subprotocol) || UNSUPPORTED.includes(answer.subprotocol)) {
        throw new Rejection(
          'upstream-failed',
          `The connect answer chose the subprotocol '${answer.subprotocol}', which the client did not offer or the local service does not speak (protobuf)`,
        );
      }
      subprotocol = answer.subprotocol;
    }
    groups.push(...(answer.groups ?? []));
    roles.push(...(answer.roles ?? []));
    const state = outcome.headers.get(CLOUD_EVENTS_HEADERS.connectionState);
    if (state) connectionState = state;
  } else if (outcome.kind !== 'no-template') {
    throw new Rejection(
      outcome.kind === 'timeout' ? 'upstream-timeout' : 'upstream-failed',
      `The connect event handler failed: ${describeFailure(outcome)}`,
    );
  }
  const session = new WebPubSubSession(ctx, init, {
    framing: (subprotocol && FRAMINGS[subprotocol]) || 'none',
    subprotocol,
    groups,
    roles,
    connectionState,
  });
  completeUpgrade(ctx, session, { req, socket, head, subprotocol }, () => {
    session.open();
    session.logConnected('webpubsub');
    session.announce();
  });
}

/**
 * A reliable client recovering its connection: the same connection takes the new socket. An unknown or
 * ended connection, or a wrong token, is closed with 1008 after the upgrade, which tells the client to stop
 * recovering and connect anew (Learn, "Create reliable WebSocket clients"). It counts against the connect
 * limits as a connect does (429 past them, before the upgrade).
 */
function recover(
  ctx: WebPubSubContext,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  url: URL,
  hub: string,
  connectionId: string,
  offered: readonly string[],
): void {
  // A recovery is an upgrade like a connect: its address pays before anything is looked up (an unknown id too,
  // which is answered after the upgrade), and the user of a connection it takes over pays as well.
  ctx.connectLimits.address(req.socket.remoteAddress);
  const presented = url.searchParams.get(RECOVERY_QUERY.token) ?? '';
  const connection = ctx.recoverable.get(connectionId);
  const valid =
    connection !== undefined &&
    connection.hub.toLowerCase() === hub.toLowerCase() &&
    connection.matches(presented) &&
    connection.canResume;
  if (valid) ctx.connectLimits.user(connection.userId);
  const reliable = WEBPUBSUB_SUBPROTOCOLS.reliableJson;
  if (offered.includes(reliable)) ctx.chosenSubprotocols.set(req, reliable);
  ctx.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
    const transport = new WebSocketTransport(ws, {
      coalescing: 'frames',
      maxCoalescedBytes: ctx.options.maxCoalescedBytes,
    });
    if (!valid || !connection) {
      transport.close(CloseCode.PolicyViolation, 'The connection cannot be recovered: connect again');
      return;
    }
    connection.resume(transport);
  });
}
