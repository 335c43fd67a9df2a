/**
 * The REST router: each wing's REST API owns its path prefixes; the router finds the owner and hands it the
 * decoded path segments (docs/local-service.md, "The REST API").
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Rejection } from '../errors.js';

/** One wing's REST API. */
export interface RestApi {
  /** Whether a request path belongs to this API (the prefixes of the wings never overlap). */
  owns(pathname: string): boolean;
  /** Handles one request, given its percent-decoded path segments; throws {@link Rejection} for every refusal. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL, segments: readonly string[]): Promise<void>;
}

/** The API that owns a path, if any (so the server can answer 404 for everything else). */
export function restApiOf(apis: readonly RestApi[], pathname: string): RestApi | undefined {
  return apis.find((api) => api.owns(pathname));
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
