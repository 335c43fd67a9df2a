/**
 * Starts the servers a scenario measures, each in its own process: the bare `ws` baselines, the local
 * SignalR service, the Functions host and Azurite (in memory). The bench cannot use `test/support/` (it is
 * not compiled), so this is its own small launcher.
 */
import { once } from 'node:events';
import { createServer } from 'node:net';
import { type BenchChild, forkChild, spawnTracked, stopProcess } from './processes.js';
import { BENCH_ACCESS_KEY, benchModule } from './scenario.js';

/** A server child and the URL it listens on. */
export interface RunningServer {
  child: BenchChild;
  url: string;
  pid: number;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** The bare `ws` server in `mode` (see bench/servers/bare-ws.ts). */
export async function startBare(
  mode: 'broadcast' | 'echo' | 'idle',
  execArgv: string[] = [],
): Promise<RunningServer> {
  const { child, ready } = await forkChild(`bare-ws ${mode}`, benchModule('./servers/bare-ws.js'), {
    args: [mode],
    execArgv,
  });
  return { child, url: String(ready.url), pid: child.pid, stop: (graceMs?: number) => child.stop(graceMs) };
}

export interface ServiceOptions {
  /** Upstream URL template, e.g. `http://127.0.0.1:7071/api/messages?event={event}`; none: no upstream. */
  upstream?: string;
  /** Extra Node flags for the service process (`--cpu-prof`, `--expose-gc`). */
  execArgv?: string[];
}

/** The local SignalR Serverless service in its own process. */
export async function startServiceProcess(options: ServiceOptions = {}): Promise<RunningServer> {
  const { child, ready } = await forkChild('local service', benchModule('./servers/service.js'), {
    args: [JSON.stringify({ upstream: options.upstream ?? null, accessKey: BENCH_ACCESS_KEY })],
    execArgv: options.execArgv ?? [],
  });
  return { child, url: String(ready.url), pid: child.pid, stop: (graceMs?: number) => child.stop(graceMs) };
}

/** The service's connection string for a REST client. */
export function connectionString(serviceUrl: string): string {
  return `Endpoint=${serviceUrl};AccessKey=${BENCH_ACCESS_KEY};Version=1.0;`;
}

/** The built-in Functions host with the given app settings, in its own process. */
export async function startFunctionsProcess(
  settings: Record<string, string>,
  execArgv: string[] = [],
): Promise<RunningServer> {
  const { child, ready } = await forkChild('functions host', benchModule('./servers/functions.js'), {
    env: { ...process.env, ...settings },
    execArgv,
  });
  return { child, url: String(ready.url), pid: child.pid, stop: (graceMs?: number) => child.stop(graceMs) };
}

/** A free loopback port (Azurite takes a port number, not 0). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Azurite's well-known development account key (public, in every Azurite doc). */
const AZURITE_ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** Azurite's blob service in memory on a free port; resolves with its connection string once it listens. */
export async function startAzurite(): Promise<{
  connectionString: string;
  pid: number;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}> {
  const port = await freePort();
  const bin = new URL('../../node_modules/.bin/azurite-blob', import.meta.url).pathname;
  const child = spawnTracked(bin, [
    '--inMemoryPersistence',
    '--skipApiVersionCheck',
    '--disableTelemetry',
    '--silent',
    '--blobHost',
    '127.0.0.1',
    '--blobPort',
    String(port),
  ]);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const deadline = Date.now() + 30_000;
  while (!/successfully listens/.test(output)) {
    if (child.exitCode !== null) throw new Error(`Azurite exited: ${output.slice(0, 500)}`);
    if (Date.now() > deadline) {
      await stopProcess(child);
      throw new Error(`Azurite did not start within 30 s: ${output.slice(0, 500)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const connectionString =
    `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${AZURITE_ACCOUNT_KEY};` +
    `BlobEndpoint=http://127.0.0.1:${port}/devstoreaccount1;`;
  return { connectionString, pid: child.pid ?? -1, stop: () => stopProcess(child) };
}

/** A load-generator child (bench/load/generator.ts). */
export async function startGenerator(name = 'load generator'): Promise<BenchChild> {
  const { child } = await forkChild(name, benchModule('./load/generator.js'));
  return child;
}

/** Node flags that make a server write a CPU profile named `name` into `dir` when it exits. */
export function cpuProfileFlags(dir: URL, name: string): string[] {
  return ['--cpu-prof', `--cpu-prof-dir=${dir.pathname}`, `--cpu-prof-name=${name}.cpuprofile`];
}
