/**
 * One invocation on the built-in Functions host: a `node:http` request becomes the `@azure/functions`
 * `HttpRequest` and `InvocationContext` a handler gets, and what the handler returns (`HttpResponse`,
 * `HttpResponseInit` or nothing) is written back, cookies and repeated headers included.
 * See docs/architecture.md, "The local stack".
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type {
  Cookie,
  HttpRequest as HttpRequestType,
  HttpResponseInit,
  InvocationContext as InvocationContextType,
  LogLevel,
} from '@azure/functions';
import azureFunctions from '@azure/functions';
import type { RouteDefinition } from '../../app/routes.js';
import { BodyTooLargeError } from '../http-body.js';
import { DeferredRequest } from './deferred-request.js';

const { HttpRequest, HttpResponse, InvocationContext } = azureFunctions;

/** What one invocation needs besides the request. */
export interface Invocation {
  readonly definition: RouteDefinition;
  readonly params: Record<string, string>;
  /** The request body, read only if and when the handler reads it (capped by the host: see ../http-body.ts). */
  readonly body: AsyncIterable<Uint8Array>;
  /** The `Host` to put in the request URL when the client sent none. */
  readonly defaultHost: string;
  readonly log: (level: LogLevel, line: string) => void;
  /** The request headers the function sees, when something in front of it changed them (sign-in). */
  readonly headers?: Record<string, string>;
}

/**
 * Runs the route's handler for `req` and writes its result to `res`. A handler that throws is logged and
 * answered with a bare 500, as the Functions host does.
 */
export async function invoke(
  req: IncomingMessage,
  res: ServerResponse,
  invocation: Invocation,
): Promise<void> {
  const { definition, log } = invocation;
  const method = req.method ?? 'GET';
  // What the Functions library itself builds when HTTP streams are enabled: a fetch `Request` over the body
  // stream (GET and HEAD carry none), wrapped by `HttpRequest` with the route parameters. The headers are the
  // platform's when it stands in for App Service Authentication (`invocation.headers`).
  const hasBody = method !== 'GET' && method !== 'HEAD';
  // A `Request` itself is made only if the handler reads the body as a whole (deferred-request.ts).
  const nativeRequest = new DeferredRequest(
    `http://${req.headers.host ?? invocation.defaultHost}${req.url ?? '/'}`,
    method,
    new Headers(invocation.headers ?? headerRecord(req)),
    hasBody ? invocation.body : undefined,
  );
  const request = new HttpRequest({
    nativeRequest,
    params: invocation.params,
  } as unknown as ConstructorParameters<typeof HttpRequest>[0]);
  const invocationId = randomUUID();
  const context = new InvocationContext({
    invocationId,
    functionName: definition.name,
    logHandler: (level, ...args) => log(level, `[${definition.name}] ${args.map(formatArg).join(' ')}`),
    options: {
      trigger: {
        type: 'httpTrigger',
        name: 'httpTrigger',
        methods: definition.methods,
        authLevel: definition.authLevel,
        route: definition.route,
      },
      extraInputs: [],
      extraOutputs: [],
    },
  });
  let result: unknown;
  try {
    result = await definition.handler(request as HttpRequestType, context as InvocationContextType);
  } catch (error) {
    if (isBodyTooLarge(error)) return sendText(res, 413, (error as Error).message);
    // As the Functions host does: the error is logged, the caller gets a bare 500 without details.
    context.error(`Executed '${definition.name}' (Failed, Id=${invocationId}):`, error);
    return sendText(res, 500, 'Internal Server Error');
  }
  // A body the handler did not read is not drained through this connection: it closes after the response.
  if (!req.complete) res.shouldKeepAlive = false;
  await writeResult(res, req.method === 'HEAD', result);
}

/** Whether a handler failed because the body passed the host's limit (the stream's error, maybe wrapped). */
function isBodyTooLarge(error: unknown): boolean {
  for (let e = error; e instanceof Error; e = e.cause) if (e instanceof BodyTooLargeError) return true;
  return false;
}

/** Answers with a plain-text body. */
export function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(text);
}

/** The request's headers as one string each (cookies joined with `; `, others with `, `). */
export function headerRecord(req: IncomingMessage): Record<string, string> {
  const record: Record<string, string> = {};
  for (const [name, values] of Object.entries(req.headersDistinct)) {
    if (!values) continue;
    record[name] = values.join(name === 'cookie' ? '; ' : ', ');
  }
  return record;
}

