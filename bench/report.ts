/**
 * Results of a bench run: each scenario's figures with the baseline from the same run and the ratio
 * ours / baseline, printed to the console, written as one JSON file per scenario under `bench/results/`
 * and as `bench/RESULTS.md`. On a shared, noisy machine the absolute numbers move from run to run; the
 * ratios are what to compare.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, type as osType, release, totalmem } from 'node:os';

/** One measured figure. */
export interface Figure {
  name: string;
  unit: string;
  ours: number;
  /** The same figure for the bare `ws` baseline; null where a scenario has none. */
  baseline: number | null;
  /** Which direction is better, so a reader knows whether a ratio above 1 is good. */
  better: 'higher' | 'lower';
  note?: string;
}

/** A target the issue sets for this box, judged in the run. */
export interface Target {
  name: string;
  /** The measured value, or null when the scenario could not measure it. */
  value: number | null;
  unit: string;
  /** `value` passes when it is at most (`≤`) or at least (`≥`) `limit`. */
  comparison: '≤' | '≥' | '<';
  limit: number;
  note?: string;
}

/** True when `target` holds; false when it failed or was not measured. */
export function passes(target: Target): boolean {
  if (target.value === null || !Number.isFinite(target.value)) return false;
  if (target.comparison === '≤') return target.value <= target.limit;
  if (target.comparison === '<') return target.value < target.limit;
  return target.value >= target.limit;
}

function targetRow(target: Target): string[] {
  return [
    `${target.name}${target.note ? ` (${target.note})` : ''}`,
    target.value === null ? 'not measured' : withUnit(target.value, target.unit),
    `${target.comparison} ${withUnit(target.limit, target.unit)}`,
    passes(target) ? 'pass' : 'FAIL',
  ];
}

/** Prints every scenario's targets as one table. */
export function printTargets(results: ScenarioResult[]): void {
  const rows = results.flatMap((r) => (r.targets ?? []).map(targetRow));
  if (rows.length === 0) return;
  console.log('\n== targets');
  const header = ['target', 'measured', 'limit', 'result'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  for (const row of [header, ...rows])
    console.log(`   ${row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ')}`);
}

export interface ScenarioResult {
  id: string;
  title: string;
  status: 'ok' | 'skipped' | 'failed';
  /** What the baseline column is, e.g. `bare ws server`. */
  baselineLabel?: string;
  /** Why a scenario was skipped or failed. */
  reason?: string;
  /** The parameters it ran with (clients, durations, rates). */
  parameters: Record<string, unknown>;
  figures: Figure[];
  /** Raw per-target results, for the JSON file. */
  details?: unknown;
  /** Observations worth a line in RESULTS.md (profile tops, errors seen). */
  notes: string[];
  /** The targets this scenario judges. */
  targets?: Target[];
}

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  /** 1-minute load average when the run started: how busy the shared machine already was. */
  loadAtStart: number;
}

