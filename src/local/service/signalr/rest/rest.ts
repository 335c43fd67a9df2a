/**
 * The SignalR wing's REST API: Microsoft's data-plane REST API under `/api/v1/hubs/{hub}…` and
 * `/api/hubs/{hub}…?api-version=…`, `:generateToken`, `/api/auth/accessKey`, and the health probe
 * (docs/local-service.md, "The REST API").
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GENERATE_TOKEN_API_VERSIONS } from '../../../../lib/signalr/rest/paths.js';
import { checkHubName } from '../../connections.js';
import { Rejection } from '../../errors.js';
import { sendEmpty, sendJson } from '../../http.js';
import { sendClientToken } from '../../rest/generate-token.js';
import { authenticateRest } from '../../rest/rest-auth.js';
import type { RestApi } from '../../rest/router.js';
import type { SignalRContext } from '../state.js';
import { checkNames, internalHubName, matchApiRoute, requestedVersion, resolveVersion } from './rest-api.js';
import { runOperation } from './rest-operations.js';
import { type ApiVersion, sendApiError } from './rest-versions.js';

/** The REST API of the SignalR wing. */
export function signalRRestApi(ctx: SignalRContext): RestApi {
  return {
    owns: (pathname) => /^\/api(\/|$)/.test(pathname),
    handle: (req, res, url, segments) => handleRest(ctx, req, res, url, segments),
  };
}

async function handleRest(
  ctx: SignalRContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  segments: readonly string[],
): Promise<void> {
  const path = segments.join('/');
  if (path === 'api/health' || path === 'api/v1/health') return handleHealth(req, res, url, path);
  if (path === 'api/auth/accessKey' || path === 'api/v1/auth/accessKey')
    return handleAccessKey(ctx, req, res, url, path);
  const [a, b, c, d, e, ...rest] = segments;
  if (a === 'api' && b === 'v1' && c === 'hubs' && d !== undefined) {
    return handleApi(ctx, req, res, url, { prefix: 'v1', hub: d, rest: e === undefined ? [] : [e, ...rest] });
  }
  if (a === 'api' && b === 'hubs' && c !== undefined) {
    const after = [d, e, ...rest].filter((s): s is string => s !== undefined);
    return handleApi(ctx, req, res, url, { prefix: 'api', hub: c, rest: after });
  }
  throw new Rejection('not-found', `No REST operation at ${url.pathname}`);
}

/**
 * `HEAD`/`GET /api/health` (2020-10-01, 2022-06-01) and `/api/v1/health` (v1): 200 without a token, as
 * Azure's Management SDK probes it; the emulator also routes `GET`.
 */
function handleHealth(req: IncomingMessage, res: ServerResponse, url: URL, path: string): void {
  const version: ApiVersion = path === 'api/v1/health' ? 'v1' : '2022-06-01';
  try {
    if (req.method !== 'HEAD' && req.method !== 'GET') {
      throw new Rejection('method-not-allowed', `${req.method} is not allowed on /${path}: use HEAD`, {
        Allow: 'GET, HEAD',
      });
    }
    if (version !== 'v1') resolveVersion('api', url);
  } catch (error) {
    if (!(error instanceof Rejection)) throw error;
    sendApiError(res, version, error.status, error.code, error.message, error.headers);
    return;
  }
  sendEmpty(res, 200);
}

/**
 * `GET /api/auth/accessKey` (2023-07-01 and later, with `api-version`) and `/api/v1/auth/accessKey` (what
 * Microsoft's SDKs call in identity mode): `AccessKeyResponse`, the key client tokens may be signed with and
 * its id, which those SDKs put in the token's `kid` header. Needs the REST API's token.
 */
async function handleAccessKey(
  ctx: SignalRContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  path: string,
): Promise<void> {
  const version: ApiVersion = path === 'api/v1/auth/accessKey' ? 'v1' : '2023-07-01';
  try {
    if (req.method !== 'GET') {
      throw new Rejection('method-not-allowed', `${req.method} is not allowed on /${path}: use GET`, {
        Allow: 'GET',
      });
    }
    if (version !== 'v1') requestedVersion(url, '2023-07-01');
    await authenticateRest(ctx, req, url);
  } catch (error) {
    if (!(error instanceof Rejection)) throw error;
    sendApiError(res, version, error.status, error.code, error.message, error.headers);
    return;
  }
  sendJson(res, 200, { AccessKey: ctx.options.accessKeys[0], KeyId: ctx.accessKeyId });
}

/**
 * The data-plane API (rest-api.ts, rest-operations.ts): route, method, version, token, names, then the operation;
 * every refusal in the version's error shape (v1 text/plain, later versions ErrorDetail JSON).
 */
async function handleApi(
  ctx: SignalRContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  prefix: { prefix: 'v1' | 'api'; hub: string; rest: string[] },
): Promise<void> {
  // Until the version is known, errors take the prefix's shape.
  let version: ApiVersion = prefix.prefix === 'v1' ? 'v1' : '2022-06-01';
  try {
    const method = req.method ?? 'GET';
    if (prefix.prefix === 'api' && prefix.rest.length === 1 && prefix.rest[0] === ':generateToken') {
      if (method !== 'POST') {
        throw new Rejection('method-not-allowed', `${method} is not allowed on ${url.pathname}`, {
          Allow: 'POST',
        });
      }
      const requested = url.searchParams.get('api-version');
      if (requested === null || !GENERATE_TOKEN_API_VERSIONS.includes(requested)) {
        throw new Rejection(
          'invalid-request',
          `${requested === null ? 'The api-version query parameter is required' : `Unsupported api-version "${requested}"`} for :generateToken: use ${GENERATE_TOKEN_API_VERSIONS.join(' or ')}`,
        );
      }
      await authenticateRest(ctx, req, url);
      checkHubName(prefix.hub, '/api/hubs/chat/:generateToken');
      return await sendClientToken(ctx, res, url, prefix.hub);
    }
    const match = matchApiRoute(prefix.rest);
    if (!match) throw new Rejection('not-found', `No REST operation at ${url.pathname}`);
    const name = match.methods[method];
    if (!name) {
      throw new Rejection('method-not-allowed', `${method} is not allowed on ${url.pathname}`, {
        Allow: Object.keys(match.methods).join(', '),
      });
    }
    version = resolveVersion(prefix.prefix, url, name);
    await authenticateRest(ctx, req, url);
    checkNames(name, prefix.hub, match.params, url);
    const registry = ctx.registry.hub(internalHubName(prefix.hub, url));
    await runOperation(name, version, { ctx, registry, params: match.params, req, url }, res);
  } catch (error) {
    if (!(error instanceof Rejection) || res.headersSent) throw error;
    sendApiError(res, version, error.status, error.code, error.message, error.headers);
  }
}
