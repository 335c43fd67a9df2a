/**
 * The response objects handlers answer with (`accept` / `success` / `fail`), and the encoding of their
 * bodies. Each object records exactly one answer; a second answer, or an argument the protocol cannot
 * carry, is a programming error and throws a `TypeError` at the call that made it.
 * See docs/architecture.md, "The upstream contract".
 */
import type { HttpResponseInit } from '@azure/functions';
import type { HubProtocolName } from '../signalr/index.js';
import { UPSTREAM_HEADERS, writeCompletion } from '../signalr/index.js';
import type {
  ConnectAcceptance,
  ConnectFailStatus,
  ConnectResponse,
  FailStatus,
  InvocationResponse,
  MessageResponse,
  ResponseBody,
} from './events.js';

const CONNECT_FAIL_STATUSES: ReadonlySet<number> = new Set<ConnectFailStatus>([400, 401, 403]);
const FAIL_STATUSES: ReadonlySet<number> = new Set<FailStatus>([400, 401, 403, 404, 409, 429, 500, 503]);

const TEXT = 'text/plain; charset=utf-8';
const BYTES = 'application/octet-stream';
const JSON_TYPE = 'application/json; charset=utf-8';

/** A response object together with the answer it recorded, if any. */
export interface Answerable<R> {
  readonly response: R;
  /** The recorded answer; undefined while the handler has not answered. */
  answer(): HttpResponseInit | undefined;
}

/**
 * Encodes a handler's body: strings as UTF-8 text, bytes as they are, anything else as JSON. Undefined means
 * no body. A value `JSON.stringify` cannot represent is a `TypeError`.
 */
export function encodeBody(
  body: ResponseBody | undefined,
): { body: string | Uint8Array; contentType: string } | undefined {
  if (body === undefined) return undefined;
  if (typeof body === 'string') return { body, contentType: TEXT };
  if (body instanceof Uint8Array) return { body, contentType: BYTES };
  if (body instanceof ArrayBuffer) return { body: new Uint8Array(body), contentType: BYTES };
  return { body: toJson(body), contentType: JSON_TYPE };
}

function toJson(value: unknown): string {
  // JSON.stringify throws on cycles and BigInt and returns undefined for functions and symbols.
  const json = JSON.stringify(value);
  if (json === undefined) throw new TypeError(`A ${typeof value} cannot be sent as a JSON body`);
  return json;
}

/** 200 with the body and its type, or 204 without one. */
function successResponse(
  encoded: ReturnType<typeof encodeBody>,
  headers: Record<string, string> = {},
): HttpResponseInit {
  if (!encoded || encoded.body.length === 0) {
    return Object.keys(headers).length > 0 ? { status: 204, headers } : { status: 204 };
  }
  return { status: 200, headers: { ...headers, 'Content-Type': encoded.contentType }, body: encoded.body };
}

/** `setState` on a call from Azure SignalR, whose upstream has no connection state. */
function noConnectionState(): never {
  throw new TypeError('setState() is for Web PubSub calls: the SignalR upstream has no connection state');
}

/** A handler's refusal: the status and the reason as text (the service passes it on to the client). */
function failResponse(status: number, reason: string, allowed: ReadonlySet<number>): HttpResponseInit {
  if (!allowed.has(status)) {
    throw new TypeError(`fail() takes one of the statuses ${[...allowed].join(', ')}; got ${String(status)}`);
  }
  if (typeof reason !== 'string') throw new TypeError('fail() needs a reason string');
  return { status, headers: { 'Content-Type': TEXT }, body: reason };
}

/** One answer per request: the slot every response object writes through. */
export function answerSlot(): { set(response: HttpResponseInit): void; get(): HttpResponseInit | undefined } {
  let recorded: HttpResponseInit | undefined;
  return {
    set(response) {
      if (recorded) throw new TypeError('The upstream call has already been answered; answer it once');
      recorded = response;
    },
    get: () => recorded,
  };
}

