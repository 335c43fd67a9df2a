/**
 * Reading a Web PubSub event handler call: whether a request is one (a guard on headers alone), its route (which
 * event, what data) before the body is read, then the typed {@link CloudEvent} once the body has passed the
 * guards. Every failure is a catalogued {@link WebPubSubError}; no `JSON.parse` error escapes.
 */
import { decodeJson, decodeText, type Refusal } from '../decode-body.js';
import { isRecord } from '../is-record.js';
import { WebPubSubError } from './errors.js';
import {
  CLOUD_EVENTS_HEADERS as CE,
  CLOUD_EVENT_CONTENT_TYPES,
  CLOUD_EVENT_TYPES,
  CLOUD_EVENTS_SPEC_VERSION,
  type CloudEvent,
  type CloudEventContext,
  type CloudEventDataType,
  type CloudEventKind,
  type ConnectionStates,
  type ConnectRequestBody,
  type HeaderReader,
  WEBHOOK_HEADERS,
} from './protocol.js';

/** Whether a request is a CloudEvents call (it carries `ce-type` or `ce-specversion`), from its headers alone. */
export function isCloudEventsRequest(headers: HeaderReader): boolean {
  return headers.get(CE.type) !== null || headers.get(CE.specversion) !== null;
}

/** Everything known about a call before its body is read. */
export interface CloudEventRoute {
  readonly type: string;
  readonly kind: CloudEventKind;
  readonly eventName: string;
  /** For a user event: how its data is to be read, from `Content-Type`. */
  readonly dataType?: CloudEventDataType;
}

/**
 * The route of a call: its spec version (1.0 when given), its `ce-type` (one of the three system events or a user
 * event), its event name (`ce-eventName`, else the end of `ce-type`), and for a user event its data type from
 * `Content-Type`.
 */
export function resolveCloudEventRoute(headers: HeaderReader): CloudEventRoute {
  const specversion = headers.get(CE.specversion)?.trim();
  if (specversion !== undefined && specversion !== CLOUD_EVENTS_SPEC_VERSION) {
    throw new WebPubSubError('spec-version', `got ${JSON.stringify(specversion.slice(0, 20))}`);
  }
  const type = headers.get(CE.type)?.trim() ?? '';
  const kind = kindOf(type);
  if (kind === undefined)
    throw new WebPubSubError('unknown-event-type', `got ${JSON.stringify(type.slice(0, 80))}`);
  const fromType = kind === 'user' ? type.slice(CLOUD_EVENT_TYPES.userPrefix.length) : kind;
  const eventName = headers.get(CE.eventName)?.trim() || fromType;
  if (kind !== 'user') return { type, kind, eventName };
  return { type, kind, eventName, dataType: dataTypeOf(headers.get('content-type')) };
}

function kindOf(type: string): CloudEventKind | undefined {
  switch (type) {
    case CLOUD_EVENT_TYPES.connect:
      return 'connect';
    case CLOUD_EVENT_TYPES.connected:
      return 'connected';
    case CLOUD_EVENT_TYPES.disconnected:
      return 'disconnected';
    default:
      return type.startsWith(CLOUD_EVENT_TYPES.userPrefix) &&
        type.length > CLOUD_EVENT_TYPES.userPrefix.length
        ? 'user'
        : undefined;
  }
}

