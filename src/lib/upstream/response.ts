/**
 * The response objects handlers answer with (`accept` / `success` / `fail`), and the encoding of their
 * bodies. Each object records exactly one answer; a second answer, or an argument the protocol cannot
 * carry, is a programming error and throws a `TypeError` at the call that made it.
 * See docs/architecture.md, "The upstream contract".
 */
import type { HttpResponseInit } from '@azure/functions';
import type { HubProtocolName } from '../signalr/index.js';
import { writeCompletion } from '../signalr/index.js';
import type { FailStatus, InvocationResponse, ResponseBody } from './events.js';

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

/**
 * The response object of an invocation (see {@link InvocationResponse}). Azure writes a 200
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
