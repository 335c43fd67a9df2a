/**
 * `:generateToken` of the SignalR wing's REST API
 * (docs/local-service.md, "The REST API").
 */
import type { ServerResponse } from 'node:http';
import { clientUrl, createClientToken } from '../../../lib/signalr/tokens.js';
import type { ServiceContext } from '../context.js';
import { Rejection } from '../errors.js';
import { sendJson } from '../http.js';

/** Lifetime of a `:generateToken` token when the call gives no `minutesToExpire` (Azure's default). */
const GENERATE_TOKEN_DEFAULT_MINUTES = 60;
/**
 * The longest `minutesToExpire` Azure takes: the REST API types it int32 with a minimum of 1 (default 60), and
 * publishes no other bound (Azure/azure-signalr, `docs/swagger/v20241201.json`,
 * `HubProxyV20221101_GenerateClientToken`). A value that is not a whole number in range is a 400, as a model
 * binder refuses it, never read as a float (`1e8`) or rounded (`1.5`).
 */
export const GENERATE_TOKEN_MAX_MINUTES = 2_147_483_647;

/**
 * `POST …/hubs/{hub}/:generateToken?userId=&minutesToExpire=`: a client token of the wing's client endpoint,
 * signed with the primary key.
 */
export async function sendClientToken(
  ctx: ServiceContext,
  res: ServerResponse,
  url: URL,
  hub: string,
): Promise<void> {
  const minutes = minutesToExpire(url);
  const userId = url.searchParams.get('userId') ?? undefined;
  const endpoint = ctx.endpoint().origin;
  const key = ctx.options.accessKeys[0] as string;
  const token = await createClientToken(key, clientUrl(endpoint, hub), {
    ...(userId ? { userId } : {}),
    ttlSeconds: minutes * 60,
  });
  sendJson(res, 200, { token });
}

/** `minutesToExpire`: a whole number from 1 to {@link GENERATE_TOKEN_MAX_MINUTES}, else a 400 that says so. */
function minutesToExpire(url: URL): number {
  const value = url.searchParams.get('minutesToExpire');
  if (value === null) return GENERATE_TOKEN_DEFAULT_MINUTES;
  const minutes = /^\+?\d{1,10}$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!(minutes >= 1 && minutes <= GENERATE_TOKEN_MAX_MINUTES)) {
    throw new Rejection(
      'invalid-request',
      `The value '${value.slice(0, 32)}' is not valid for minutesToExpire: give whole minutes, 1 to ${GENERATE_TOKEN_MAX_MINUTES}`,
    );
  }
  return minutes;
}
