/**
 * Azure Web PubSub's calls through the same dispatcher as SignalR's: the guards and parsing of
 * src/lib/webpubsub, the typed events the handlers already know (connect, connected, message, disconnect, all in
 * the websocket dialect), and response objects that answer in the CloudEvents shapes.
 *
 * | Web PubSub `ce-type` | event | answer |
 * |---|---|---|
 * | `azure.webpubsub.sys.connect` | `connect` (blocking) | `accept()`: 204, or 200 `{userId, groups, subprotocol, roles}`; `fail()`: the status |
 * | `azure.webpubsub.sys.connected` | `connected` | 204 |
 * | `azure.webpubsub.user.<event>` | `message` (blocking; `context.eventName` is the event) | `success(body)`: 200 text, JSON or bytes, or 204 |
 * | `azure.webpubsub.sys.disconnected` | `disconnect` | 204 |
 */
import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { UPSTREAM_CATEGORIES } from '../signalr/index.js';
import {
  answerAbuseProtection,
  type CloudEvent,
  type CloudEventAnswer,
  type CloudEventDataType,
  type CloudEventRoute,
  cloudEventContext,
  connectAccepted,
  connectRefused,
  parseCloudEvent,
  resolveCloudEventRoute,
  userEventAnswered,
  userEventFailed,
  type VerifiedCloudEvent,
  verifyCloudEventCall,
} from '../webpubsub/index.js';
import type { Claims, ConnectResponse, MessageResponse, UpstreamContext, UpstreamEvent } from './events.js';
import { type Answerable, answerSlot, encodeBody } from './response.js';

/** What the guards of a Web PubSub call establish before its body is read. */
export interface GuardedCloudEvent {
  readonly verified: VerifiedCloudEvent;
  readonly route: CloudEventRoute;
}

/** The guards of a Web PubSub call (connection id, signature unless `accessKeys` is null, hub), then its route. */
export function guardCloudEvent(
  request: HttpRequest,
  accessKeys: readonly string[] | null,
  expectedHub: string | undefined,
): GuardedCloudEvent {
  const verified = verifyCloudEventCall(request.headers, accessKeys, expectedHub);
  return { verified, route: resolveCloudEventRoute(request.headers) };
}

/** The typed upstream event and context of a guarded Web PubSub call. */
export function readCloudEvent(
  call: GuardedCloudEvent,
  body: Uint8Array,
  request: HttpRequest,
): { event: UpstreamEvent; context: UpstreamContext } {
  const webpubsub = cloudEventContext(request.headers, call.route, call.verified);
  const cloudEvent = parseCloudEvent(call.route, webpubsub, body);
  const connect = cloudEvent.kind === 'connect' ? cloudEvent.body : undefined;
  const context: UpstreamContext = {
    hub: webpubsub.hub,
    connectionId: webpubsub.connectionId,
    ...(webpubsub.userId ? { userId: webpubsub.userId } : {}),
    claims: claimsOf(connect?.claims),
    query: queryOf(connect?.query),
    category: cloudEvent.kind === 'user' ? UPSTREAM_CATEGORIES.messages : UPSTREAM_CATEGORIES.connections,
    eventName: webpubsub.eventName,
    webpubsub,
  };
  return { event: upstreamEvent(cloudEvent), context };
}

function upstreamEvent(cloudEvent: CloudEvent): UpstreamEvent {
  switch (cloudEvent.kind) {
    case 'connect': {
      const { subprotocols = [], headers, clientCertificates } = cloudEvent.body;
      return {
        kind: 'connect',
        dialect: 'websocket',
        subprotocols,
        ...(headers ? { headers } : {}),
        ...(clientCertificates ? { clientCertificates } : {}),
      };
    }
    case 'connected':
      return { kind: 'connected', dialect: 'websocket' };
    case 'disconnected':
      return {
        kind: 'disconnect',
        dialect: 'websocket',
        ...(cloudEvent.reason !== undefined ? { reason: cloudEvent.reason } : {}),
      };
    case 'user': {
      const { dataType, data } = cloudEvent;
      const message =
        dataType === 'binary' ? { dataType, data: data as Uint8Array } : { dataType, data: data as string };
      return { kind: 'message', dialect: 'websocket', message };
    }
  }
}