function dataTypeOf(contentType: string | null): CloudEventDataType {
  const media = (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
  for (const [dataType, type] of Object.entries(CLOUD_EVENT_CONTENT_TYPES)) {
    if (media === type) return dataType as CloudEventDataType;
  }
  throw new WebPubSubError('unsupported-media-type', `got ${JSON.stringify(media || '(none)')}`);
}

/**
 * Decodes `ce-connectionState` as Microsoft's handlers write it: base64 of a JSON object. Anything else (absent,
 * not base64 JSON, not an object) is no state: another handler in the hub's chain may keep a string of its own.
 */
export function decodeConnectionState(header: string | null | undefined): ConnectionStates {
  if (!header) return {};
  try {
    const value: unknown = JSON.parse(Buffer.from(header, 'base64').toString('utf8'));
    return isRecord(value) ? value : {};
  } catch {
    return {};
  }
}

/** Encodes a connection state for the `ce-connectionState` answer header. */
export function encodeConnectionState(states: ConnectionStates): string {
  return Buffer.from(JSON.stringify(states), 'utf8').toString('base64');
}

/** The context of a call whose connection id and hub have passed the guards (verify.ts). */
export function cloudEventContext(
  headers: HeaderReader,
  route: CloudEventRoute,
  verified: { readonly connectionId: string; readonly hub: string },
): CloudEventContext {
  const optional = (name: string) => headers.get(name)?.trim() || undefined;
  const userId = optional(CE.userId);
  const subprotocol = optional(CE.subprotocol);
  const origin = optional(WEBHOOK_HEADERS.requestOrigin);
  const id = optional(CE.id);
  return {
    type: route.type,
    kind: route.kind,
    eventName: route.eventName,
    hub: verified.hub,
    connectionId: verified.connectionId,
    ...(userId ? { userId } : {}),
    ...(subprotocol ? { subprotocol } : {}),
    ...(origin ? { origin } : {}),
    ...(id ? { id } : {}),
    states: decodeConnectionState(headers.get(CE.connectionState)),
  };
}

const malformed: Refusal = (detail) => new WebPubSubError('malformed-body', detail);

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/** `{name: [values]}` with string values, as the connect body spells claims, query and headers. */
function isMultiMap(value: unknown): value is Record<string, string[]> {
  return isRecord(value) && Object.values(value).every(isStringArray);
}

/** Why `value` is not a connect body, or undefined when it is one. */
function connectBodyProblem(value: unknown): string | undefined {
  if (!isRecord(value)) return 'the connect body must be a JSON object';
  for (const name of ['claims', 'query', 'headers'] as const) {
    if (value[name] != null && !isMultiMap(value[name]))
      return `"${name}" must map names to arrays of strings`;
  }
  if (value.subprotocols != null && !isStringArray(value.subprotocols)) {
    return '"subprotocols" must be an array of strings';
  }
  const certificates = value.clientCertificates;
  if (
    certificates != null &&
    !(
      Array.isArray(certificates) &&
      certificates.every((c) => isRecord(c) && typeof c.thumbprint === 'string')
    )
  ) {
    return '"clientCertificates" must be an array of {thumbprint, content}';
  }
  return undefined;
}

function connectBody(body: Uint8Array): ConnectRequestBody {
  // An empty body is a client that presented nothing.
  if (body.byteLength === 0) return {};
  const value = decodeJson(body, 'the connect body', malformed);
  const problem = connectBodyProblem(value);
  if (problem !== undefined) throw new WebPubSubError('malformed-body', problem);
  return value as ConnectRequestBody;
}

function disconnectedReason(body: Uint8Array): string | undefined {
  if (body.byteLength === 0) return undefined;
  const value = decodeJson(body, 'the disconnected body', malformed);
  if (!isRecord(value) || (value.reason != null && typeof value.reason !== 'string')) {
    throw new WebPubSubError('malformed-body', 'the disconnected body is {"reason": "…"}');
  }
  return typeof value.reason === 'string' && value.reason !== '' ? value.reason : undefined;
}

/**
 * The typed event of a call whose route and context are known: `connect` with its body (claims, query, headers,
 * subprotocols, client certificates), `connected`, `disconnected` with its reason, a user event with its data.
 * The body of `connected` is ignored (Azure sends `{}`).
 */
export function parseCloudEvent(
  route: CloudEventRoute,
  context: CloudEventContext,
  body: Uint8Array,
): CloudEvent {
  switch (route.kind) {
    case 'connect':
      return { kind: 'connect', context, body: connectBody(body) };
    case 'connected':
      return { kind: 'connected', context };
    case 'disconnected': {
      const reason = disconnectedReason(body);
      return reason === undefined
        ? { kind: 'disconnected', context }
        : { kind: 'disconnected', context, reason };
    }
    case 'user': {
      const dataType = route.dataType ?? 'binary';
      if (dataType === 'binary') return { kind: 'user', context, dataType, data: body };
      const data = decodeText(body, `the ${dataType} data`, malformed);
      if (dataType === 'json') decodeJson(body, 'the JSON data', malformed);
      return { kind: 'user', context, dataType, data };
    }
  }
}
