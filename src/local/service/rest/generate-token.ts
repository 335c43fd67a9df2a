/**
 * `:generateToken`, which every wing's REST API offers for its own client endpoint
 * (docs/local-service.md, "The REST API").
 */
import type { ServerResponse } from 'node:http';
import { clientUrl, createClientToken } from '../../../lib/signalr/tokens.js';
import type { Dialect } from '../../../lib/signalr/upstream-contract.js';
import type { ServiceContext } from '../context.js';
import { Rejection } from '../errors.js';
import { sendJson } from '../http.js';

/** Lifetime of a `:generateToken` token when the call gives no `minutesToExpire` (Azure's default). */
const GENERATE_TOKEN_DEFAULT_MINUTES = 60;

/**
 * `POST …/hubs/{hub}/:generateToken?userId=&minutesToExpire=`: a client token of the wing's client endpoint,
 * signed with the primary key.
 */
export async function sendClientToken(
  ctx: ServiceContext,
  res: ServerResponse,
  url: URL,
  hub: string,
  dialect: Dialect,
): Promise<void> {
  const minutes = Number(url.searchParams.get('minutesToExpire') ?? GENERATE_TOKEN_DEFAULT_MINUTES);
  if (!Number.isFinite(minutes) || minutes <= 0) {
    throw new Rejection('invalid-request', 'minutesToExpire must be a positive number');
  }
  const userId = url.searchParams.get('userId') ?? undefined;
  const endpoint = ctx.endpoint().origin;
  const key = ctx.options.accessKeys[0] as string;
  const token = await createClientToken(key, clientUrl(endpoint, hub, dialect), {
    ...(userId ? { userId } : {}),
    ttlSeconds: Math.ceil(minutes * 60),
  });
  sendJson(res, 200, { token });
}
