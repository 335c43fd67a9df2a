/**
 * The JavaScript of a command the tests run as a child process (`npm start`, `npm run service`): the built file in
 * `dist/` when it is newer than every source under the given folders (CI builds before testing), otherwise a
 * fresh compile of just the entry points and their imports into node_modules/.cache, so a test never runs a stale
 * build and never depends on unrelated files (bench/, work in progress elsewhere) compiling.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, '../..');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * @param entries the TypeScript entry points relative to the root, e.g. `src/local/start.ts`; the first is the
 *   command whose JavaScript path is returned (the others are files it spawns).
 * @param sources folders relative to the root whose sources the build must be newer than.
 */
export async function compiledCommand(
  entries: readonly string[],
  sources: readonly string[],
): Promise<string> {
  const [main] = entries;
  if (main === undefined) throw new Error('compiledCommand needs an entry point');
  const js = main.replace(/\.ts$/, '.js');
  const built = join(ROOT, 'dist', js);
  const newest = Math.max(...sources.map((dir) => newestSource(join(ROOT, dir))));
  if (existsSync(built) && statSync(built).mtimeMs >= newest) return built;
  const outDir = join(ROOT, 'node_modules/.cache/compiled', main.replace(/[^A-Za-z0-9]+/g, '-'));
  await promisify(execFile)(
    process.execPath,
    [
      join(ROOT, 'node_modules/typescript/bin/tsc'),
      ...entries.map((entry) => join(ROOT, entry)),
      ...['--outDir', outDir, '--rootDir', ROOT, '--module', 'NodeNext', '--moduleResolution', 'NodeNext'],
      ...['--target', 'ES2022', '--lib', 'ES2023,DOM', '--types', 'node', '--skipLibCheck', '--strict'],
    ],
    { cwd: ROOT },
  );
  return join(outDir, js);
}
