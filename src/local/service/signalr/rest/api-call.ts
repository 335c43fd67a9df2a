/**
 * What every operation of the SignalR wing's REST API gets, and the readers of its parameters and body
 * (docs/local-service.md, "The REST API").
 */
import type { IncomingMessage } from 'node:http';
import type { HubRegistry, OutboundMessage } from '../../connections.js';
import type { ServiceContext } from '../../context.js';
import { Rejection } from '../../errors.js';
import { readBody } from '../../http.js';

/** What a handler gets. */
export interface ApiCall {
  readonly ctx: ServiceContext;
  readonly registry: HubRegistry;
  readonly params: Readonly<Record<string, string>>;
  readonly req: IncomingMessage;
  readonly url: URL;
}

/** A path parameter the route captured. */
export function p(call: ApiCall, name: string): string {
  return call.params[name] as string;
}

/** The `reason` query (empty when absent). */
export function reason(call: ApiCall): string {
  return call.url.searchParams.get('reason') ?? '';
}

const PAYLOAD_USAGE = 'send {"target":"…","arguments":[…]}';

/**
 * Reads a `PayloadMessage`: `application/json` (the controller's `Consumes`), `target` a non-empty string and
 * `arguments` an array or absent. Property names match case-insensitively, as the emulator's JSON binding
 * does (v1's spec spells them `Target`/`Arguments`).
 */
export async function readPayload(call: ApiCall): Promise<OutboundMessage> {
  const value = await readJsonBody(call, PAYLOAD_USAGE, 'Message in request body is required');
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Rejection('invalid-request', `The body is not a JSON object: ${PAYLOAD_USAGE}`);
  }
  return payloadOf(value, '');
}

/** The body as JSON: `application/json` (415 otherwise), not empty, valid (400 with `usage` otherwise). */
export async function readJsonBody(call: ApiCall, usage: string, emptyMessage: string): Promise<unknown> {
  const contentType = call.req.headers['content-type'];
  if (contentType !== undefined && contentType.split(';')[0]?.trim().toLowerCase() !== 'application/json') {
    throw new Rejection(
      'unsupported-media-type',
      `Content-Type ${contentType} is not supported: send the body as application/json`,
    );
  }
  const body = await readBody(call.req, call.ctx.options.maxMessageBytes);
  if (body.length === 0) throw new Rejection('invalid-request', `${emptyMessage}: ${usage}`);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new Rejection('invalid-request', `The body is not valid JSON: ${usage}`);
  }
}

/** A `PayloadMessage` from a parsed object; `where` names it in messages (e.g. a command of `:execute`). */
export function payloadOf(value: object, where: string): OutboundMessage {
  const target = property(value, 'target');
  const args = property(value, 'arguments');
  if (typeof target !== 'string' || target === '') {
    throw new Rejection('invalid-request', `The ${where}body needs a non-empty "target": ${PAYLOAD_USAGE}`);
  }
  if (args !== undefined && args !== null && !Array.isArray(args)) {
    throw new Rejection('invalid-request', `The ${where}body's "arguments" must be an array`);
  }
  return { kind: 'invocation', target, arguments: args ?? [] };
}

/** A property by exact name, else the first whose name matches ignoring case. */
export function property(object: object, name: string): unknown {
  const record = object as Record<string, unknown>;
  if (Object.hasOwn(record, name)) return record[name];
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : record[key];
}
