/**
 * A scaled-out Function app on one machine: N built-in Functions hosts, each in its own process, behind the
 * round-robin front end (front-end.ts). `npm start` and the tests use it (docs/architecture.md, "Many Function
 * instances").
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { type RunningFrontEnd, startFrontEnd } from './front-end.js';

/** The setting (and `npm start` flag `--instances`) for how many hosts run, and its default. */
export const FUNCTIONS_INSTANCES_SETTING = {
  variable: 'FUNCTIONS_INSTANCES',
  flag: '--instances',
  default: 1,
};
/** The most hosts one machine runs: each is a Node.js process of its own. */
export const MAX_FUNCTIONS_INSTANCES = 16;
/** How long one host may take to start. */
export const DEFAULT_HOST_START_TIMEOUT_MS = 60_000;
/** How long a host may take to stop after SIGTERM before it is killed. */
export const DEFAULT_HOST_STOP_GRACE_MS = 10_000;

/** The instance count from `--instances <n>` (or `--instances=<n>`), else `FUNCTIONS_INSTANCES`, else 1. */
export function readInstanceCount(
  argv: readonly string[] = process.argv.slice(2),
  env: NodeJS.ProcessEnv = process.env,
): number {
  const { variable, flag } = FUNCTIONS_INSTANCES_SETTING;
  let raw = env[variable];
  let from = variable;
  argv.forEach((arg, i) => {
    if (arg === flag) {
      raw = argv[i + 1];
      from = flag;
    } else if (arg.startsWith(`${flag}=`)) {
      raw = arg.slice(flag.length + 1);
      from = flag;
    }
  });
  if (raw === undefined || raw === '') return FUNCTIONS_INSTANCES_SETTING.default;
  const count = Number(raw);
  if (!Number.isInteger(count) || count < 1 || count > MAX_FUNCTIONS_INSTANCES) {
    throw new Error(
      `${from} ${raw} is not an instance count: give a whole number from 1 to ${MAX_FUNCTIONS_INSTANCES}`,
    );
  }
  return count;
}

export interface InstancesOptions {
  /** How many hosts. */
  count: number;
  /** The front end's port; 0 picks a free one. */
  port?: number;
  /** A front end already started (when others must know its address before the hosts start). */
  frontEnd?: RunningFrontEnd;
  /** The host's compiled entry point (`dist/src/local/functions-host/process.js`). */
  hostScript: string;
  /** The app settings of every host (added to this process's environment). */
  env: Record<string, string>;
  /** Where the hosts' output goes, line by line (default: this process's console). */
  log?: (line: string) => void;
  /** Print every invocation's log line (default: errors only). */
  verbose?: boolean;
  /** See {@link DEFAULT_HOST_START_TIMEOUT_MS}. */
  startTimeoutMs?: number;
}

export interface RunningInstances {
  /** The front end's URL: the app's one address. */
  readonly url: string;
  readonly port: number;
  readonly frontEnd: RunningFrontEnd;
  /** The hosts' own URLs, by index (undefined while one is down). */
  readonly hosts: readonly (string | undefined)[];
  /** Kills host `index` at once (SIGKILL), as when an instance dies: its invocations in flight are cut. */
  kill(index: number): Promise<void>;
  /** Stops host `index` gracefully (SIGTERM), as when the platform scales in. */
  stop(index: number): Promise<void>;
  /** Starts host `index` again (a fresh process with empty memory) and puts it back into the rotation. */
  start(index: number): Promise<void>;
  /** Stops every host, then the front end. */
  close(): Promise<void>;
}

export async function startInstances(options: InstancesOptions): Promise<RunningInstances> {
  const log = options.log ?? ((line: string) => console.log(line));
  const frontEnd = options.frontEnd ?? (await startFrontEnd({ port: options.port ?? 0, log }));
  const children: (ChildProcess | undefined)[] = [];
  const hosts: (string | undefined)[] = [];

  const startHost = async (index: number) => {
    const { child, url } = await spawnHost(options, index, log);
    children[index] = child;
    hosts[index] = url;
    frontEnd.add(url);
    child.once('exit', () => {
      if (children[index] === child) {
        children[index] = undefined;
        hosts[index] = undefined;
      }
    });
  };
  const stopHost = async (index: number, signal: NodeJS.Signals) => {
    const child = children[index];
    const url = hosts[index];
    if (child === undefined) return;
    // A graceful stop leaves the rotation first, as the platform drains an instance; a killed one does not.
    if (signal === 'SIGTERM' && url !== undefined) frontEnd.remove(url);
    await stopChild(child, signal);
    if (url !== undefined) frontEnd.remove(url);
  };

  try {
    await Promise.all(Array.from({ length: options.count }, (_, i) => startHost(i)));
  } catch (error) {
    await Promise.all(children.map((c) => c && stopChild(c, 'SIGKILL')));
    await frontEnd.close();
    throw error;
  }
  return {
    url: frontEnd.url,
    port: frontEnd.port,
    frontEnd,
    hosts,
    kill: (index) => stopHost(index, 'SIGKILL'),
    stop: (index) => stopHost(index, 'SIGTERM'),
    async start(index) {
      if (children[index] === undefined) await startHost(index);
    },
    async close() {
      await Promise.all(children.map((_, i) => stopHost(i, 'SIGTERM')));
      await frontEnd.close();
    },
  };
}

function spawnHost(
  options: InstancesOptions,
  index: number,
  log: (line: string) => void,
): Promise<{ child: ChildProcess; url: string }> {
  const label = `host ${index + 1}`;
  const child = spawn(process.execPath, [options.hostScript], {
    env: {
      ...process.env,
      ...options.env,
      FUNCTIONS_HOST_PORT: '0',
      FUNCTIONS_HOST_LABEL: label,
      FUNCTIONS_HOST_QUIET: options.verbose ? '0' : '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const timeoutMs = options.startTimeoutMs ?? DEFAULT_HOST_START_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    let ready = false;
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${label} did not start within ${timeoutMs} ms:\n${output.slice(-2000)}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      for (const line of text.split('\n')) if (line.trim() !== '') log(line);
      if (ready) return;
      output += text;
      const match = /Functions host listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        ready = true;
        clearTimeout(timer);
        resolve({ child, url: match[1] as string });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => {
      if (ready) return;
      clearTimeout(timer);
      reject(new Error(`${label} exited before it was ready (code ${code}, signal ${signal}):\n${output}`));
    });
  });
}

function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), DEFAULT_HOST_STOP_GRACE_MS);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill(signal);
  });
}
