/**
 * The one Azurite launcher, used by `npm start`, the tests and the bench: Azurite's Blob service in its own
 * process, in memory or on disk, on a given port or on port 0.
 *
 * With port 0 Azurite reports the port the OS chose ("successfully listens on http://…"), so two test files
 * running at once never race for a port. `stop()` signals the process by its PID and waits for it to exit. An
 * Azurite whose starter forgot it is stopped when the starter exits, and — through `azurite-watchdog.cjs` — even
 * when the starter is killed outright.
 * See docs/architecture.md, "The local stack".
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { appRoot } from '../app/static-files.js';
import { azuriteBlobEndpoint, azuriteConnectionString } from './dev-constants.js';
import { DEFAULT_STOP_GRACE_MS, stopProcess } from './stop-process.js';

/** How long Azurite may take to report that it listens before the start counts as failed. */
export const DEFAULT_START_TIMEOUT_MS = 30_000;
/** The interface Azurite binds to: local development only. */
export const AZURITE_HOST = '127.0.0.1';

export interface AzuriteOptions {
  /**
   * Keep data on disk in this folder (`--location`, created by Azurite if missing), so a restarted Azurite sees
   * it again. Absent: `--inMemoryPersistence`, nothing is written anywhere.
   */
  location?: string;
  /** The port to listen on; default 0 (a free port chosen by the OS). Pass the old port to restart "the same" Azurite. */
  port?: number;
  /** See {@link DEFAULT_START_TIMEOUT_MS}. */
  startTimeoutMs?: number;
}

export interface RunningAzurite {
  /** A storage connection string for the Blob endpoint (well-known dev account). */
  readonly connectionString: string;
  /** `http://127.0.0.1:<port>/devstoreaccount1` */
  readonly blobEndpoint: string;
  readonly port: number;
  /** The data folder, when started with `location`. */
  readonly location?: string;
  /** The process id, by which `stop()` signals it. */
  readonly pid: number;
  /** The Azurite process, for a starter that watches its `exit`. */
  readonly child: ChildProcess;
  /**
   * Stops Azurite (SIGTERM, then SIGKILL after `graceMs`, default {@link DEFAULT_STOP_GRACE_MS}) and resolves once
   * the process has exited.
   */
  stop(graceMs?: number): Promise<void>;
}

const LISTENING = /successfully listens on (https?:\/\/[^\s]+)/;

/**
 * The command line of Azurite's Blob service (`azurite-blob`), to run with this very Node so no shell is needed
 * on any platform: `--skipApiVersionCheck` (the SDK is newer than the emulator), `--disableTelemetry`
 * (otherwise it reaches out to the internet).
 */
export function azuriteArgs(options: Pick<AzuriteOptions, 'location' | 'port'> = {}): string[] {
  return [
    createRequire(import.meta.url).resolve('azurite/dist/src/blob/main.js'),
    ...['--blobHost', AZURITE_HOST, '--blobPort', String(options.port ?? 0)],
    ...(options.location === undefined ? ['--inMemoryPersistence'] : ['--location', options.location]),
    ...['--skipApiVersionCheck', '--disableTelemetry', '--silent'],
  ];
}

/** Starts Azurite's Blob service; resolves once it answers HTTP. */
export async function startAzurite(options: AzuriteOptions = {}): Promise<RunningAzurite> {
  // Preloaded into Azurite; it is not compiled, so it is found from the app root whether this runs from src/ or dist/.
  const watchdog = join(appRoot(), 'src', 'local', 'azurite-watchdog.cjs');
  // stdin is a pipe only so that the watchdog sees it close when this process dies.
  const child = spawn(process.execPath, ['--require', watchdog, ...azuriteArgs(options)], {
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(options.location === undefined ? {} : { cwd: options.location }),
  });
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
  }).catch((error: unknown) => {
    process.removeListener('exit', killOnExit);
    throw error;
  });
  // Keep draining the pipes so a chatty Azurite can never block on a full pipe buffer.
  child.stdout?.resume();
  child.stderr?.resume();

  const port = Number(new URL(url).port);
  const blobEndpoint = azuriteBlobEndpoint(port);
  await waitUntilAnswering(blobEndpoint);

  return {
    connectionString: azuriteConnectionString(blobEndpoint),
    blobEndpoint,
    port,
    ...(options.location === undefined ? {} : { location: options.location }),
    pid: child.pid ?? -1,
    child,
    stop: async (graceMs = DEFAULT_STOP_GRACE_MS) => {
      process.removeListener('exit', killOnExit);
      // SIGTERM lets Azurite close its server and save its metadata database (needed for on-disk restarts).
      await stopProcess(child, graceMs);
    },
  };
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
