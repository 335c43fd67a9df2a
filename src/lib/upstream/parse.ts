/**
 * Parsing an upstream call into a typed event and its context. The route (event name, category, what body
 * to expect) is read from headers before the body; the body is parsed afterwards, once it has passed the
 * guards in `verify.ts`. Every failure is a catalogued {@link UpstreamError}, never an escaping exception.
 * See docs/architecture.md, "The upstream contract".
 */
import type { HttpRequest } from '@azure/functions';
import { decodeJson, type Refusal } from '../decode-body.js';
import { isRecord } from '../is-record.js';
import {
  type CloseConnectionBody,
  DEFAULT_MAX_MESSAGEPACK_DEPTH,
  HubProtocolError,
  type HubProtocolName,
  type InvocationBody,
  isUpstreamCategory,
  JSON_PROTOCOL_NAME,
  MESSAGEPACK_CONTENT_TYPE,
  MESSAGEPACK_PROTOCOL_NAME,
  type OpenConnectionBody,
  parseMessagePackMessages,
  SIGNALR_EVENTS,
  UPSTREAM_CATEGORIES,
  UPSTREAM_HEADERS,
  UPSTREAM_MESSAGE_TYPE,
  type UpstreamCategory,
  withLengthPrefix,
} from '../signalr/index.js';
import { quoteValue, UpstreamError } from './errors.js';
import type {
  Claims,
  ConnectedEvent,
  DisconnectedEvent,
  InvocationEvent,
  UpstreamContext,
} from './events.js';

/** Which wire shape the body of a call must have, decided from its event name and category alone. */
export type BodyShape =
  /** `connected`: `{"type":10}` (or empty). */
  | 'connected'
  /** `disconnected`: `{"type":11[,"error":"…"]}` (or empty). */
  | 'disconnected'
  /** Any event of the messages category: an invocation whose target is the event name. */
  | 'invocation';

/** The route of a call: everything known about it before its body is read. */
export interface UpstreamRoute {
  /** The event as sent. */
  readonly eventName: string;
  readonly category: UpstreamCategory;
  readonly shape: BodyShape;
}

const CONNECTION_EVENTS: Readonly<Record<string, BodyShape>> = {
  [SIGNALR_EVENTS.connected]: 'connected',
  [SIGNALR_EVENTS.disconnected]: 'disconnected',
};

/**
 * Reads the event (`X-ASRS-Event`, else `?event=` from the upstream URL template; the header wins because
 * the service sets it on every call) and the category (`X-ASRS-Category`, inferred from the event when
 * absent), and decides the body shape. Built-in event names match case-insensitively.
 */
export function resolveRoute(request: HttpRequest): UpstreamRoute {
  const eventName = (request.headers.get(UPSTREAM_HEADERS.event) ?? request.query.get('event') ?? '').trim();
  if (!eventName) throw new UpstreamError('missing-event');
  const connectionShape = Object.hasOwn(CONNECTION_EVENTS, eventName.toLowerCase())
    ? CONNECTION_EVENTS[eventName.toLowerCase()]
    : undefined;

  const categoryHeader = request.headers.get(UPSTREAM_HEADERS.category)?.trim().toLowerCase();
  let category: UpstreamCategory;
  if (!categoryHeader)
    category = connectionShape ? UPSTREAM_CATEGORIES.connections : UPSTREAM_CATEGORIES.messages;
  else if (isUpstreamCategory(categoryHeader)) category = categoryHeader;
  else throw new UpstreamError('unknown-category', `got ${quoteValue(categoryHeader)}`);

  if (category === UPSTREAM_CATEGORIES.connections) {
    if (!connectionShape) throw new UpstreamError('unknown-event', `got ${quoteValue(eventName)}`);
    return { eventName, category, shape: connectionShape };
  }
  // In the messages category the event is the invoked method's name, so any name is legitimate.
  return { eventName, category, shape: 'invocation' };
}

/**
 * Parses `X-ASRS-User-Claims` (`"type: value, type: value"`). Entries are split at commas and each at its
 * first `": "` (claim types are often URIs, which contain `:` but not `": "`), falling back to the first `:`.
 * Entries without a separator are skipped. A type seen again collects its values into an array.
 * The format cannot carry a value that contains a comma; such a value arrives split.
 */
