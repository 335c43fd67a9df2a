/**
 * The REST router: each wing's REST API owns its path prefixes; the router finds the owner and hands it the
 * decoded path segments (docs/local-service.md, "The REST API").
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Rejection } from '../errors.js';

/** One wing's REST API. */
export interface RestApi {
  /**
   * Whether a request belongs to this API. Most APIs look at the path only; where two services share a path (Web
   * PubSub's and SignalR's `/api/hubs/…`), the request's credential says which service it is for, as two Azure
   * resources' hostnames do, and the API that can tell comes first in the list.
   */
  owns(pathname: string, req: IncomingMessage, url: URL): boolean;
  /** Handles one request, given its percent-decoded path segments; throws {@link Rejection} for every refusal. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL, segments: readonly string[]): Promise<void>;
}

/** The API that owns a request, if any (so the server can answer 404 for everything else). */
export function restApiOf(apis: readonly RestApi[], req: IncomingMessage, url: URL): RestApi | undefined {
  return apis.find((api) => api.owns(url.pathname, req, url));
}

/** Hands one request to its API with the path's segments (trailing slashes dropped, each percent-decoded). */
export async function routeRest(
  api: RestApi,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  let segments: string[];
  try {
    segments = url.pathname
      .replace(/\/+$/, '')
      .split('/')
      .slice(1)
      .map((s) => decodeURIComponent(s));
  } catch {
    throw new Rejection('invalid-request', 'The URL path is not valid percent-encoding');
  }
  await api.handle(req, res, url, segments);
}
