/**
 * Builders for upstream-dispatcher tests: real `HttpRequest`s signed with issue 2's known-answer signatures
 * (computed independently with Python's hmac, not by our code), and a real `InvocationContext` whose
 * `logHandler` records what the dispatcher logs.
 */
import type {
  HttpRequest as HttpRequestType,
  HttpResponseInit,
  InvocationContext as InvocationContextType,
} from '@azure/functions';
import azureFunctions from '@azure/functions';
import { DEV_ACCESS_KEY } from '../../src/local/dev-constants.js';

const { HttpRequest, InvocationContext } = azureFunctions;

/** The primary key of the app's upstream settings in tests: the development key. */
export const PRIMARY_KEY = DEV_ACCESS_KEY;
export const SECONDARY_KEY = 'ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvuts';

/** Issue 2's known answers: hex HMAC-SHA256 of the connection id under each key. */
export const KNOWN_SIGNATURES = {
  a1b2c3: {
    primary: '6cbae2c31f2e44f07a406ecefeb344276609293c3085a3cfc1eccafa331ae992',
    secondary: '9bda1d80ff0eb6e1d87e4845973a1bc07b31d7c84e7d12eb0d2c47eb08c6ccea',
  },
  'conn-01HZX5': {
    primary: 'b57a6180ae9ef3efae224a60729ee6b00791f36f36997dd2ec42e93caa52b508',
    secondary: '545441a717929d634ee8bbf6768dbd0708f04176379b6c9007348a6c739b8948',
  },
} as const;

export type KnownConnectionId = keyof typeof KNOWN_SIGNATURES;

export interface UpstreamRequestInit {
  /** Sent as `X-ASRS-Event` unless `eventInQuery`. */
  readonly event?: string;
  /** Send the event as `?event=` instead of the header. */
  readonly eventInQuery?: boolean;
  readonly category?: string;
  readonly hub?: string;
  readonly connectionId?: KnownConnectionId;
  /** The `X-ASRS-Signature` value; defaults to both known entries; `null` leaves the header out. */
  readonly signature?: string | null;
  readonly headers?: Record<string, string>;
  readonly body?: string | Uint8Array;
  /** Header names to leave out (e.g. `X-ASRS-Connection-Id`). */
  readonly omit?: readonly string[];
}

/** A signed upstream POST as the service sends it. */
export function upstreamRequest(init: UpstreamRequestInit = {}): HttpRequestType {
  const connectionId = init.connectionId ?? 'a1b2c3';
  const known = KNOWN_SIGNATURES[connectionId];
  const signature =
    init.signature === undefined ? `sha256=${known.primary},sha256=${known.secondary}` : init.signature;
  const headers: Record<string, string> = {
    'X-ASRS-Hub': init.hub ?? 'chat',
    'X-ASRS-Connection-Id': connectionId,
  };
  if (signature !== null) headers['X-ASRS-Signature'] = signature;
  if (init.category !== undefined) headers['X-ASRS-Category'] = init.category;
  if (init.event !== undefined && !init.eventInQuery) headers['X-ASRS-Event'] = init.event;
  const query =
    init.event !== undefined && init.eventInQuery ? `?event=${encodeURIComponent(init.event)}` : '';
  const body =
    init.body === undefined
      ? undefined
      : typeof init.body === 'string'
        ? { string: init.body }
        : { bytes: init.body };
  const allHeaders: Record<string, string> = { ...headers, ...init.headers };
  for (const name of init.omit ?? []) delete allHeaders[name];
  return new HttpRequest({
    method: 'POST',
    url: `http://localhost:7071/api/messages${query}`,
    headers: allHeaders,
    ...(body ? { body } : {}),
  });
}

export interface LogEntry {
  readonly level: string;
  readonly message: string;
}

/** A real InvocationContext whose log lines are captured instead of printed. */
export function capturingContext(): { context: InvocationContextType; logs: LogEntry[] } {
  const logs: LogEntry[] = [];
  const context = new InvocationContext({
    invocationId: 'test-invocation',
    functionName: 'messages',
    logHandler: (level, ...args) => logs.push({ level, message: args.map(String).join(' ') }),
  });
  return { context, logs };
}

/** The response headers as a `Headers` (case-insensitive lookups). */
export function responseHeaders(response: HttpResponseInit): Headers {
  return new Headers(response.headers as Record<string, string> | undefined);
}

/** The response body as text (empty when there is none). */
export function responseText(response: HttpResponseInit): string {
  const { body } = response;
  if (body === undefined || body === null) return '';
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return new TextDecoder().decode(body);
  throw new Error(`unexpected body type in test: ${Object.prototype.toString.call(body)}`);
}
