/**
 * Routing for the built-in Functions host: Functions route templates, the `api/` prefix, which route answers a
 * path and method (else 404 or 405 with `Allow`), and function keys for routes that are not anonymous.
 * See docs/architecture.md, "The local stack".
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { RouteDefinition } from '../../app/routes.js';

/** A route definition with its compiled template. */
export interface CompiledRoute {
  readonly definition: RouteDefinition;
  /** Route parameters when the path segments match, else `undefined`. */
  match(segments: readonly string[]): Record<string, string> | undefined;
}

/** The route that serves a request and its parameters, or the status and text to answer instead. */
export type RouteOutcome =
  | { readonly kind: 'matched'; readonly route: CompiledRoute; readonly params: Record<string, string> }
  | { readonly kind: 'rejected'; readonly status: number; readonly text: string; readonly allow?: string };

/**
 * Compiles a Functions route template: literal segments (case-insensitive), `{name}`, `{name?}`,
 * `{name:constraint}` (the constraint is not checked) and a final catch-all `{*name}` (zero or more segments).
 */
export function compileRouteTemplate(
  template: string,
): (segments: readonly string[]) => Record<string, string> | undefined {
  // Parsed once per route, not per request: a literal (matched case-insensitively) or a parameter.
  const parts = template
    .split('/')
    .filter((p) => p !== '')
    .map((part) => {
      const param = /^\{(\*?)([A-Za-z_][A-Za-z0-9_]*)(?::[^}?]*)?(\??)\}$/.exec(part);
      if (!param) return { literal: part.toLowerCase() } as const;
      const [, star, name, optional] = param as unknown as [string, string, string, string];
      return { name, catchAll: star !== '', optional: optional !== '' } as const;
    });
  return (segments) => {
    const params: Record<string, string> = {};
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if ('literal' in part) {
        if (segments[i]?.toLowerCase() !== part.literal) return undefined;
        continue;
      }
      if (part.catchAll) {
        params[part.name] = segments.slice(i).join('/');
        return params;
      }
      const value = segments[i];
      if (value === undefined) {
        if (part.optional) continue;
        return undefined;
      }
      params[part.name] = value;
    }
    // Missing segments were checked above (only optional ones may be absent); extra ones do not match.
    return segments.length > parts.length ? undefined : params;
  };
}

/** Compiles every route of a table, in order (the first match wins). */
export function compileRoutes(definitions: readonly RouteDefinition[]): CompiledRoute[] {
  return definitions.map((definition) => ({ definition, match: compileRouteTemplate(definition.route) }));
}

/** Finds the route for `method` and `pathname` (still percent-encoded) under `prefix` (no slashes). */
export function routeRequest(
  routes: readonly CompiledRoute[],
  prefix: string,
  method: string,
  pathname: string,
): RouteOutcome {
  let segments: string[];
  try {
    segments = pathname
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s));
  } catch {
    return { kind: 'rejected', status: 400, text: 'The request path is not valid percent-encoding' };
  }
  if (prefix !== '') {
    if (segments[0]?.toLowerCase() !== prefix.toLowerCase()) return notFound(pathname);
    segments = segments.slice(1);
  }
  const allowed = new Set<string>();
  for (const route of routes) {
    const params = route.match(segments);
    if (!params) continue;
    if (route.definition.methods.includes(method as never)) return { kind: 'matched', route, params };
    for (const m of route.definition.methods) allowed.add(m);
  }
  if (allowed.size > 0) {
    return {
      kind: 'rejected',
      status: 405,
      text: `${method} is not allowed here; use ${[...allowed].join(' or ')}`,
      allow: [...allowed].join(', '),
    };
  }
  return notFound(pathname);
}

/**
 * Whether the request carries one of `keys` in `x-functions-key` or `?code=`. Compares against every key in
 * constant time (hashing first makes the lengths equal).
 */
export function hasValidKey(req: IncomingMessage, keys: readonly string[]): boolean {
  const header = req.headers['x-functions-key'];
  const given =
    (typeof header === 'string' ? header : undefined) ??
    new URL(req.url ?? '/', 'http://host').searchParams.get('code') ??
    undefined;
  if (given === undefined) return false;
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  const givenDigest = digest(given);
  let ok = false;
  for (const key of keys) if (timingSafeEqual(givenDigest, digest(key))) ok = true;
  return ok;
}

function notFound(pathname: string): RouteOutcome {
  return { kind: 'rejected', status: 404, text: `No function serves ${pathname}` };
}
