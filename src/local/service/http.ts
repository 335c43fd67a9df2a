/**
 * HTTP plumbing shared by the wings and the REST API: a capped body reader, JSON responses, CORS headers,
 * and raw handshake rejections (a rejected upgrade has no `ServerResponse`, only a socket)
 * (docs/local-service.md, "Wings").
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { BodyTooLargeError, readCappedBody } from '../http-body.js';
import { Rejection } from './errors.js';

/** Reads the request body; more than `maxBytes` is a 413 that names the option (see http-body.ts). */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  try {
    return await readCappedBody(req, maxBytes);
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) throw error;
    throw new Rejection(
      'payload-too-large',
      `The request body is larger than the service's limit of ${maxBytes} bytes (maxMessageBytes)`,
    );
  }
}

/** Sends a JSON response. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

/** Sends an empty response. */
export function sendEmpty(
  res: ServerResponse,
  status: number,
  headers: Readonly<Record<string, string>> = {},
): void {
  res.writeHead(status, { ...headers, 'Content-Length': 0 });
  res.end();
}

/** Sends a rejection as `{"code","message"}`. */
export function sendRejection(res: ServerResponse, rejection: Rejection): void {
  sendJson(res, rejection.status, rejection.toJSON(), rejection.headers);
}

/**
 * Answers a WebSocket upgrade request with an ordinary HTTP response and closes the socket: this is how a
 * refused handshake reaches the client (status, content type and body of the upstream, or our JSON reason).
 */
export function rejectUpgrade(
  socket: Duplex,
  status: number,
  body: Buffer | string,
  contentType = 'application/json; charset=utf-8',
  headers: Readonly<Record<string, string>> = {},
): void {
  if (socket.destroyed) return;
  const payload = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Connection: close',
    `Content-Length: ${payload.length}`,
    ...(payload.length > 0 ? [`Content-Type: ${contentType}`] : []),
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.end(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), payload]));
}

/** Refuses an upgrade with a {@link Rejection}'s JSON body. */
export function rejectUpgradeWith(socket: Duplex, rejection: Rejection): void {
  rejectUpgrade(socket, rejection.status, JSON.stringify(rejection.toJSON()), undefined, rejection.headers);
}

/** The CORS answer headers for a request from another origin (none without an `Origin`). */
export function corsHeaders(req: IncomingMessage): Record<string, string> {
  const origin = req.headers.origin;
  if (!origin) return {};
  return {
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Allow-Credentials': 'true',
    Vary: 'Origin',
  };
}
