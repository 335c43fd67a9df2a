/**
 * Upstream templates: which template a hub, category and event go to, and the URL it gives them
 * (docs/local-service.md, "Upstream calls").
 */
import type { UpstreamTemplate } from '../options.js';

/** Whether `name` matches a pattern: unset or `*` matches all; otherwise a comma list, case-insensitively. */
export function patternMatches(pattern: string | undefined, name: string): boolean {
  if (pattern === undefined) return true;
  const wanted = name.toLowerCase();
  return pattern
    .split(',')
    .map((part) => part.trim().toLowerCase())
    .some((part) => part === '*' || part === wanted);
}

/** The first template that matches, if any. */
export function findTemplate(
  templates: readonly UpstreamTemplate[],
  hub: string,
  category: string,
  event: string,
): UpstreamTemplate | undefined {
  return templates.find(
    (t) =>
      patternMatches(t.hubPattern, hub) &&
      patternMatches(t.categoryPattern, category) &&
      patternMatches(t.eventPattern, event),
  );
}

/** Substitutes `{hub}`, `{category}`, `{event}` (URL-encoded) into a template. */
export function expandUrl(urlTemplate: string, hub: string, category: string, event: string): string {
  const values: Record<string, string> = { hub, category, event };
  return urlTemplate.replace(/\{(hub|category|event)\}/gi, (_, name: string) =>
    encodeURIComponent(values[name.toLowerCase()] ?? ''),
  );
}