export function parseClaims(header: string | null | undefined): Claims {
  const claims: Record<string, string | string[]> = Object.create(null);
  if (!header) return claims;
  for (const entry of header.split(',')) {
    let separator = entry.indexOf(': ');
    if (separator < 0) separator = entry.indexOf(':');
    if (separator < 0) continue;
    const type = entry.slice(0, separator).trim();
    const value = entry.slice(separator + 1).trim();
    if (!type) continue;
    const existing = claims[type];
    if (existing === undefined) claims[type] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else claims[type] = [existing, value];
  }
  return claims;
}

/** The client's query: `X-ASRS-Client-Query` (`?a=1&b=2`). */
export function parseClientQuery(request: HttpRequest): URLSearchParams {
  return new URLSearchParams(request.headers.get(UPSTREAM_HEADERS.clientQuery)?.trim() ?? '');
}

/** The context of a call whose connection id and hub have passed the guards. */
export function parseContext(
  request: HttpRequest,
  route: UpstreamRoute,
  verified: { readonly connectionId: string; readonly hub: string },
): UpstreamContext {
  const userId = request.headers.get(UPSTREAM_HEADERS.userId)?.trim();
  return {
    hub: verified.hub,
    connectionId: verified.connectionId,
    ...(userId ? { userId } : {}),
    claims: parseClaims(request.headers.get(UPSTREAM_HEADERS.userClaims)),
    query: parseClientQuery(request),
    category: route.category,
    eventName: route.eventName,
  };
}

// --- the upstream bodies (their shapes are in src/lib/signalr/upstream-contract.ts), one type guard per wire shape ---

type JsonRecord = Record<string, unknown>;

/** The members the serverless protocol's JSON bodies have, as this module spells them. */
const BODY_MEMBERS = ['type', 'error', 'target', 'arguments', 'invocationId'] as const;

/**
 * A JSON body with its members' names in our spelling, whatever their case: Azure writes `disconnected` as
 * `{"Type":11,"Error":"…"}`, and the Functions SignalR extension reads members case-insensitively
 * (Newtonsoft's `ToObject`). The first member of a name wins; any other member is dropped.
 */
function normalizeMembers(value: unknown): unknown {
  if (!isRecord(value)) return value;
  const normalized: JsonRecord = {};
  for (const [key, member] of Object.entries(value)) {
    const name = BODY_MEMBERS.find((known) => known.toLowerCase() === key.toLowerCase());
    if (name !== undefined && !Object.hasOwn(normalized, name)) normalized[name] = member;
  }
  return normalized;
}
function isOpenConnectionBody(value: unknown): value is OpenConnectionBody {
  return isRecord(value) && value.type === UPSTREAM_MESSAGE_TYPE.openConnection;
}

function isCloseConnectionBody(value: unknown): value is CloseConnectionBody {
  return (
    isRecord(value) &&
    value.type === UPSTREAM_MESSAGE_TYPE.closeConnection &&
    (value.error == null || typeof value.error === 'string')
  );
}

/** Why `value` is not a valid invocation body, or undefined when it is one. */
function invocationProblem(value: unknown): string | undefined {
  if (!isRecord(value)) return 'an invocation body must be a JSON object';
  if (value.type !== UPSTREAM_MESSAGE_TYPE.invocation)
    return `an invocation body has "type":1, got ${quoteValue(JSON.stringify(value.type))}`;
  if (typeof value.target !== 'string' || value.target === '') return 'an invocation needs a string "target"';
  if (!Array.isArray(value.arguments)) return 'an invocation needs an "arguments" array';
  if (value.invocationId != null && typeof value.invocationId !== 'string') {
    return '"invocationId" must be a string when present';
  }
  return undefined;
}

function isInvocationBody(value: unknown): value is InvocationBody {
  return invocationProblem(value) === undefined;
}

// --- decoding ---

const malformed: Refusal = (detail) => new UpstreamError('malformed-body', detail);