/** Claims as the `connect` body lists them (every type with all its values) in the dispatcher's form. */
function claimsOf(claims: Readonly<Record<string, readonly string[]>> | undefined): Claims {
  const result: Record<string, string | readonly string[]> = Object.create(null);
  for (const [type, values] of Object.entries(claims ?? {})) {
    if (values.length === 1) result[type] = values[0] as string;
    else if (values.length > 1) result[type] = values;
  }
  return result;
}

function queryOf(query: Readonly<Record<string, readonly string[]>> | undefined): URLSearchParams {
  const params = new URLSearchParams();
  for (const [name, values] of Object.entries(query ?? {}))
    for (const value of values) params.append(name, value);
  return params;
}

/** A CloudEvents answer as the Functions response. */
export function toHttpResponse(answer: CloudEventAnswer): HttpResponseInit {
  return {
    status: answer.status,
    headers: { ...answer.headers },
    ...(answer.body !== undefined ? { body: answer.body } : {}),
  };
}

/** The connection state a handler builds with `setState`, starting from the state the call carried. */
function stateBuilder(initial: Readonly<Record<string, unknown>>, answered: () => boolean) {
  let changed: Record<string, unknown> | undefined;
  return {
    setState(name: string, value: unknown) {
      if (answered()) throw new TypeError('setState() must be called before the call is answered');
      if (typeof name !== 'string' || name === '') throw new TypeError('setState() needs a non-empty name');
      changed ??= { ...initial };
      changed[name] = value;
    },
    get: () => changed,
  };
}

/** The response object of a Web PubSub `connect` (see {@link ConnectResponse}). */
export function cloudEventsConnectResponse(
  offered: readonly string[],
  states: Readonly<Record<string, unknown>>,
): Answerable<ConnectResponse> {
  const slot = answerSlot();
  const state = stateBuilder(states, () => slot.get() !== undefined);
  return {
    response: {
      setState: state.setState,
      accept(acceptance = {}) {
        const { userId, groups, subprotocol, roles } = acceptance;
        const answer = { userId, groups, subprotocol, roles };
        slot.set(toHttpResponse(connectAccepted(withoutUndefined(answer), offered, state.get())));
      },
      fail(status, reason) {
        slot.set(toHttpResponse(connectRefused(status, reason)));
      },
    },
    answer: slot.get,
  };
}

/** The response object of a Web PubSub user event: `success(body)` is the reply the caller gets. */
export function cloudEventsMessageResponse(
  states: Readonly<Record<string, unknown>>,
): Answerable<MessageResponse> {
  const slot = answerSlot();
  const state = stateBuilder(states, () => slot.get() !== undefined);
  return {
    response: {
      setState: state.setState,
      success(body) {
        const encoded = encodeBody(body);
        const reply = encoded ? { dataType: dataTypeOf(encoded.contentType), data: encoded.body } : undefined;
        slot.set(toHttpResponse(userEventAnswered(reply, state.get())));
      },
      fail(status, reason) {
        slot.set(toHttpResponse(userEventFailed(status, reason)));
      },
    },
    answer: slot.get,
  };
}

function dataTypeOf(contentType: string): CloudEventDataType {
  if (contentType.startsWith('text/')) return 'text';
  if (contentType.startsWith('application/json')) return 'json';
  return 'binary';
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** The answer to the abuse-protection `OPTIONS` handshake, for the app's own service hosts only. */
export function abuseProtectionResponse(request: HttpRequest, hosts: readonly string[]): HttpResponseInit {
  return toHttpResponse(answerAbuseProtection(request.headers, hosts));
}
