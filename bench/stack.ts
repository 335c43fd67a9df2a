/**
 * Starts the servers a scenario measures, each in its own process: the bare `ws` baselines, the local
 * service (SignalR and Web PubSub wings), the Functions host(s), the front end in front of several hosts
 * and Azurite (in memory, through the launcher in src/local/azurite.ts).
 */
import { createServer } from 'node:net';
import { type RunningAzurite, startAzurite as startAzuriteProcess } from '../src/local/azurite.js';
import {
  DEV_ACCESS_KEY,
  devSignalRConnectionString,
  devWebPubSubConnectionString,
} from '../src/local/dev-constants.js';
import { listenOnLoopback } from './net.js';
import { type BenchChild, forkChild, trackProcess } from './processes.js';
import { benchModule } from './scenario.js';
import type { BenchWebPubSubHandler } from './servers/service.js';

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

/** The fair echo baseline (bench/servers/relay-post.ts): one keep-alive POST to `upstream` per frame. */
export async function startRelayPost(upstream: string): Promise<RunningServer> {
  const { child, ready } = await forkChild('relay-post', benchModule('./servers/relay-post.js'), {
    args: [upstream],
  });
  return { child, url: String(ready.url), pid: child.pid, stop: (graceMs?: number) => child.stop(graceMs) };
}

export interface ServiceOptions {
  /** Upstream URL template, e.g. `http://127.0.0.1:7071/api/messages?event={event}`; none: no upstream. */
  upstream?: string;
  /** The Web PubSub wing's event handler for every hub; none: Web PubSub events go nowhere. */
  webPubSub?: BenchWebPubSubHandler;
  /** Extra Node flags for the service process (`--cpu-prof`, `--expose-gc`). */
  execArgv?: string[];
}

/** The local service (SignalR Serverless and Web PubSub) in its own process. */
export async function startServiceProcess(options: ServiceOptions = {}): Promise<RunningServer> {
  const { child, ready } = await forkChild('local service', benchModule('./servers/service.js'), {
    args: [
      JSON.stringify({
        upstream: options.upstream ?? null,
        accessKey: DEV_ACCESS_KEY,
        ...(options.webPubSub ? { webPubSub: options.webPubSub } : {}),
      }),
    ],
    execArgv: options.execArgv ?? [],
  });
  return { child, url: String(ready.url), pid: child.pid, stop: (graceMs?: number) => child.stop(graceMs) };
}

/** The service's connection string for a REST client of `service` (the wings have different keys). */
export function connectionString(serviceUrl: string, service: 'signalr' | 'webpubsub' = 'signalr'): string {
  if (service === 'signalr') return devSignalRConnectionString(serviceUrl);
  // The service's own name for itself (`http://localhost:<port>`): the app allows only that host in the
  // abuse-protection handshake, as it allows only its Web PubSub resource's host on Azure.
  return devWebPubSubConnectionString(`http://localhost:${new URL(serviceUrl).port}`);
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

/** The front end of several Functions hosts (bench/servers/front-end.ts) in its own process. */
export async function startFrontEndProcess(
  backends: string[],
  execArgv: string[] = [],
): Promise<RunningServer> {
  const { child, ready } = await forkChild('front end', benchModule('./servers/front-end.js'), {
    args: [JSON.stringify({ backends })],
    execArgv,
  });
  return { child, url: String(ready.url), pid: child.pid, stop: (graceMs?: number) => child.stop(graceMs) };
}

/** A free loopback port (for a server that must be named before it starts, such as the upstream's host). */
export async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listenOnLoopback(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Azurite's blob service in memory on a free port (the launcher of `npm start` and the tests), counted among the
 * children that {@link stopAll} stops on the way out.
 */
export async function startAzurite(): Promise<RunningAzurite> {
  const azurite = await startAzuriteProcess();
  trackProcess(azurite.child);
  return azurite;
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
