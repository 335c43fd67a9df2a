/**
 * Route matching shared by every wing's REST API (docs/local-service.md, "The REST API").
 */

/**
 * Matches path segments against route patterns (`{name}` captures one segment): the first route whose pattern
 * fits, with its captured names. Shared by the wings' REST APIs.
 */
export function matchSegments<R extends { readonly pattern: readonly string[] }>(
  routes: readonly R[],
  rest: readonly string[],
): { route: R; params: Record<string, string> } | undefined {
  for (const route of routes) {
    if (route.pattern.length !== rest.length) continue;
    const params: Record<string, string> = {};
    let matched = true;
    route.pattern.forEach((part, i) => {
      const segment = rest[i] as string;
      if (part.startsWith('{')) params[part.slice(1, -1)] = segment;
      else if (part !== segment) matched = false;
    });
    if (matched) return { route, params };
  }
  return undefined;
}
