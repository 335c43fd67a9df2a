/**
 * The child side of the bench's IPC: announce readiness, answer requests, and exit when the orchestrator
 * goes away (so a crashed or interrupted bench never leaves servers or clients behind).
 */
import type { BenchMessage } from './processes.js';

/** Sends a message to the orchestrator. */
export function tell(message: BenchMessage): void {
  process.send?.(message);
}

/**
 * Routes each request from the orchestrator to `handler`; its result is sent back, a thrown error becomes
 * an `error` message. A `stop` request runs `onStop` and exits.
 */
export function serve(
  handler: (message: BenchMessage) => Promise<BenchMessage | undefined>,
  onStop: () => Promise<void> = async () => {},
): void {
  if (!process.send) throw new Error('This bench module runs as a forked child of bench/run.js');
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    try {
      await onStop();
    } finally {
      process.exit(0);
    }
  };
  process.on('disconnect', () => void stop());
  process.on('SIGTERM', () => void stop());
  process.on('message', (raw) => {
    const message = raw as BenchMessage;
    if (message.type === 'stop') {
      void stop();
      return;
    }
    handler(message).then(
      (answer) => {
        if (answer) tell(answer);
      },
      (error: unknown) =>
        tell({ type: 'error', message: error instanceof Error ? error.message : String(error) }),
    );
  });
}

/** Memory of this process, after a full GC when the child was started with `--expose-gc`. */
export interface MemoryProbe extends BenchMessage {
  type: 'memory';
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  gc: boolean;
}

/**
 * Answers the probes every server child supports: `memory` (after GC where possible) and `cpu`
 * (`process.cpuUsage()`, microseconds). Returns undefined for other messages.
 */
export function probe(message: BenchMessage): BenchMessage | undefined {
  if (message.type === 'memory') {
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    gc?.();
    const usage = process.memoryUsage();
    const answer: MemoryProbe = {
      type: 'memory',
      rss: usage.rss,
      heapUsed: usage.heapUsed,
      external: usage.external,
      arrayBuffers: usage.arrayBuffers,
      gc: gc !== undefined,
    };
    return answer;
  }
  if (message.type === 'cpu') {
    const { user, system } = process.cpuUsage();
    return { type: 'cpu', micros: user + system };
  }
  return undefined;
}
