import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { optionsFromArgs } from '../../src/local/service/args.js';
import {
  LIMIT_NAMES,
  LIMITS,
  type LimitName,
  limitSpec,
  MAX_DURATION_MS,
} from '../../src/local/service/limits.js';
import { formatDefault, formatRange, limitsTable } from '../../src/local/service/limits-doc.js';
import {
  DEFAULTS,
  readSettingsFile,
  resolveOptions,
  ServiceOptionsError,
} from '../../src/local/service/options.js';

const doc = readFileSync(resolve(import.meta.dirname, '../../docs/local-service.md'), 'utf8');

/** The lines of the first table under `## Limits` in the doc. */
function docTable(): string[] {
  const start = doc.search(/^## Limits$/m);
  expect(start, 'docs/local-service.md has a "## Limits" section').toBeGreaterThanOrEqual(0);
  const section = doc.slice(start).split('\n').slice(1);
  const end = section.findIndex((line) => line.startsWith('## '));
  const lines = end === -1 ? section : section.slice(0, end);
  const first = lines.findIndex((line) => line.startsWith('|'));
  const rest = lines.slice(first);
  const after = rest.findIndex((line) => !line.startsWith('|'));
  return after === -1 ? rest : rest.slice(0, after);
}

function cells(line: string): string[] {
  return line
    .slice(1, -1)
    .split(' | ')
    .map((cell) => cell.trim());
}

describe('the limits table', () => {
  it('is in docs/local-service.md, "Limits", exactly as the code declares it', () => {
    expect(docTable().join('\n')).toBe(limitsTable());
  });

  it('lists every limit once, in declaration order, with its default and unit, and nothing else', () => {
    const rows = docTable().slice(2).map(cells);
    expect(rows.map((row) => /^`(\w+)`/.exec(row[0]!)?.[1])).toEqual(Object.keys(LIMITS));
    for (const row of rows) {
      const name = /^`(\w+)`/.exec(row[0]!)![1] as LimitName;
      expect(row[1], name).toBe(formatDefault(limitSpec(name)));
      expect(row[2], name).toBe(formatRange(limitSpec(name)));
    }
  });

  it('writes defaults with their units as the docs write numbers', () => {
    const spec = { integer: true, doc: '', azure: '' } as const;
    expect(formatDefault({ ...spec, default: 1024 * 1024, unit: 'bytes' })).toBe('1 MiB');
    expect(formatDefault({ ...spec, default: 64 * 1024, unit: 'bytes' })).toBe('64 KiB');
    expect(formatDefault({ ...spec, default: 100_000, unit: 'bytes' })).toBe('100 000 bytes');
    expect(formatDefault({ ...spec, default: 120_000, unit: 'ms' })).toBe('120 000 ms');
    expect(formatDefault({ ...spec, default: 16_384, unit: 'count' })).toBe('16 384');
    expect(formatDefault({ ...spec, default: 2, unit: 'per second' })).toBe('2 per second');
  });
});

describe('limits derived from the table', () => {
  it('resolves each unset limit to its default', () => {
    const resolved = resolveOptions();
    for (const name of LIMIT_NAMES) {
      // maxCoalescedBytes follows maxMessageBytes down; at the defaults it keeps its own.
      expect(resolved[name], name).toBe(LIMITS[name].default);
      expect(DEFAULTS[name], name).toBe(LIMITS[name].default);
    }
  });

  it('refuses 0, negatives, NaN and non-numbers for every limit, naming it and its default', () => {
    for (const name of LIMIT_NAMES) {
      for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, '5']) {
        const message = `${name} must be a positive number (default ${LIMITS[name].default}), not ${String(bad)}`;
        expect(() => resolveOptions({ [name]: bad as number }), `${name}: ${String(bad)}`).toThrow(message);
      }
    }
    expect(() => resolveOptions({ maxMessageBytes: 0 })).toThrow(ServiceOptionsError);
  });

  it('takes whole numbers only where the table says so, and any positive number elsewhere', () => {
    expect(LIMIT_NAMES.filter((name) => limitSpec(name).integer)).toEqual([
      'maxMessageFragments',
      'maxMessagePackDepth',
      'maxCoalescedBytes',
      'connectBurstPerAddress',
      'connectBurstPerUser',
      'maxSocketsPerAddress',
      'maxSockets',
      'maxConcurrentSendsPerAddress',
      'maxConcurrentUpstreamCalls',
      'maxConcurrentUpstreamCallsPerUser',
      'maxQueuedUpstreamCallsPerUser',
      'maxQueuedUpstreamCallsTotal',
      'upstreamMaxSockets',
      'notificationAttempts',
      'maxPendingRetries',
      'webPubSubMaxRememberedAckIds',
    ]);
    for (const name of LIMIT_NAMES) {
      const call = () => resolveOptions({ [name]: 1.5 });
      if (limitSpec(name).integer) {
        expect(call, name).toThrow(new ServiceOptionsError(`${name} must be a whole number`));
      } else {
        expect(call(), name).toMatchObject({ [name]: 1.5 });
      }
    }
  });

  it('refuses a duration longer than a timer can wait, which would fire at once instead', () => {
    const durations = LIMIT_NAMES.filter((name) => limitSpec(name).unit === 'ms');
    expect(durations).toContain('handshakeTimeoutMs');
    for (const name of durations) {
      // A limit bounded by another (headersTimeoutMs by requestTimeoutMs) gets its bound raised alongside.
      const bound = limitSpec(name).atMost;
      const longest = {
        [name]: MAX_DURATION_MS,
        ...(bound === undefined ? {} : { [bound]: MAX_DURATION_MS }),
      };
      expect(resolveOptions(longest)[name], name).toBe(2_147_483_647);
      expect(() => resolveOptions({ [name]: 3e9 }), name).toThrow(
        `${name} must be at most 2147483647 ms (about 24.8 days, the longest a timer waits), not 3000000000`,
      );
    }
    expect(() => resolveOptions({ maxOutboundBytes: 3e9 })).not.toThrow();
  });

  it('reads every limit from a settings file key and each flag the table gives', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'service-limits-')), 's.json');
    const every = Object.fromEntries(LIMIT_NAMES.map((name) => [name, LIMITS[name].default]));
    writeFileSync(file, JSON.stringify(every));
    expect(readSettingsFile(file)).toEqual(every);

    const flagged = LIMIT_NAMES.filter((name) => limitSpec(name).flag !== undefined);
    expect(flagged).toEqual(['maxMessageBytes', 'upstreamTimeoutMs', 'keepAliveIntervalMs']);
    for (const name of flagged) {
      expect(optionsFromArgs([`--${limitSpec(name).flag}`, '7'])).toEqual({ [name]: 7 });
    }
  });
});
