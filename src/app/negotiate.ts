/**
 * The negotiate function (docs/architecture.md, "Tokens and identity"): decides who the caller is (identity.ts,
 * by the `CHAT_AUTH` mode) and hands out the URL and token for the service, so the app and not the browser
 * fixes the user (`nameid`, the user id; the display name in an extra claim).
 *
 * - SignalR (default): `{ url, accessToken }` for `@microsoft/signalr`, which calls
 *   `<base>/negotiate?…&negotiateVersion=1` and then negotiates with the service at `url`.
 * - `?service=webpubsub`: Web PubSub's client URL `wss://…/client/hubs/{hub}?access_token=…`, ready to open, from
 *   `WebPubSubServiceClient.getClientAccessToken` (signed with the access key, or keyless through the service's
 *   `:generateToken`); refused when the app has no Web PubSub service.
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { encodeRolesClaim, ROLES_CLAIM, toServiceUserId } from '../lib/chat/index.js';
import { DISPLAY_NAME_CLAIM, encodeDisplayNameClaim } from '../lib/display-name.js';
import { clientAddress, negotiateLimitersFor } from './command-limits.js';
import { APP_ERRORS, type AppErrorCode, errorBody } from './errors.js';
import { identify } from './identity.js';
import { moderationFor } from './moderation.js';
import { NOSNIFF } from './page-security.js';
import { chatServices } from './services.js';

/** Lifetime of the client tokens negotiate issues (the page negotiates again on reconnect). */
export const CLIENT_TOKEN_TTL_SECONDS = 3600;

const JSON_HEADERS = { 'cache-control': 'no-store', ...NOSNIFF };

/** A refusal: the catalogued status and `{"code","message"}`. */
function refuse(code: AppErrorCode, message?: string): HttpResponseInit {
  return { status: APP_ERRORS[code].status, headers: JSON_HEADERS, jsonBody: errorBody(code, message) };
}

export async function negotiate(req: HttpRequest, _context: InvocationContext): Promise<HttpResponseInit> {
  const identity = identify(req);
  if (!identity.ok) return refuse(identity.code, identity.message);
  if (identity.user === null) return refuse(identity.mode === 'entra' ? 'not-signed-in' : 'no-user');
  const service = req.query.get('service');
  if (service !== null && service !== 'signalr' && service !== 'webpubsub') return refuse('invalid-service');
  // The 2020 preview's `?dialect=websocket` is retired: its raw-WebSocket chat is `?service=webpubsub`.
  if (req.query.has('dialect')) return refuse('dialect-retired');
  const services = chatServices();
  if (service === 'webpubsub' && !services.webPubSub.client) return refuse('webpubsub-not-configured');
  // Fair sharing: one user's or one address's reconnect storm waits behind its own limit, not everyone's.
  const limits = negotiateLimitersFor(services);
  const waitMs = Math.max(limits.user.take(identity.user.id), limits.address.take(clientAddress(req)));
  if (waitMs > 0) {
    const seconds = Math.ceil(waitMs / 1000);
    const refusal = refuse(
      'too-many-negotiates',
      `${APP_ERRORS['too-many-negotiates'].message} (${seconds} s)`,
    );
    return { ...refusal, headers: { ...JSON_HEADERS, 'retry-after': String(seconds) } };
  }
  const { id, name, roles = [] } = identity.user;
  // A signed-in user's display name differs from the id: record it (and the roles of the sign-in) where
  // listings and the upstream find them, and put both in the token where the app signs tokens (key mode),
  // so the upstream names the sender and knows a moderator without a read.
  const named = name !== id;
  if (named) {
    await services.history.ensureContainer();
    const moderation = moderationFor(services);
    const { ban } = moderation.enabled ? await moderation.store.sanctionsOf(id) : {};
    if (ban !== undefined) {
      const why = ban.reason ? ` (${ban.reason})` : '';
      const refusal = refuse('banned', `${APP_ERRORS.banned.message}${why}`);
      // The moderator's reason on its own too, for the page to show (static/link/refusal.js).
      return ban.reason ? { ...refusal, jsonBody: { ...refusal.jsonBody, reason: ban.reason } } : refusal;
    }
    await services.directory.record(id, name, roles);
  }
  const webPubSub = services.webPubSub.client;
  if (service === 'webpubsub' && webPubSub) {
    // Web PubSub tokens carry no custom claims: the upstream finds a display name in the directory. With a
    // key the app signs them as the SDK would (src/lib/webpubsub/rest-token.ts), keyless the service does.
    const request = { userId: toServiceUserId(id), expirationTimeInMinutes: CLIENT_TOKEN_TTL_SECONDS / 60 };
    const { clientToken } = services.webPubSub;
    const { url, token } = clientToken?.(request) ?? (await webPubSub.getClientAccessToken(request));
    return { status: 200, headers: JSON_HEADERS, jsonBody: { url, accessToken: token } };
  }
  const client = services.signalr;
  const access = await client.getClientAccess({
    userId: toServiceUserId(id),
    ttlSeconds: CLIENT_TOKEN_TTL_SECONDS,
    ...(named && client.clientTokensCarryClaims
      ? {
          claims: {
            [DISPLAY_NAME_CLAIM]: encodeDisplayNameClaim(name),
            ...(roles.length > 0 ? { [ROLES_CLAIM]: encodeRolesClaim(roles) } : {}),
          },
        }
      : {}),
  });
  return { status: 200, headers: JSON_HEADERS, jsonBody: access };
}
