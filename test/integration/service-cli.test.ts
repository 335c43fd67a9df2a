/**
 * `npm run service -- --port 0` = `npm run build && node dist/src/local/service/cli.js --port 0`. The test runs
 * the built CLI when `dist/` is up to date (CI builds before testing); otherwise it compiles the CLI and its
 * imports (only this service and src/lib/signalr) with tsc into node_modules/.cache, so it never depends on
 * the rest of the project compiling, nor on a stale build.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientUrl, createClientToken } from '../../src/lib/signalr/tokens.js';
import { http, SECONDARY_KEY } from '../support/local-service.js';

const root = resolve(import.meta.dirname, '../..');
const sources = [join(root, 'src/local/service'), join(root, 'src/lib/signalr')];
let cli = join(root, 'dist/src/local/service/cli.js');
const children: ChildProcess[] = [];

function newestSource(): number {
  return Math.max(
    ...sources.flatMap((dir) =>
      readdirSync(dir, { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.ts'))
        .map((f) => statSync(join(dir, f)).mtimeMs),
    ),
  );
}

function builtAt(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

beforeAll(async () => {
  if (builtAt(cli) >= newestSource()) return;
  const outDir = join(root, 'node_modules/.cache/local-service-cli');
  await promisify(execFile)(
    process.execPath,
    [
      join(root, 'node_modules/typescript/bin/tsc'),
      join(root, 'src/local/service/cli.ts'),
      ...['--outDir', outDir, '--rootDir', root, '--module', 'NodeNext', '--moduleResolution', 'NodeNext'],
      ...['--target', 'ES2022', '--lib', 'ES2023,DOM', '--types', 'node', '--skipLibCheck', '--strict'],
    ],
    { cwd: root },
  );
  cli = join(outDir, 'src/local/service/cli.js');
}, 120_000);

afterAll(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
});

function run(args: string[]): { child: ChildProcess; lines: AsyncIterator<string>; stderr: () => string } {
  const child = spawn(process.execPath, [cli, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]();
  return { child, lines, stderr: () => stderr };
}

describe('npm run service', () => {
  it('starts on a free port with --port 0, prints its ready line, serves, and stops on SIGTERM', async () => {
    const { child, lines } = run([
      '--port',
      '0',
      '--access-key',
      'primary-key',
      '--access-key',
      SECONDARY_KEY,
    ]);
    const first = await lines.next();
    const match = /^SignalR local service listening on http:\/\/127\.0\.0\.1:(\d+)$/.exec(
      String(first.value),
    );
    expect(match, String(first.value)).not.toBeNull();
    const url = `http://127.0.0.1:${match?.[1]}`;
    // The secondary key given on the command line is accepted.
    const token = await createClientToken(SECONDARY_KEY, clientUrl(url, 'chat'), {
      userId: 'ann',
    });
    const negotiated = await http('POST', `${url}/client/negotiate?hub=chat&negotiateVersion=1`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(negotiated.status).toBe(200);
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it('reads a settings file, and refuses an unknown option with exit code 2 and a message', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'signalr-cli-'));
    const settings = join(dir, 'settings.json');
    writeFileSync(
      settings,
      JSON.stringify({ upstream: [{ urlTemplate: 'http://127.0.0.1:9/{event}' }], colour: 1 }),
    );
    const bad = run(['--settings', settings, '--port', '0']);
    const [code] = await once(bad.child, 'exit');
    expect(code).toBe(2);
    expect(bad.stderr()).toContain('unknown option "colour"');

    writeFileSync(settings, JSON.stringify({ maxMessageBytes: 2048, port: 1 }));
    const good = run(['--settings', settings, '--port', '0']);
    expect(String((await good.lines.next()).value)).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+$/);
    good.child.kill('SIGTERM');
    await once(good.child, 'exit');
  });

  it('is what the npm script runs', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.service).toContain('node dist/src/local/service/cli.js');
  });
});