/** Writes what a handler returned: an `HttpResponse`, an `HttpResponseInit`, or nothing (204). */
async function writeResult(res: ServerResponse, isHead: boolean, result: unknown): Promise<void> {
  if (result === undefined || result === null) {
    res.writeHead(204);
    res.end();
    return;
  }
  if (writePlain(res, isHead, result)) return;
  const init = result instanceof HttpResponse ? undefined : (result as HttpResponseInit);
  const response = result instanceof HttpResponse ? result : new HttpResponse(init);
  const headers = new Map<string, string[]>();
  const add = (name: string, value: string) => {
    const key = name.toLowerCase();
    headers.set(key, [...(headers.get(key) ?? []), value]);
  };
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers.set(name, [value]);
  });
  for (const cookie of response.headers.getSetCookie()) add('set-cookie', cookie);
  // `Headers` folds repeated names into one comma-joined value; a handler that gave pairs gets them back as
  // separate header lines, exactly as written.
  if (Array.isArray(init?.headers)) {
    const repeated = new Map<string, string[]>();
    for (const [name, value] of init.headers as [string, string][]) {
      const key = name.toLowerCase();
      if (key === 'set-cookie') continue;
      repeated.set(key, [...(repeated.get(key) ?? []), value]);
    }
    for (const [key, values] of repeated) headers.set(key, values);
  }
  for (const cookie of response.cookies) add('set-cookie', serializeCookie(cookie));
  const body = Buffer.from(await response.arrayBuffer());
  for (const [name, values] of headers) res.setHeader(name, values.length === 1 ? values[0]! : values);
  res.statusCode = response.status;
  res.end(isHead ? undefined : body);
}

/**
 * The answers most calls get (every upstream call: a status, maybe a body with its content type; negotiate: a
 * `jsonBody`), written directly: what an `HttpResponse` of them would write, without building a fetch
 * `Response` and reading its body stream back. Anything else (cookies, a body without a content type, header
 * pairs, a body and a `jsonBody` together) returns false and takes the general path.
 */
function writePlain(res: ServerResponse, isHead: boolean, result: unknown): boolean {
  if (result instanceof HttpResponse || typeof result !== 'object') return false;
  const { status = 200, headers, body, jsonBody, ...rest } = result as HttpResponseInit;
  // What `Response` would refuse (a status out of range, a body on a null-body status) takes the general path.
  if (Object.keys(rest).length > 0 || typeof status !== 'number' || !(status >= 200 && status <= 599))
    return false;
  const empty = body === undefined || body === null;
  const json = jsonBody !== undefined && jsonBody !== null;
  const nullBodyStatus = status === 204 || status === 205 || status === 304;
  if ((!empty || json) && nullBodyStatus) return false;
  if (json && !empty) return false;
  if (
    headers !== undefined &&
    (Array.isArray(headers) || Object.getPrototypeOf(headers) !== Object.prototype)
  )
    return false;
  const record = (headers ?? {}) as Record<string, unknown>;
  // As `Headers` has them: lower-case names, values without surrounding white space, sorted by name.
  const lines = new Map<string, string>();
  for (const [name, value] of Object.entries(record)) {
    if (typeof value !== 'string') return false;
    const key = name.toLowerCase();
    if (lines.has(key)) return false; // `Headers` would join the values
    lines.set(key, value.replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, ''));
  }
  let payload: string | Uint8Array;
  if (json) {
    // As `HttpResponse` does: the JSON text (none for what JSON cannot say), typed unless the handler typed it.
    payload = JSON.stringify(jsonBody) ?? '';
    if (!lines.has('content-type')) lines.set('content-type', 'application/json');
  } else if (empty) payload = Buffer.alloc(0);
  else if (lines.has('content-type') && (typeof body === 'string' || body instanceof Uint8Array))
    payload = body;
  else return false;
  for (const name of [...lines.keys()].sort()) res.setHeader(name, lines.get(name) as string);
  res.statusCode = status;
  res.end(isHead ? undefined : payload);
  return true;
}

/** `Set-Cookie` per RFC 6265, from the `Cookie` objects of `@azure/functions`. */
function serializeCookie(cookie: Cookie): string {
  const parts = [`${cookie.name}=${cookie.value}`];
  if (cookie.domain) parts.push(`Domain=${cookie.domain}`);
  if (cookie.path) parts.push(`Path=${cookie.path}`);
  if (cookie.expires !== undefined) parts.push(`Expires=${new Date(cookie.expires).toUTCString()}`);
  if (cookie.maxAge !== undefined) parts.push(`Max-Age=${cookie.maxAge}`);
  if (cookie.secure) parts.push('Secure');
  if (cookie.httpOnly) parts.push('HttpOnly');
  if (cookie.sameSite) parts.push(`SameSite=${cookie.sameSite}`);
  return parts.join('; ');
}

function formatArg(arg: unknown): string {
  if (arg instanceof Error) return arg.stack ?? arg.message;
  if (typeof arg === 'string') return arg;
  try {
    return JSON.stringify(arg);
  } catch {
    return String(arg);
  }
}