// A user id travels as a response header. Kestrel (the Functions host) refuses non-ASCII and control
// characters in response headers by default and HTTP trims outer whitespace, so the id is checked here,
// where the mistake is made, rather than failing later when the host writes the response.
const HEADER_SAFE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

/**
 * The response object of a websocket-dialect connect. `accept()` sets `X-ASRS-User-Id` and
 * `Sec-WebSocket-Protocol`; a subprotocol the client did not offer is refused with a `TypeError` at
 * `accept()` (the handshake would otherwise fail on the client with no explanation).
 *
 * `knownUserId` is the user the service already sent (`X-ASRS-User-Id` of the request, from the client's
 * token). Accepting with that same user sends no header: the service keeps it anyway, and a name outside
 * printable ASCII (which a response header cannot carry through the Functions host) still works.
 */
export function connectResponse(
  offered: readonly string[],
  knownUserId?: string,
): Answerable<ConnectResponse> {
  const slot = answerSlot();
  return {
    response: {
      setState: noConnectionState,
      accept(acceptance: ConnectAcceptance = {}) {
        if (acceptance.groups !== undefined || acceptance.roles !== undefined) {
          throw new TypeError(
            'accept({ groups, roles }) is for Web PubSub calls: the SignalR upstream cannot carry them',
          );
        }
        const headers: Record<string, string> = {};
        const { userId, subprotocol } = acceptance;
        if (userId !== undefined && userId !== knownUserId) {
          if (typeof userId !== 'string' || !HEADER_SAFE.test(userId)) {
            throw new TypeError(
              'accept({ userId }) needs a non-empty string of printable ASCII without outer spaces (it is sent as the X-ASRS-User-Id header)',
            );
          }
          headers[UPSTREAM_HEADERS.userId] = userId;
        }
        if (subprotocol !== undefined) {
          if (!offered.includes(subprotocol)) {
            throw new TypeError(
              `accept({ subprotocol }) must choose one the client offered (${offered.length ? offered.join(', ') : 'none'}); got ${JSON.stringify(subprotocol)}`,
            );
          }
          headers['Sec-WebSocket-Protocol'] = subprotocol;
        }
        slot.set(successResponse(encodeBody(acceptance.body), headers));
      },
      fail(status, reason) {
        slot.set(failResponse(status, reason, CONNECT_FAIL_STATUSES));
      },
    },
    answer: slot.get,
  };
}

/** The response object of a websocket-dialect message. */
export function messageResponse(): Answerable<MessageResponse> {
  const slot = answerSlot();
  return {
    response: {
      setState: noConnectionState,
      success(body) {
        slot.set(successResponse(encodeBody(body)));
      },
      fail(status, reason) {
        slot.set(failResponse(status, reason, FAIL_STATUSES));
      },
    },
    answer: slot.get,
  };
}

/**
 * The response object of a signalr-dialect invocation (see {@link InvocationResponse}). Azure writes a 200
 * body to the client verbatim, so a waiting client gets the Completion framed here, in its protocol, with no
 * `Content-Type` (as the Functions SignalR extension answers).
 */
export function invocationResponse(
  protocol: HubProtocolName,
  invocationId: string | undefined,
): Answerable<InvocationResponse> {
  const slot = answerSlot();
  return {
    response: {
      success(result) {
        if (invocationId === undefined) return slot.set({ status: 200 });
        if (result !== undefined) toJson(result); // the same TypeError for what no protocol can carry
        slot.set({ status: 200, body: writeCompletion(protocol, invocationId, { result }) });
      },
      fail(status, reason) {
        const refusal = failResponse(status, reason, FAIL_STATUSES);
        if (invocationId === undefined) return slot.set(refusal);
        slot.set({ status: 200, body: writeCompletion(protocol, invocationId, { error: reason }) });
      },
    },
    answer: slot.get,
  };
}

/** The answer when no handler is registered for an event: an empty 2xx. */
export function emptyResponse(): HttpResponseInit {
  return { status: 204 };
}
