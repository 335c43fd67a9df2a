/**
 * The app's answers to Web PubSub event handler calls, as HTTP: a connect accepted (`204`, or `200` with
 * `{userId, groups, subprotocol, roles}`) or refused (its status and reason), a user event answered (`204`, or
 * `200` whose `Content-Type` says which frame the client gets), and on a blocking event's answer the new
 * `ce-connectionState` when the app changed it. An argument the protocol cannot carry is a `TypeError`.
 */
import { encodeConnectionState } from './parse.js';
import {
  CLOUD_EVENTS_HEADERS as CE,
  CLOUD_EVENT_CONTENT_TYPES,
  type CloudEventAnswer,
  type CloudEventDataType,
  type ConnectAnswerBody,
  type ConnectionStates,
  type ConnectRefusalStatus,
} from './protocol.js';

const REFUSAL_STATUSES: ReadonlySet<number> = new Set<ConnectRefusalStatus>([400, 401, 403, 500]);

function stateHeader(states: ConnectionStates | undefined): Record<string, string> {
  return states === undefined ? {} : { [CE.connectionState]: encodeConnectionState(states) };
}

function checkNames(name: string, value: unknown): void {
  if (value === undefined) return;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string' && item !== '')) {
    throw new TypeError(`The connect answer's ${name} must be an array of non-empty strings`);
  }
}

/**
 * A connect accepted. `offered` are the subprotocols the client offered: the answer may pick one of them only
 * (the handshake would fail on the client otherwise). `states` is the connection's new state, when changed.
 */
export function connectAccepted(
  answer: ConnectAnswerBody,
  offered: readonly string[],
  states?: ConnectionStates,
): CloudEventAnswer {
  const { userId, groups, subprotocol, roles } = answer;
  if (userId !== undefined && (typeof userId !== 'string' || userId.trim() === '')) {
    throw new TypeError("The connect answer's userId must be a non-empty string");
  }
  checkNames('groups', groups);
  checkNames('roles', roles);
  if (subprotocol !== undefined && !offered.includes(subprotocol)) {
    throw new TypeError(
      `The connect answer must choose a subprotocol the client offered (${offered.length ? offered.join(', ') : 'none'}); got ${JSON.stringify(subprotocol)}`,
    );
  }
  const body: ConnectAnswerBody = {
    ...(userId !== undefined ? { userId } : {}),
    ...(groups !== undefined ? { groups } : {}),
    ...(subprotocol !== undefined ? { subprotocol } : {}),
    ...(roles !== undefined ? { roles } : {}),
  };
  const headers = stateHeader(states);
  if (Object.keys(body).length === 0) return { status: 204, headers };
  return {
    status: 200,
    headers: { ...headers, 'Content-Type': `${CLOUD_EVENT_CONTENT_TYPES.json}; charset=utf-8` },
    body: JSON.stringify(body),
  };
}

/** A connect refused: the service answers the client's handshake with this status. */
export function connectRefused(status: ConnectRefusalStatus, reason: string): CloudEventAnswer {
  if (!REFUSAL_STATUSES.has(status)) {
    throw new TypeError(
      `A connect is refused with one of ${[...REFUSAL_STATUSES].join(', ')}; got ${String(status)}`,
    );
  }
  if (typeof reason !== 'string') throw new TypeError('A refusal needs a reason string');
  return {
    status,
    headers: { 'Content-Type': `${CLOUD_EVENT_CONTENT_TYPES.text}; charset=utf-8` },
    body: reason,
  };
}

/** What a user event's answer sends back to the caller. */
export interface UserEventReply {
  readonly dataType: CloudEventDataType;
  /** Text for `text` and `json` (the JSON text), bytes for `binary`. */
  readonly data: string | Uint8Array;
}

/** A user event answered: `200` with the reply (its `Content-Type` picks the client's frame), or `204` without. */
export function userEventAnswered(
  reply: UserEventReply | undefined,
  states?: ConnectionStates,
): CloudEventAnswer {
  const headers = stateHeader(states);
  if (reply === undefined) return { status: 204, headers };
  const type = CLOUD_EVENT_CONTENT_TYPES[reply.dataType];
  if (type === undefined)
    throw new TypeError(`A reply's dataType is text, json or binary; got ${String(reply.dataType)}`);
  const charset = reply.dataType === 'binary' ? '' : '; charset=utf-8';
  return { status: 200, headers: { ...headers, 'Content-Type': `${type}${charset}` }, body: reply.data };
}

/** A user event failed: the service drops the connection. */
export function userEventFailed(status: number, reason: string): CloudEventAnswer {
  if (!Number.isInteger(status) || status < 400 || status > 599) {
    throw new TypeError(`A failed user event answers an error status (4xx or 5xx); got ${String(status)}`);
  }
  return {
    status,
    headers: { 'Content-Type': `${CLOUD_EVENT_CONTENT_TYPES.text}; charset=utf-8` },
    body: reason,
  };
}
