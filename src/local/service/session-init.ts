/**
 * What a connection is known by upstream, fixed when it is accepted: its id, hub, the token's user and claims, and
 * the client's query string; every upstream call about it carries them (docs/local-service.md, "Connections").
 */
import type { JWTPayload } from 'jose';
import type { UpstreamCategory } from '../../lib/signalr/upstream-contract.js';
import { forwardedClaims, tokenUserId } from './auth/tokens.js';
import type { UpstreamCall, UpstreamCodec } from './upstream/call.js';

/** Identity and request details of a connection, fixed when it is accepted. */
export interface SessionInit {
  readonly id: string;
  readonly hub: string;
  readonly userId: string | undefined;
  readonly claims: ReadonlyArray<readonly [string, string]>;
  readonly clientQuery: string;
}

/** The client's query string for `X-ASRS-Client-Query`: everything but the token (and SignalR's `id`). */
function forwardedQuery(url: URL): string {
  const params = new URLSearchParams(url.search);
  params.delete('access_token');
  params.delete('id');
  return params.size > 0 ? `?${params}` : '';
}

/** What a connection is known by upstream: its id, hub, the token's user and claims, and the client's query. */
export function sessionInit(id: string, hub: string, token: JWTPayload | undefined, url: URL): SessionInit {
  return {
    id,
    hub,
    userId: tokenUserId(token),
    claims: forwardedClaims(token),
    clientQuery: forwardedQuery(url),
  };
}

/** An upstream call about a connection: its identity travels in the `X-ASRS-*` headers of every call. */
export function upstreamCallOf(
  connection: SessionInit,
  codec: UpstreamCodec,
  category: UpstreamCategory,
  event: string,
  extra: Pick<UpstreamCall, 'body' | 'contentType' | 'subprotocols' | 'lane'> = {},
): UpstreamCall {
  return {
    codec,
    hub: connection.hub,
    category,
    event,
    connectionId: connection.id,
    ...(connection.userId !== undefined ? { userId: connection.userId } : {}),
    claims: connection.claims,
    clientQuery: connection.clientQuery,
    ...extra,
  };
}