export function machineInfo(): MachineInfo {
  const cpuList = cpus();
  return {
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    cores: cpuList.length,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    os: `${osType()} ${release()}`,
    node: process.version,
    loadAtStart: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}

/** The HEAD commit and how many files under src/ and bench/ differ from it (the bench builds the working tree). */
export function sourceState(root: URL): { commit: string; uncommittedFiles: number } {
  const git = (args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
  try {
    const commit = git(['rev-parse', '--short', 'HEAD']);
    const changed = git(['status', '--porcelain', '--', 'src', 'bench']).split('\n').filter(Boolean);
    // RESULTS.md itself is rewritten by every run.
    return { commit, uncommittedFiles: changed.filter((line) => !line.endsWith('bench/RESULTS.md')).length };
  } catch {
    return { commit: 'unknown (not a git checkout)', uncommittedFiles: 0 };
  }
}

/** ours / baseline, or null without a baseline. */
export function ratio(figure: Figure): number | null {
  if (figure.baseline === null || figure.baseline === 0) return null;
  return figure.ours / figure.baseline;
}

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** A number and its unit; a unitless number has no trailing space (the Markdown tables stay as the formatter wants them). */
function withUnit(value: number, unit: string): string {
  return unit === '' ? formatNumber(value) : `${formatNumber(value)} ${unit}`;
}

function formatRatio(figure: Figure): string {
  const r = ratio(figure);
  if (r === null) return '—';
  return `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}× (${figure.better} is better)`;
}

/** Prints one scenario as a small table. */
export function printScenario(result: ScenarioResult): void {
  const head = `\n== ${result.id}: ${result.title} [${result.status}]`;
  console.log(head);
  if (result.reason) console.log(`   ${result.reason}`);
  const rows = result.figures.map((f) => [
    f.name,
    withUnit(f.ours, f.unit),
    f.baseline === null ? '—' : withUnit(f.baseline, f.unit),
    formatRatio(f),
  ]);
  const header = ['figure', 'ours', `baseline: ${result.baselineLabel ?? 'bare ws'}`, 'ours / baseline'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  for (const row of [header, ...rows])
    console.log(`   ${row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ')}`);
  for (const note of result.notes) console.log(`   - ${note}`);
}

/** Writes `<dir>/<scenario id>.json`. */
export function writeScenarioJson(dir: URL, result: ScenarioResult, run: RunInfo): void {
  mkdirSync(dir, { recursive: true });
  const withRatios = { ...result, figures: result.figures.map((f) => ({ ...f, ratio: ratio(f) })) };
  writeFileSync(new URL(`${result.id}.json`, dir), `${JSON.stringify({ run, ...withRatios }, null, 2)}\n`);
}

export interface RunInfo {
  date: string;
  mode: 'full' | 'quick';
  /** The commit the run was built from, and whether the working tree under src/ and bench/ differed from it. */
  commit: string;
  uncommittedFiles: number;
  machine: MachineInfo;
  durationSeconds: number;
}

/**
 * A Markdown table padded the way the project's formatter (Biome) writes it, so a fresh RESULTS.md passes
 * `npm run lint`: the first column left-aligned, the others right-aligned.
 */
export function markdownTable(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, 3, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    `| ${cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (i === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`;
  return [line(header), rule, ...rows.map(line)];
}

/** Text below this line in an existing RESULTS.md is kept when the file is rewritten (the analysis). */
export const KEEP_MARKER =
  '<!-- Everything below this line is written by hand and kept across bench runs. -->';

/** Writes RESULTS.md: run info, one table per scenario, then the hand-written analysis kept from before. */
export function writeResultsMarkdown(file: URL, run: RunInfo, results: ScenarioResult[]): void {
  const kept = existsSync(file) ? readFileSync(file, 'utf8').split(KEEP_MARKER)[1] : undefined;
  const m = run.machine;
  const lines = [
    '# Bench results',
    '',
    `Written by \`npm run bench${run.mode === 'quick' ? ' -- --quick' : ''}\` on ${run.date} (${run.mode} run, ${Math.round(run.durationSeconds)} s).`,
    '',
    `- Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB memory, ${m.os}`,
    `- Node ${m.node}; built from commit ${run.commit}${run.uncommittedFiles > 0 ? ` plus ${run.uncommittedFiles} uncommitted file(s) under src/ and bench/ (work in progress of the team)` : ''}`,
    `- The cores were shared with other engineers running tests at the same time (1-minute load average ${m.loadAtStart} when the run started, on ${m.cores} cores), and the load generators`,
    '  run on the same machine as the servers. Absolute figures are noisy; every figure has its bare `ws`',
    '  baseline from the same run, and the ratio ours / baseline is what to compare between runs.',
    '- Latency is measured from the moment the sender builds the payload (REST call, client send) to the',
    '  receiving client, on the machine-wide monotonic clock shared by all processes.',
    '',
  ];
  const targetRows = results.flatMap((r) => (r.targets ?? []).map(targetRow));
  if (targetRows.length > 0)
    lines.push(
      '## Targets',
      '',
      'Judged in this run, on this machine (see each scenario for how the figure is measured).',
      '',
      ...markdownTable(['target', 'measured', 'limit', 'result'], targetRows),
      '',
    );
  for (const result of results) {
    lines.push(`## ${result.id}: ${result.title}`, '');
    if (result.status !== 'ok') lines.push(`**${result.status}**: ${result.reason ?? ''}`, '');
    if (result.figures.length > 0) {
      const rows = result.figures.map((f) => [
        `${f.name}${f.note ? ` (${f.note})` : ''}`,
        withUnit(f.ours, f.unit),
        f.baseline === null ? '—' : withUnit(f.baseline, f.unit),
        formatRatio(f),
      ]);
      lines.push(
        ...markdownTable(
          ['figure', 'ours', `baseline: ${result.baselineLabel ?? 'bare `ws` server'}`, 'ours / baseline'],
          rows,
        ),
        '',
      );
    }
    const params = Object.entries(result.parameters)
      .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
      .join(', ');
    if (params) lines.push(`Parameters: ${params}.`, '');
    for (const note of result.notes) lines.push(`- ${note}`);
    if (result.notes.length > 0) lines.push('');
  }
  lines.push(KEEP_MARKER);
  writeFileSync(file, `${lines.join('\n')}${kept ?? '\n'}`);
}
