/**
 * The guards of a Web PubSub event handler call that run before its body is read (the connection id, the
 * signature in key mode, the hub), and the abuse-protection handshake. Identity mode checks the bearer token
 * before these (src/lib/upstream/bearer.ts); then `ce-signature` is not read.
 */
import { verifySignature } from '../signalr/index.js';
import { WebPubSubError } from './errors.js';
import {
  CLOUD_EVENTS_HEADERS as CE,
  type CloudEventAnswer,
  type HeaderReader,
  WEBHOOK_HEADERS,
} from './protocol.js';

/** What the guards establish about a call. */
export interface VerifiedCloudEvent {
  readonly connectionId: string;
  readonly hub: string;
}

/**
 * Checks that the call names a connection, is signed with one of `accessKeys` (`ce-signature` is
 * `sha256=<hex HMAC-SHA256 of the connection id>` per key, compared in constant time; `null` when the call was
 * authenticated by a bearer token), and is for `expectedHub` (case-insensitively, when given).
 */
export function verifyCloudEventCall(
  headers: HeaderReader,
  accessKeys: readonly string[] | null,
  expectedHub: string | undefined,
): VerifiedCloudEvent {
  const connectionId = headers.get(CE.connectionId)?.trim();
  if (!connectionId) throw new WebPubSubError('missing-connection-id');
  if (accessKeys !== null) {
    // An empty key would make the HMAC computable by anyone, so it never counts as configured.
    const keys = accessKeys.filter((key) => key.length > 0);
    if (keys.length === 0) throw new WebPubSubError('no-access-keys');
    const signature = headers.get(CE.signature);
    if (!signature?.trim()) throw new WebPubSubError('missing-signature');
    if (!verifySignature(signature, connectionId, keys)) throw new WebPubSubError('bad-signature');
  }
  const hub = headers.get(CE.hub)?.trim();
  if (!hub) throw new WebPubSubError('missing-hub');
  if (expectedHub !== undefined && hub.toLowerCase() !== expectedHub.toLowerCase()) {
    throw new WebPubSubError(
      'wrong-hub',
      `expected ${JSON.stringify(expectedHub)}, got ${JSON.stringify(hub.slice(0, 80))}`,
    );
  }
  return { connectionId, hub };
}

/** The host of an origin or endpoint (`https://x.webpubsub.azure.com/` or `x.webpubsub.azure.com`), lower case. */
export function hostOf(value: string): string {
  const trimmed = value.trim();
  try {
    return new URL(trimmed.includes('://') ? trimmed : `https://${trimmed}`).host.toLowerCase();
  } catch {
    return trimmed.toLowerCase();
  }
}

/**
 * Answers the abuse-protection handshake (an `OPTIONS` request with `WebHook-Request-Origin`): `200` with
 * `WebHook-Allowed-Origin` naming that origin when it is one of `allowedHosts` (the app's own service), else a
 * catalogued refusal without the header, so another service cannot make this app its event handler.
 */
export function answerAbuseProtection(
  headers: HeaderReader,
  allowedHosts: readonly string[],
): CloudEventAnswer {
  const origin = headers.get(WEBHOOK_HEADERS.requestOrigin)?.trim();
  if (!origin) return refusal(new WebPubSubError('missing-request-origin'));
  const host = hostOf(origin);
  if (!allowedHosts.some((allowed) => hostOf(allowed) === host)) {
    return refusal(new WebPubSubError('origin-not-allowed', `got ${JSON.stringify(origin.slice(0, 80))}`));
  }
  return { status: 200, headers: { [WEBHOOK_HEADERS.allowedOrigin]: origin } };
}

/** A catalogued rejection as an answer: its status and its message as plain text. */
export function refusal(error: WebPubSubError): CloudEventAnswer {
  return {
    status: error.status,
    headers: { 'Content-Type': 'text/plain; charset=utf-8' },
    body: error.message,
  };
}
