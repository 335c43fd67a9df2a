/**
 * Reads the `.cpuprofile` files that `node --cpu-prof` writes and names where the time went: the top
 * functions by self time, and the self time per package (project code, `ws`, `jose`, Node internals…).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface ProfileSummary {
  /** Sampled time in ms (all of it, idle included). */
  totalMs: number;
  /** Share of the sampled time that was not idle. */
  busyShare: number;
  /** Functions by self time: `name (file:line)` and share of busy time. */
  topFunctions: Array<{ name: string; selfMs: number; share: number }>;
  /** Self time by where the code lives. */
  byPackage: Array<{ name: string; selfMs: number; share: number }>;
  /** The project's own functions by inclusive time (themselves and everything they call). */
  projectInclusive: Array<{ name: string; selfMs: number; share: number }>;
}

/** Where a script URL belongs: a dependency's name, `project`, `node` or `v8`. */
function packageOf(url: string): string {
  if (!url) return 'v8/native';
  if (url.startsWith('node:internal/deps/undici')) return 'node fetch (undici)';
  if (url.startsWith('node:internal/webstreams')) return 'node web streams';
  if (url.startsWith('node:internal/crypto')) return 'node crypto';
  if (url.startsWith('node:')) return 'node internals (other)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm?.[1]) return nm[1];
  const project = /\/dist\/(src\/[^/]+(?:\/[^/]+)?)/.exec(url);
  if (project?.[1]) return `project ${project[1].replace(/\.js$/, '')}`;
  return url;
}

function shortUrl(url: string): string {
  return url
    .replace(/^.*\/node_modules\//, '')
    .replace(/^.*\/dist\//, '')
    .replace(/^file:\/\//, '');
}

/** Summarises one `.cpuprofile` file. */
export function summariseCpuProfile(path: string, top = 12): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  const hits = profile.nodes.reduce((sum, node) => sum + (node.hitCount ?? 0), 0);
  const msPerHit = hits > 0 ? totalMs / hits : 0;
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let idleMs = 0;
  for (const node of profile.nodes) {
    const selfMs = (node.hitCount ?? 0) * msPerHit;
    if (selfMs === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)' || functionName === '(program)') {
      if (functionName === '(idle)') idleMs += selfMs;
      else
        byPackage.set(
          '(program: native, outside JS)',
          (byPackage.get('(program: native, outside JS)') ?? 0) + selfMs,
        );
      continue;
    }
    const key = `${functionName || '(anonymous)'} (${url ? `${shortUrl(url)}:${lineNumber + 1}` : 'native'})`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + selfMs);
    const pkg = functionName === '(garbage collector)' ? 'garbage collector' : packageOf(url);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + selfMs);
  }
  // Inclusive time of project functions: each node's hits count once for every distinct project function
  // on its stack (a recursive function is not counted twice).
  const parent = new Map<number, ProfileNode>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node);
  const inclusive = new Map<string, number>();
  for (const node of profile.nodes) {
    const selfMs = (node.hitCount ?? 0) * msPerHit;
    if (selfMs === 0) continue;
    const seen = new Set<string>();
    for (let frame: ProfileNode | undefined = node; frame; frame = parent.get(frame.id)) {
      const { functionName, url, lineNumber } = frame.callFrame;
      if (!/\/dist\/src\//.test(url)) continue;
      const key = `${functionName || '(anonymous)'} (${shortUrl(url)}:${lineNumber + 1})`;
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + selfMs);
    }
  }
  const busyMs = Math.max(1e-9, totalMs - idleMs);
  const rank = (map: Map<string, number>, n: number) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, selfMs]) => ({ name, selfMs: Math.round(selfMs), share: selfMs / busyMs }));
  return {
    totalMs: Math.round(totalMs),
    busyShare: busyMs / totalMs,
    topFunctions: rank(byFunction, top),
    byPackage: rank(byPackage, 8),
    projectInclusive: rank(inclusive, 8),
  };
}

/** One line per entry: `41.2 % name`. */
export function describeProfile(summary: ProfileSummary): string[] {
  const pct = (share: number) => `${(share * 100).toFixed(1)} %`;
  return [
    `busy ${pct(summary.busyShare)} of ${summary.totalMs} ms sampled; self time by package: ` +
      summary.byPackage.map((p) => `${p.name} ${pct(p.share)}`).join(', '),
    `top functions by self time: ${summary.topFunctions
      .slice(0, 8)
      .map((f) => `${f.name} ${pct(f.share)}`)
      .join('; ')}`,
    `project functions by inclusive time: ${summary.projectInclusive
      .slice(0, 6)
      .map((f) => `${f.name} ${pct(f.share)}`)
      .join('; ')}`,
  ];
}

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}

/**
 * Summarises a `.heapprofile` (`node --heap-prof`, written at exit): the live sampled bytes by allocating
 * function, largest first, as `name (file:line) size share`.
 */
export function summariseHeapProfile(path: string, top = 10): string[] {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as { head: HeapNode };
  const byFunction = new Map<string, number>();
  let total = 0;
  const visit = (node: HeapNode) => {
    if (node.selfSize > 0) {
      const { functionName, url, lineNumber } = node.callFrame;
      const key = `${functionName || '(anonymous)'} (${url ? `${shortUrl(url)}:${lineNumber + 1}` : 'native'})`;
      byFunction.set(key, (byFunction.get(key) ?? 0) + node.selfSize);
      total += node.selfSize;
    }
    for (const child of node.children) visit(child);
  };
  visit(profile.head);
  return [...byFunction.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(
      ([name, bytes]) =>
        `${name} ${(bytes / 1024 / 1024).toFixed(1)} MiB (${((bytes / Math.max(1, total)) * 100).toFixed(1)} %)`,
    );
}
