/**
 * Child processes of the bench: every server and every load generator runs in its own process, so the
 * numbers of one are not the CPU of another, and the service's resident memory can be read from /proc.
 * The orchestrator talks to children over the IPC channel of `fork` with `{ type, ... }` messages.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { DEFAULT_STOP_GRACE_MS, stopProcess } from '../src/local/stop-process.js';

/** A message between the orchestrator and a child. */
export interface BenchMessage {
  type: string;
  [key: string]: unknown;
}

/** How long a child may take to answer a request unless the caller says otherwise. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 120_000;

const running = new Set<ChildProcess>();

/** A forked child with request/answer messaging. */
export class BenchChild {
  readonly #inbox: BenchMessage[] = [];
  readonly #waiters: Array<(message: BenchMessage) => boolean> = [];
  #exitError: Error | undefined;

  constructor(
    readonly name: string,
    readonly process: ChildProcess,
  ) {
    process.on('message', (raw) => {
      const message = raw as BenchMessage;
      const index = this.#waiters.findIndex((accept) => accept(message));
      if (index >= 0) this.#waiters.splice(index, 1);
      else this.#inbox.push(message);
    });
    process.on('exit', (code, signal) => {
      running.delete(process);
      this.#exitError = new Error(`${name} exited (code ${code}, signal ${signal})`);
      for (const waiter of this.#waiters.splice(0))
        waiter({ type: 'error', message: this.#exitError.message });
    });
  }

  /** The operating system's process id. */
  get pid(): number {
    return this.process.pid ?? -1;
  }

  /** Resolves with the next message of type `type`; rejects on an `error` message, exit or timeout. */
  next<T extends BenchMessage = BenchMessage>(
    type: string,
    timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
  ): Promise<T> {
    const queued = this.#inbox.findIndex((m) => m.type === type || m.type === 'error');
    if (queued >= 0) {
      const [message] = this.#inbox.splice(queued, 1);
      return message?.type === 'error'
        ? Promise.reject(new Error(`${this.name}: ${String(message.message)}`))
        : Promise.resolve(message as T);
    }
    if (this.#exitError) return Promise.reject(this.#exitError);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        const index = this.#waiters.indexOf(accept);
        if (index >= 0) this.#waiters.splice(index, 1);
        reject(new Error(`${this.name}: no '${type}' within ${timeoutMs} ms`));
      }, timeoutMs);
      const accept = (message: BenchMessage): boolean => {
        if (message.type !== type && message.type !== 'error') return false;
        clearTimeout(timer);
        if (message.type === 'error') reject(new Error(`${this.name}: ${String(message.message)}`));
        else resolve(message as T);
        return true;
      };
      this.#waiters.push(accept);
    });
  }

  /** Sends `message` and waits for the answer of type `answer`. */
  request<T extends BenchMessage = BenchMessage>(
    message: BenchMessage,
    answer: string,
    timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
  ): Promise<T> {
    const reply = this.next<T>(answer, timeoutMs);
    this.process.send(message);
    return reply;
  }

  /** Stops the child: SIGTERM, then SIGKILL after `graceMs` (default {@link DEFAULT_STOP_GRACE_MS}). */
  stop(graceMs = DEFAULT_STOP_GRACE_MS): Promise<void> {
    return stopProcess(this.process, graceMs);
  }
}

/**
 * Forks `script` (a compiled bench module) and waits for its `ready` message. `execArgv` adds Node flags
 * such as `--cpu-prof` or `--expose-gc`.
 */
export async function forkChild(
  name: string,
  script: URL,
  options: { args?: string[]; execArgv?: string[]; env?: NodeJS.ProcessEnv; readyTimeoutMs?: number } = {},
): Promise<{ child: BenchChild; ready: BenchMessage }> {
  const processHandle = fork(script, options.args ?? [], {
    execArgv: options.execArgv ?? [],
    env: options.env ?? process.env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  running.add(processHandle);
  const child = new BenchChild(name, processHandle);
  try {
    const ready = await child.next('ready', options.readyTimeoutMs ?? 60_000);
    return { child, ready };
  } catch (error) {
    await child.stop();
    throw error;
  }
}

/** Counts a process started elsewhere (Azurite) among the children {@link stopAll} stops. */
export function trackProcess(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  running.add(child);
  child.on('exit', () => running.delete(child));
}

/** Stops every child this process started (used on the way out, also after a failure). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((child) => stopProcess(child)));
}

/** Resident set size of a process in bytes, from /proc/<pid>/status (VmRSS). */
export function residentBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match?.[1]) throw new Error(`No VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on every common Linux build). */
export const CLOCK_TICKS_PER_SECOND = 100;

/** User + system CPU time of a process in milliseconds, from /proc/<pid>/stat (10 ms resolution). */
export function cpuMillis(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces and parentheses: count fields after its closing ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/**
 * CPU time of a bench child in milliseconds with microsecond resolution (its `cpu` probe answers
 * `process.cpuUsage()`); /proc's 10 ms ticks are too coarse for a short step of a light process.
 */
export async function childCpuMillis(child: BenchChild): Promise<number> {
  const answer = await child.request<BenchMessage & { micros: number }>({ type: 'cpu' }, 'cpu');
  return answer.micros / 1000;
}
