/**
 * Web PubSub event handler calls for dispatcher tests, built as Learn's "CloudEvents extension for Azure Web
 * PubSub" shows them (with the `ce-awpsversion` Azure adds), signed with the known-answer signatures of
 * support/upstream.ts; and Microsoft's `@azure/web-pubsub-express` handler run on the same call, as the oracle.
 */
import { Readable } from 'node:stream';
import type { HttpRequest as HttpRequestType } from '@azure/functions';
import azureFunctions from '@azure/functions';
import { WebPubSubEventHandler, type WebPubSubEventHandlerOptions } from '@azure/web-pubsub-express';
import { KNOWN_SIGNATURES } from './upstream.js';

const { HttpRequest } = azureFunctions;

/** The service host of these calls. */
export const SERVICE_ORIGIN = 'xxx.webpubsub.azure.com';

export interface CloudEventInit {
  /** `ce-type`. */
  readonly type: string;
  readonly eventName: string;
  readonly hub?: string;
  readonly userId?: string;
  readonly subprotocol?: string;
  readonly connectionState?: string;
  readonly contentType?: string;
  readonly body?: string | Uint8Array;
  /** The `ce-signature`; both known entries by default; `null` leaves it out. */
  readonly signature?: string | null;
  readonly method?: 'POST' | 'OPTIONS';
  readonly headers?: Readonly<Record<string, string>>;
}

/** The headers of one call, as Learn's examples list them. */
export function cloudEventHeaders(init: CloudEventInit): Record<string, string> {
  const known = KNOWN_SIGNATURES.a1b2c3;
  const signature =
    init.signature === undefined ? `sha256=${known.primary},sha256=${known.secondary}` : init.signature;
  const headers: Record<string, string> = {
    'WebHook-Request-Origin': SERVICE_ORIGIN,
    'Content-Type': init.contentType ?? 'application/json; charset=utf-8',
    'ce-specversion': '1.0',
    'ce-type': init.type,
    'ce-source': '/hubs/chat/client/a1b2c3',
    'ce-id': '7',
    'ce-time': '2021-01-01T00:00:00Z',
    'ce-awpsversion': '1.0',
    'ce-connectionId': 'a1b2c3',
    'ce-hub': init.hub ?? 'chat',
    'ce-eventName': init.eventName,
  };
  if (signature !== null) headers['ce-signature'] = signature;
  if (init.userId !== undefined) headers['ce-userId'] = init.userId;
  if (init.subprotocol !== undefined) headers['ce-subprotocol'] = init.subprotocol;
  if (init.connectionState !== undefined) headers['ce-connectionState'] = init.connectionState;
  return { ...headers, ...init.headers };
}

/** The call as the Functions request our dispatcher takes. */
export function cloudEventRequest(init: CloudEventInit): HttpRequestType {
  const body =
    init.body === undefined
      ? undefined
      : typeof init.body === 'string'
        ? { string: init.body }
        : { bytes: init.body };
  return new HttpRequest({
    method: init.method ?? 'POST',
    url: 'http://localhost:7071/api/messages',
    headers: cloudEventHeaders(init),
    ...(body ? { body } : {}),
  });
}

/** What Microsoft's handler answered, or `handled: false` when it passed the call on (`next()`). */
export interface ExpressOutcome {
  readonly handled: boolean;
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer;
}

/**
 * Runs `@azure/web-pubsub-express`'s middleware on the same call: a readable request with the call's headers
 * (lower-case, as Node gives them) and body, on the handler's default path, and a response that records what
 * the handler writes.
 */
export async function runExpressHandler(
  init: CloudEventInit,
  options: WebPubSubEventHandlerOptions,
): Promise<ExpressOutcome> {
  const handler = new WebPubSubEventHandler(init.hub ?? 'chat', options);
  const headers = Object.fromEntries(
    Object.entries(cloudEventHeaders(init)).map(([name, value]) => [name.toLowerCase(), value]),
  );
  const bytes = init.body === undefined ? [] : [Buffer.from(init.body)];
  const req = Object.assign(Readable.from(bytes), {
    headers,
    method: init.method ?? 'POST',
    baseUrl: '',
    path: `/api/webpubsub/hubs/${init.hub ?? 'chat'}/`,
  });
  return new Promise<ExpressOutcome>((resolve, reject) => {
    const written: Record<string, string | string[]> = {};
    const res = {
      statusCode: 200,
      setHeader(name: string, value: string | string[]) {
        written[name.toLowerCase()] = value;
      },
      end(chunk?: string | Uint8Array) {
        resolve({
          handled: true,
          status: res.statusCode,
          headers: written,
          body: chunk === undefined ? Buffer.alloc(0) : Buffer.from(chunk),
        });
      },
    };
    const next = (error?: unknown) =>
      error ? reject(error) : resolve({ handled: false, status: 0, headers: {}, body: Buffer.alloc(0) });
    handler
      .getMiddleware()(req as never, res as never, next)
      .catch(reject);
  });
}
