/**
 * The token of a REST call, the same for every wing: an Entra token in identity mode, else an access-key
 * token for the request's URL, with or without a query the request carries (docs/local-service.md, "The REST API").
 */
import type { IncomingMessage } from 'node:http';
import { acceptedOrigins, authenticate, requestToken, restAudiences } from '../auth/tokens.js';
import type { ServiceContext } from '../context.js';

/** A REST caller's token: an Entra token in identity mode, else an access-key token for this URL. */
export async function authenticateRest(ctx: ServiceContext, req: IncomingMessage, url: URL): Promise<void> {
  const token = requestToken(req, url);
  if (ctx.entra) {
    await ctx.entra.verify(token);
    return;
  }
  const origins = acceptedOrigins(ctx.endpoint());
  await authenticate(token, ctx.options.accessKeys, origins, [], restAudiences(token, origins, url));
}
