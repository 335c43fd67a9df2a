/**
 * The Markdown table of the service's limits, rendered from their declaration in `limits.ts`. The table in
 * docs/local-service.md, "Limits" is its output, and a test keeps the two equal. `npm run docs:limits` prints it.
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { LIMIT_NAMES, type LimitName, type LimitSpec, limitSpec, MAX_DURATION_MS } from './limits.js';

/** `16384` → `16 384`: digits in groups of three, as the docs write numbers. */
function grouped(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
}

/** A limit's default with its unit, e.g. `1 MiB`, `20 000 ms`, `2 per second`. */
export function formatDefault(spec: LimitSpec): string {
  const n = spec.default;
  switch (spec.unit) {
    case 'bytes':
      if (n % (1024 * 1024) === 0) return `${grouped(n / (1024 * 1024))} MiB`;
      if (n % 1024 === 0) return `${grouped(n / 1024)} KiB`;
      return `${grouped(n)} bytes`;
    case 'ms':
      return `${grouped(n)} ms`;
    case 'per second':
      return `${grouped(n)} per second`;
    case 'count':
      return grouped(n);
  }
}

/** The values a limit takes, e.g. `whole, ≥ 1, ≤ maxMessageBytes` or `> 0, ≤ 2 147 483 647`. */
export function formatRange(spec: LimitSpec): string {
  const parts = [spec.integer ? 'whole, ≥ 1' : '> 0'];
  if (spec.unit === 'ms') parts.push(`≤ ${grouped(MAX_DURATION_MS)}`);
  if (spec.atMost !== undefined) parts.push(`≤ \`${spec.atMost}\``);
  return parts.join(', ');
}

/** The cells of one limit's row: option (and flag), default, range, what it bounds, Azure. */
export function limitRow(name: LimitName): string[] {
  const spec = limitSpec(name);
  const option = spec.flag === undefined ? `\`${name}\`` : `\`${name}\` (\`--${spec.flag}\`)`;
  return [option, formatDefault(spec), formatRange(spec), spec.doc, spec.azure];
}

export const LIMITS_TABLE_HEADER = ['option', 'default', 'range', 'what it bounds', 'Azure'];

/** The whole table, columns padded to their widest cell. */
export function limitsTable(): string {
  const rows = [LIMITS_TABLE_HEADER, ...LIMIT_NAMES.map(limitRow)];
  const widths = LIMITS_TABLE_HEADER.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  const [header, ...body] = rows;
  return [line(header!), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  console.log(limitsTable());
}
