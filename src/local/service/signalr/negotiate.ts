/**
 * SignalR negotiate: `POST /client/negotiate?hub=…&negotiateVersion=1`, and the client tokens of the wing's
 * endpoints (docs/local-service.md, "The SignalR wing").
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JWTPayload } from 'jose';
import { setBounded } from '../../../lib/bounded-map.js';
import { acceptedOrigins, authenticate, requestToken, tokenUserId } from '../auth/tokens.js';
import { checkHubName } from '../connections.js';
import { Rejection } from '../errors.js';
import { sendJson } from '../http.js';
import { randomConnectionId } from '../options.js';
import type { PendingNegotiation, SignalRContext } from './state.js';

export function hubOf(url: URL): string {
  return checkHubName(url.searchParams.get('hub'), '?hub=chat');
}

/** Checks a client token: `aud` must be `{endpoint}/client/?hub={hub}` (see auth/tokens.ts for the endpoint). */
export async function authenticateClient(
  ctx: SignalRContext,
  req: IncomingMessage,
  url: URL,
  hub: string,
): Promise<JWTPayload> {
  return authenticate(requestToken(req, url), ctx.options.accessKeys, acceptedOrigins(ctx.endpoint()), [
    clientAudiencePath(hub),
  ]);
}

/** The path part of a client token's audience. */
export function clientAudiencePath(hub: string): string {
  return `/client/?hub=${encodeURIComponent(hub)}`;
}

/** The transports negotiate offers, with their transfer formats, as ASP.NET Core and Azure SignalR list them. */
export const AVAILABLE_TRANSPORTS = [
  { transport: 'WebSockets', transferFormats: ['Text', 'Binary'] },
  { transport: 'ServerSentEvents', transferFormats: ['Text'] },
  { transport: 'LongPolling', transferFormats: ['Text', 'Binary'] },
] as const;

/** `POST /client/negotiate?hub=…&negotiateVersion=1`. */
export async function handleNegotiate(
  ctx: SignalRContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  corsHeaders: Readonly<Record<string, string>>,
): Promise<void> {
  if (req.method !== 'POST') {
    throw new Rejection('method-not-allowed', 'Negotiate with POST', { Allow: 'POST, OPTIONS' });
  }
  const hub = hubOf(url);
  ctx.connectLimits.address(req.socket.remoteAddress);
  const payload = await authenticateClient(ctx, req, url, hub);
  ctx.connectLimits.user(tokenUserId(payload));
  req.resume(); // negotiate has no meaningful body
  const version = Number(url.searchParams.get('negotiateVersion') ?? '0') >= 1 ? 1 : 0;
  const connectionId = ctx.options.generateConnectionId();
  // The token is a secret of the client (it names the connection on the WebSocket), never a guessable id.
  const connectionToken = version === 1 ? randomConnectionId() : connectionId;
  // ASP.NET Core reads the flag with bool.TryParse: "true" in any letter case.
  const statefulReconnect = url.searchParams.get('useStatefulReconnect')?.toLowerCase() === 'true';
  rememberNegotiation(ctx, connectionToken, {
    connectionId,
    hub,
    userId: tokenUserId(payload),
    expiresAt: Date.now() + ctx.options.negotiateTtlMs,
    statefulReconnect,
  });
  sendJson(
    res,
    200,
    {
      negotiateVersion: version,
      connectionId,
      ...(version === 1 ? { connectionToken } : {}),
      availableTransports: AVAILABLE_TRANSPORTS,
      ...(statefulReconnect ? { useStatefulReconnect: true } : {}),
    },
    corsHeaders,
  );
}

function rememberNegotiation(ctx: SignalRContext, token: string, negotiation: PendingNegotiation): void {
  const now = Date.now();
  // Insertion order is age order (one TTL for all), so the expired ones are at the front.
  for (const [key, value] of ctx.negotiations) {
    if (value.expiresAt > now) break;
    ctx.negotiations.delete(key);
  }
  setBounded(ctx.negotiations, token, negotiation, ctx.options.maxPendingNegotiations);
}

/**
 * Takes the negotiation a connection token names (each is used once), checking its hub and user; a 404 that
 * says to negotiate when there is none.
 */
export function takeNegotiation(
  ctx: SignalRContext,
  token: string,
  hub: string,
  userId: string | undefined,
): PendingNegotiation {
  const negotiation = ctx.negotiations.get(token);
  ctx.negotiations.delete(token);
  if (!negotiation || negotiation.expiresAt <= Date.now() || negotiation.hub !== hub) {
    throw new Rejection(
      'negotiation-not-found',
      `No negotiated connection with that id for hub ${hub}: POST /client/negotiate?hub=${hub}&negotiateVersion=1 first`,
    );
  }
  if (negotiation.userId !== userId) {
    throw new Rejection('user-mismatch');
  }
  return negotiation;
}
