/**
 * The guards that run before any upstream body is parsed: the connection id, the signature (key mode; identity
 * mode checks the bearer token before these, see bearer.ts), the hub, and the
 * body size (declared, then actual). Each failure is a catalogued {@link UpstreamError}.
 * See docs/architecture.md, "The upstream contract".
 */
import type { HttpRequest } from '@azure/functions';
import { readStreamWithin } from '../capped-read.js';
import { UPSTREAM_HEADERS, verifySignature } from '../signalr/index.js';
import { quoteValue, UpstreamError } from './errors.js';

/** What the guards establish about a call before its body is read. */
export interface VerifiedCall {
  readonly connectionId: string;
  readonly hub: string;
}

/**
 * Checks that the call names a connection, is signed with one of `accessKeys`, and is for `expectedHub`
 * (when given). The signature covers only the connection id (that is the service's protocol), so it is
 * checked before anything else in the request is trusted. `accessKeys` is `null` when the call was
 * authenticated otherwise (identity mode's bearer token, checked first): then no signature is read.
 */
export function verifyCall(
  request: HttpRequest,
  accessKeys: readonly string[] | null,
  expectedHub: string | undefined,
): VerifiedCall {
  const connectionId = request.headers.get(UPSTREAM_HEADERS.connectionId)?.trim();
  if (!connectionId) throw new UpstreamError('missing-connection-id');

  if (accessKeys !== null) {
    // An empty key would make the HMAC computable by anyone, so it never counts as configured.
    const keys = accessKeys.filter((key) => key.length > 0);
    if (keys.length === 0) throw new UpstreamError('no-access-keys');
    const signature = request.headers.get(UPSTREAM_HEADERS.signature);
    if (!signature?.trim()) throw new UpstreamError('missing-signature');
    if (!verifySignature(signature, connectionId, keys)) throw new UpstreamError('bad-signature');
  }

  const hub = request.headers.get(UPSTREAM_HEADERS.hub)?.trim();
  if (!hub) throw new UpstreamError('missing-hub');
  // The service treats hub names case-insensitively, so a template may send `Chat` for `chat`.
  if (expectedHub !== undefined && hub.toLowerCase() !== expectedHub.toLowerCase()) {
    throw new UpstreamError('wrong-hub', `expected ${quoteValue(expectedHub)}, got ${quoteValue(hub)}`);
  }
  return { connectionId, hub };
}

/** Rejects a call whose declared `Content-Length` exceeds `maxBodyBytes`, before reading a byte of it. */
export function checkDeclaredLength(request: HttpRequest, maxBodyBytes: number): void {
  const declared = request.headers.get('content-length')?.trim();
  // A malformed value is left to the actual count below: it is the count that protects memory.
  if (declared && /^\d+$/.test(declared) && Number(declared) > maxBodyBytes) {
    throw new UpstreamError(
      'payload-too-large',
      `Content-Length ${declared} exceeds the limit of ${maxBodyBytes} bytes`,
    );
  }
}

/**
 * Reads the whole body once, counting bytes as they arrive and stopping as soon as the count passes
 * `maxBodyBytes` (a missing or lying `Content-Length` cannot make it buffer more than the limit).
 */
export async function readBodyWithin(request: HttpRequest, maxBodyBytes: number): Promise<Uint8Array> {
  const body = await readStreamWithin(request.body, maxBodyBytes);
  if (body === undefined) {
    throw new UpstreamError('payload-too-large', `the body exceeds the limit of ${maxBodyBytes} bytes`);
  }
  return body;
}