/** The media type of a `Content-Type` header, lower-cased, without parameters. */
function mediaType(contentType: string | null): string {
  return (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
}

// --- events ---

function invocationEvent(value: unknown, route: UpstreamRoute, protocol: HubProtocolName): InvocationEvent {
  if (!isInvocationBody(value)) throw new UpstreamError('malformed-body', invocationProblem(value));
  if (value.target.toLowerCase() !== route.eventName.toLowerCase()) {
    throw new UpstreamError(
      'target-mismatch',
      `event ${quoteValue(route.eventName)}, target ${quoteValue(value.target)}`,
    );
  }
  return {
    kind: 'invocation',
    dialect: 'signalr',
    protocol,
    target: value.target,
    arguments: value.arguments,
    ...(typeof value.invocationId === 'string' ? { invocationId: value.invocationId } : {}),
  };
}

/**
 * A MessagePack invocation body, as Azure sends it for a MessagePack client: the hub protocol's Invocation
 * array without the length prefix it has on the connection (`application/x-msgpack`).
 */
function decodeMessagePackInvocation(body: Uint8Array, maxDepth: number): unknown {
  if (body.byteLength === 0)
    throw new UpstreamError('malformed-body', 'the MessagePack invocation body is empty');
  try {
    const messages = parseMessagePackMessages(withLengthPrefix(body), { maxDepth });
    if (messages.length !== 1) throw new HubProtocolError('invalid-message', 'not exactly one message');
    return messages[0];
  } catch (error) {
    if (!(error instanceof HubProtocolError)) throw error;
    throw new UpstreamError(
      'malformed-body',
      `the MessagePack invocation body (an Invocation array without length prefix) is invalid: ${error.message}`,
    );
  }
}

/** The invocation a body carries, read as JSON or MessagePack by its `Content-Type`. */
function decodeInvocation(
  body: Uint8Array,
  request: HttpRequest,
  route: UpstreamRoute,
  maxMessagePackDepth: number,
): InvocationEvent {
  if (mediaType(request.headers.get('content-type')) === MESSAGEPACK_CONTENT_TYPE) {
    const message = decodeMessagePackInvocation(body, maxMessagePackDepth);
    return invocationEvent(message, route, MESSAGEPACK_PROTOCOL_NAME);
  }
  return invocationEvent(
    normalizeMembers(decodeJson(body, 'the invocation body', malformed)),
    route,
    JSON_PROTOCOL_NAME,
  );
}

function connectedEvent(body: Uint8Array): ConnectedEvent {
  if (
    body.byteLength > 0 &&
    !isOpenConnectionBody(normalizeMembers(decodeJson(body, 'the connected body', malformed)))
  ) {
    throw new UpstreamError('malformed-body', 'a connected body is {"type":10}');
  }
  return { kind: 'connected', dialect: 'signalr' };
}

function disconnectedEvent(body: Uint8Array): DisconnectedEvent {
  if (body.byteLength === 0) return { kind: 'disconnected', dialect: 'signalr' };
  const value = normalizeMembers(decodeJson(body, 'the disconnected body', malformed));
  if (!isCloseConnectionBody(value)) {
    throw new UpstreamError('malformed-body', 'a disconnected body is {"type":11[,"error":"…"]}');
  }
  return { kind: 'disconnected', dialect: 'signalr', ...(value.error ? { error: value.error } : {}) };
}

/**
 * Parses the body of a call whose route is known: the typed event. An invocation is MessagePack when its
 * `Content-Type` is `application/x-msgpack` (its arrays and maps nested at most `maxMessagePackDepth` deep in
 * one argument), else JSON (member names in any case).
 */
export function parseEvent(
  route: UpstreamRoute,
  body: Uint8Array,
  request: HttpRequest,
  maxMessagePackDepth = DEFAULT_MAX_MESSAGEPACK_DEPTH,
): ConnectedEvent | DisconnectedEvent | InvocationEvent {
  switch (route.shape) {
    case 'connected':
      return connectedEvent(body);
    case 'disconnected':
      return disconnectedEvent(body);
    case 'invocation':
      return decodeInvocation(body, request, route, maxMessagePackDepth);
  }
}
