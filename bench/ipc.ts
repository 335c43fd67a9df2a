/**
 * The child side of the bench's IPC: announce readiness, answer requests, and exit when the orchestrator
 * goes away (so a crashed or interrupted bench never leaves servers or clients behind).
 */
import { writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { Session } from 'node:inspector/promises';
import type { WebSocketServer } from 'ws';
import { messageOf } from '../src/lib/error-message.js';
import { listenOnLoopback } from './net.js';
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
      (error: unknown) => tell({ type: 'error', message: messageOf(error) }),
    );
  });
}

/** Memory of this process, after a full GC when the child was started with `--expose-gc`. */
/**
 * A bare baseline server as a bench child: listens on a free loopback port, announces `ready` with its URL,
 * answers memory probes, and on `stop` ends its WebSocket clients, runs `release` for what else it holds,
 * and closes.
 */
export async function serveBaseline(
  server: Server,
  wss: WebSocketServer,
  release: () => void = () => {},
): Promise<void> {
  const port = await listenOnLoopback(server);
  tell({ type: 'ready', url: `http://127.0.0.1:${port}`, port });
  serve(
    async (message) => probe(message),
    async () => {
      for (const client of wss.clients) client.terminate();
      release();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  );
}

export interface MemoryProbe extends BenchMessage {
  type: 'memory';
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  gc: boolean;
}

/** The sampling heap profiler of this process, started by a `heap-start` probe. */
let heapSession: Session | undefined;

/**
 * Answers the probes every server child supports: `memory` (after GC where possible), `cpu`
 * (`process.cpuUsage()`, microseconds), and `heap-start` / `heap-stop` (V8's sampling heap profiler: the
 * profile written at `heap-stop` holds the allocations still live at that moment, by allocating function,
 * unlike `--heap-prof`, which is written at exit after the connections are gone). Returns undefined for
 * other messages.
 */
export async function probe(message: BenchMessage): Promise<BenchMessage | undefined> {
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
  if (message.type === 'heap-start') {
    heapSession = new Session();
    heapSession.connect();
    await heapSession.post('HeapProfiler.enable');
    await heapSession.post('HeapProfiler.startSampling', {
      samplingInterval: Number(message.intervalBytes ?? 4096),
    });
    return { type: 'heap-started' };
  }
  if (message.type === 'heap-stop') {
    if (!heapSession) throw new Error('heap-stop without heap-start');
    const { profile } = await heapSession.post('HeapProfiler.stopSampling');
    heapSession.disconnect();
    heapSession = undefined;
    writeFileSync(String(message.path), JSON.stringify(profile));
    return { type: 'heap-stopped', path: message.path };
  }
  return undefined;
}
