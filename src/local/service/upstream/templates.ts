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

/**
 * Percent-encodes a value as .NET's `Uri.EscapeDataString` does (RFC 3986: everything but the unreserved
 * letters, digits and `-._~`), which the emulator applies to `{hub}`, `{category}` and `{event}`
 * (Azure/azure-signalr, `src/Microsoft.Azure.SignalR.Emulator/Common/Utils.cs`, `GetUpstreamUrl`).
 * `encodeURIComponent` alone would leave `!'()*` as they are.
 */
export function escapeDataString(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** Substitutes `{hub}`, `{category}`, `{event}` (each escaped by {@link escapeDataString}) into a template. */
export function expandUrl(urlTemplate: string, hub: string, category: string, event: string): string {
  const values: Record<string, string> = { hub, category, event };
  return urlTemplate.replace(/\{(hub|category|event)\}/gi, (_, name: string) =>
    escapeDataString(values[name.toLowerCase()] ?? ''),
  );
}
