/**
 * Starts a real Azurite Blob emulator for tests: its own process, a free port, in-memory by default.
 *
 * Azurite is asked for port 0 and reports the port the OS chose ("successfully listens on http://…"), so two
 * test files running at once never race for a port. `stop()` signals the process by its PID and waits for it to
 * exit. A forgotten Azurite is stopped when the test worker exits, and — through `azurite-watchdog.cjs` — even
 * when the worker is killed outright.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Azurite's well-known development account (public, documented by Microsoft; not a secret). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** How long Azurite may take to report that it listens before the start counts as failed. */
export const DEFAULT_START_TIMEOUT_MS = 30_000;
/** How long `stop()` waits after SIGTERM before it sends SIGKILL. */
export const DEFAULT_STOP_GRACE_MS = 10_000;

export interface AzuriteOptions {
  /**
   * Keep data on disk in this folder (`--location`), so a restarted Azurite sees it again.
   * Absent: `--inMemoryPersistence`, nothing is written anywhere.
   */
  location?: string;
  /** The port to listen on; default 0 (a free port chosen by the OS). Pass the old port to restart "the same" Azurite. */
  port?: number;
  /** See {@link DEFAULT_START_TIMEOUT_MS}. */
  startTimeoutMs?: number;
}

export interface RunningAzurite {
  /** A storage connection string for the Blob endpoint (well-known dev account). */
  connectionString: string;
  /** `http://127.0.0.1:<port>/devstoreaccount1` */
  blobEndpoint: string;
  port: number;
  /** The data folder, when started with `location`. */
  location?: string;
  /** Stops Azurite (SIGTERM, then SIGKILL after a grace period) and resolves once the process has exited. */
  stop(): Promise<void>;
}

const require = createRequire(import.meta.url);
// The `azurite-blob` bin target; spawned with this very Node so it works without a shell on every platform.
const AZURITE_BLOB_MAIN = require.resolve('azurite/dist/src/blob/main.js');
const WATCHDOG = fileURLToPath(new URL('./azurite-watchdog.cjs', import.meta.url));
const LISTENING = /successfully listens on (https?:\/\/[^\s]+)/;

/** Starts an in-memory Azurite Blob service on a free port (or with `options.location`, on disk). */
export async function startAzurite(options: AzuriteOptions = {}): Promise<RunningAzurite> {
  const args = [
    '--require',
    WATCHDOG,
    AZURITE_BLOB_MAIN,
    '--blobHost',
    '127.0.0.1',
    '--blobPort',
    String(options.port ?? 0),
    '--skipApiVersionCheck',
    '--disableTelemetry',
    '--silent',
    ...(options.location === undefined ? ['--inMemoryPersistence'] : ['--location', options.location]),
  ];
  // stdin is a pipe only so that the watchdog sees it close when this process dies.
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`Azurite did not report listening within ${timeoutMs} ms. Output:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = LISTENING.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(
        new Error(`Azurite exited before listening (code ${code}, signal ${signal}). Output:\n${output}`),
      );
    });
  });
  // Keep draining the pipes so a chatty Azurite can never block on a full pipe buffer.
  child.stdout?.resume();
  child.stderr?.resume();

  const port = Number(new URL(url).port);
  const blobEndpoint = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
  await waitUntilAnswering(blobEndpoint);

  return {
    connectionString: azuriteConnectionString(blobEndpoint),
    blobEndpoint,
    port,
    ...(options.location === undefined ? {} : { location: options.location }),
    stop: async () => {
      process.removeListener('exit', killOnExit);
      await stopProcess(child);
    },
  };
}

/**
 * Starts Azurite with its data in `location` (created by Azurite if missing). Restart tests stop it and call this
 * again with the same folder and `{ port: previous.port }`, so clients built from the old connection string still work.
 */
export function startAzuriteOnDisk(
  location: string,
  options: Omit<AzuriteOptions, 'location'> = {},
): Promise<RunningAzurite> {
  return startAzurite({ ...options, location });
}

/** The connection string for the well-known dev account at a given Blob endpoint. */
export function azuriteConnectionString(blobEndpoint: string): string {
  return `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_ACCOUNT_KEY};BlobEndpoint=${blobEndpoint};`;
}

/** Any HTTP answer (even 4xx for the missing signature) proves the request pipeline is up. */
async function waitUntilAnswering(blobEndpoint: string): Promise<void> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      const response = await fetch(`${blobEndpoint}?comp=list`);
      await response.arrayBuffer();
      return;
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`Azurite at ${blobEndpoint} does not answer: ${String(lastError)}`);
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    // SIGTERM lets Azurite close its server and save its metadata database (needed for on-disk restarts).
    const force = setTimeout(() => child.kill('SIGKILL'), DEFAULT_STOP_GRACE_MS);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    if (child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
  });
}
