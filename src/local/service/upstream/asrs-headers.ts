/**
 * The `X-ASRS-*` headers of Azure SignalR's upstream, which both of today's wings send through their codecs
 * (docs/local-service.md, "Upstream calls").
 */
import { signatureHeader } from '../../../lib/signalr/signature.js';
import { UPSTREAM_HEADERS } from '../../../lib/signalr/upstream-contract.js';
import type { UpstreamCall } from './call.js';

/** A call as the header writers read it (any codec). */
type CallFields = Omit<UpstreamCall, 'codec'>;

/**
 * The request headers of a call. `X-ASRS-Signature` is sent when the service has access keys (key mode); with
 * local auth disabled there are none to sign with, so identity mode sends none. `signature` is the
 * connection's signature when already computed.
 */
export function upstreamHeaders(
  call: CallFields,
  accessKeys: readonly string[],
  signature?: string,
): Record<string, string> {
  const headers: Record<string, string> = {
    [UPSTREAM_HEADERS.hub]: call.hub,
    [UPSTREAM_HEADERS.category]: call.category,
    [UPSTREAM_HEADERS.event]: call.event,
    [UPSTREAM_HEADERS.connectionId]: call.connectionId,
  };
  if (accessKeys.length > 0)
    headers[UPSTREAM_HEADERS.signature] = signature ?? signatureHeader(accessKeys, call.connectionId);
  addIdentityHeaders(headers, call);
  addCallHeaders(headers, call);
  return headers;
}

/** The user, claims and client query headers: the same on every call of a connection. */
function addIdentityHeaders(headers: Record<string, string>, call: CallFields): void {
  if (call.userId !== undefined) headers[UPSTREAM_HEADERS.userId] = call.userId;
  if (call.claims && call.claims.length > 0) {
    headers[UPSTREAM_HEADERS.userClaims] = call.claims.map(([type, value]) => `${type}: ${value}`).join(', ');
  }
  if (call.clientQuery) headers[UPSTREAM_HEADERS.clientQuery] = call.clientQuery;
}

function addCallHeaders(headers: Record<string, string>, call: CallFields): void {
  if (call.subprotocols && call.subprotocols.length > 0) {
    headers['Sec-WebSocket-Protocol'] = call.subprotocols.join(', ');
  }
  if (call.contentType) headers['Content-Type'] = call.contentType;
}

/** The connection's headers: hub, id, signature (when signing), user, claims and client query. */
export function asrsConnectionHeaders(
  call: CallFields,
  signature: string | undefined,
): Record<string, string> {
  const headers: Record<string, string> = {
    [UPSTREAM_HEADERS.hub]: call.hub,
    [UPSTREAM_HEADERS.connectionId]: call.connectionId,
  };
  if (signature !== undefined) headers[UPSTREAM_HEADERS.signature] = signature;
  addIdentityHeaders(headers, call);
  return headers;
}

/** One call's headers: category, event, the offered subprotocols and the content type. */
export function asrsCallHeaders(call: CallFields): Record<string, string> {
  const headers: Record<string, string> = {
    [UPSTREAM_HEADERS.category]: call.category,
    [UPSTREAM_HEADERS.event]: call.event,
  };
  addCallHeaders(headers, call);
  return headers;
}
