/**
 * The Web PubSub wing's REST API: Azure Web PubSub's data plane under `/api/hubs/{hub}/…?api-version=…` and
 * `/api/health`, for the calls made with a Web PubSub credential (docs/local-service.md, "The Web PubSub REST API").
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServiceContext } from '../../context.js';
import { Rejection } from '../../errors.js';
import { sendEmpty, sendJson } from '../../http.js';
import type { RestApi } from '../../rest/router.js';
import type { WebPubSubHubs } from '../hub.js';
import { WebPubSubCredentials } from './credential.js';
import { generateClientToken } from './generate-token.js';
import { runOperation } from './operations.js';
import { checkNames, checkVersion, routeOperation, WEBPUBSUB_API_VERSIONS } from './routes.js';

/**
 * The REST API of the Web PubSub wing over its hub state. It owns `/api/…` requests that carry a Web PubSub
 * credential, and `/api/health` probes that ask for a Web PubSub version.
 */
export function webPubSubRestApi(ctx: ServiceContext, hubs: WebPubSubHubs): RestApi {
  const credentials = new WebPubSubCredentials(ctx);
  return {
    owns: (pathname, req, url) => {
      if (!/^\/api(\/|$)/.test(pathname)) return false;
      if (/^\/api\/health\/?$/.test(pathname)) return isWebPubSubVersion(url);
      return credentials.isWebPubSubCall(req, url);
    },
    handle: async (req, res, url, segments) => {
      try {
        await handle(ctx, hubs, credentials, req, res, url, segments);
      } catch (error) {
        if (!(error instanceof Rejection) || res.headersSent) throw error;
        sendError(res, error);
      }
    },
  };
}

/** `/api/health` with a Web PubSub version (where SignalR publishes the same version, both answer it alike). */
function isWebPubSubVersion(url: URL): boolean {
  const version = url.searchParams.get('api-version');
  return version !== null && (WEBPUBSUB_API_VERSIONS as readonly string[]).includes(version);
}

async function handle(
  ctx: ServiceContext,
  hubs: WebPubSubHubs,
  credentials: WebPubSubCredentials,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  segments: readonly string[],
): Promise<void> {
  const method = req.method ?? 'GET';
  const [a, b, hub, ...rest] = segments;
  if (a === 'api' && b === 'health' && hub === undefined) {
    if (method !== 'HEAD' && method !== 'GET') {
      throw new Rejection('method-not-allowed', `${method} is not allowed on /api/health: use HEAD`, {
        Allow: 'GET, HEAD',
      });
    }
    checkVersion(url);
    return sendEmpty(res, 200);
  }
  if (a !== 'api' || b !== 'hubs' || hub === undefined) {
    throw new Rejection('not-found', `No Web PubSub REST operation at ${url.pathname}`);
  }
  const { operation, params } = routeOperation(method, rest, url.pathname);
  checkVersion(url, operation);
  await credentials.verify(req, url);
  checkNames(hub, params);
  if (operation === 'GenerateClientToken') {
    return sendJson(res, 200, await generateClientToken(credentials.signingKey, ctx.endpoint(), hub, url));
  }
  await runOperation(
    operation,
    { hubs, hub, params, req, url, maxBodyBytes: ctx.options.maxMessageBytes, endpoint: ctx.endpoint() },
    res,
  );
}

/**
 * An error as Azure's data plane answers one: `{"error": {"code", "message"}}` (Azure.Core's ErrorResponse,
 * the spec's `default` response) with the code in `x-ms-error-code`; a HEAD answer carries the headers only.
 */
function sendError(res: ServerResponse, rejection: Rejection): void {
  sendJson(
    res,
    rejection.status,
    { error: { code: rejection.code, message: rejection.message } },
    { ...rejection.headers, 'x-ms-error-code': rejection.code },
  );
}
