/**
 * Web PubSub's `:generateToken`: a client access token for `…/client/hubs/{hub}`, signed with the primary Web
 * PubSub key, with the claims Microsoft's `@azure/web-pubsub` mints when it signs one itself (`sub` the user,
 * `role`, `webpubsub.group`) (docs/local-service.md, "The Web PubSub REST API").
 */
import { SignJWT } from 'jose';
import { Rejection } from '../../errors.js';

/** Lifetime of a token when the call gives no `minutesToExpire` (the spec's default). */
export const GENERATE_TOKEN_DEFAULT_MINUTES = 60;
/** The longest lifetime accepted: the spec's int32 range, in minutes. */
const GENERATE_TOKEN_MAX_MINUTES = 2 ** 31 - 1;

const encoder = new TextEncoder();

/** The client URL a token is for (its audience): `{endpoint}/client/hubs/{hub}`. */
export function webPubSubClientAudience(endpoint: URL, hub: string): string {
  return `${endpoint.origin}/client/hubs/${hub}`;
}

/** The `:generateToken` answer `{token}` for a request's query. */
export async function generateClientToken(
  key: string,
  endpoint: URL,
  hub: string,
  url: URL,
): Promise<{ token: string }> {
  const clientType = url.searchParams.get('clientType') ?? 'Default';
  if (clientType.toLowerCase() === 'mqtt') {
    throw new Rejection(
      'invalid-request',
      'clientType MQTT is not served by the local service: omit clientType (Default) for a WebSocket client',
    );
  }
  if (clientType.toLowerCase() !== 'default') {
    throw new Rejection('invalid-request', `Unknown clientType "${clientType}": use Default or MQTT`);
  }
  const minutesText = url.searchParams.get('minutesToExpire');
  const minutes = minutesText === null ? GENERATE_TOKEN_DEFAULT_MINUTES : Number(minutesText);
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > GENERATE_TOKEN_MAX_MINUTES) {
    throw new Rejection('invalid-request', 'minutesToExpire must be a whole number of minutes, at least 1');
  }
  const userId = url.searchParams.get('userId');
  const roles = url.searchParams.getAll('role');
  const groups = url.searchParams.getAll('group');
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({
    ...(roles.length > 0 ? { role: roles } : {}),
    ...(groups.length > 0 ? { 'webpubsub.group': groups } : {}),
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setAudience(webPubSubClientAudience(endpoint, hub))
    .setIssuedAt(now)
    .setExpirationTime(now + minutes * 60);
  if (userId) jwt.setSubject(userId);
  return { token: await jwt.sign(encoder.encode(key)) };
}
