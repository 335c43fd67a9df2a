/**
 * Scenario 4, memory: resident memory (VmRSS from /proc/<pid>/status) of the service per idle connection
 * at 5 000 connections, for SignalR (JSON hub protocol, after its handshake) and Web PubSub
 * (`json.webpubsub.azure.v1`, after its `connected` message), against a bare `ws` server holding the same
 * connections. The
 * server runs with `--expose-gc` and is collected before each reading, so the figure is what the
 * connections keep, not garbage waiting for the next GC. The clients live in two generator processes.
 */
import { existsSync } from 'node:fs';
import { messageOf } from '../../src/lib/error-message.js';
import { DEV_ACCESS_KEY, DEV_WEBPUBSUB_ACCESS_KEY } from '../../src/local/dev-constants.js';
import type { MemoryProbe } from '../ipc.js';
import type { BenchChild } from '../processes.js';
import { residentBytes } from '../processes.js';
import { summariseHeapProfile } from '../profile.js';
import type { Figure, ScenarioResult, Target } from '../report.js';
import { BENCH_HUB, type BenchContext, type Scenario } from '../scenario.js';
import { type RunningServer, startBare, startGenerator, startServiceProcess } from '../stack.js';

/** Full-run defaults; connections are split evenly over `generators` client processes. */
/** The target: resident memory per idle connection, in KiB, at most. */
export const IDLE_CONNECTION_TARGET_KIB = 16;

export const FULL = { connections: 5000, generators: 2, settleMs: 2_000 };
export const QUICK = { connections: 500, generators: 1, settleMs: 500 };

interface Footprint {
  connections: number;
  rssBefore: number;
  rssAfter: number;
  rssPerConnection: number;
  heapPerConnection: number;
  externalPerConnection: number;
}

async function footprint(
  server: RunningServer,
  generators: BenchChild[],
  target: Record<string, unknown>,
  params: typeof FULL,
  heapProfilePath?: string,
): Promise<Footprint> {
  const before = await server.child.request<MemoryProbe>({ type: 'memory' }, 'memory');
  if (heapProfilePath)
    await server.child.request({ type: 'heap-start', intervalBytes: 4096 }, 'heap-started');
  const rssBefore = residentBytes(server.pid);
  const share = Math.ceil(params.connections / generators.length);
  await Promise.all(
    generators.map((generator, index) =>
      generator.request(
        {
          type: 'connect',
          target,
          clients: Math.min(share, params.connections - index * share),
          userPrefix: `idle${index}-`,
        },
        'connected',
        300_000,
      ),
    ),
  );
  await new Promise((resolve) => setTimeout(resolve, params.settleMs));
  const after = await server.child.request<MemoryProbe>({ type: 'memory' }, 'memory');
  const rssAfter = residentBytes(server.pid);
  if (heapProfilePath)
    await server.child.request({ type: 'heap-stop', path: heapProfilePath }, 'heap-stopped');
  const n = params.connections;
  return {
    connections: n,
    rssBefore,
    rssAfter,
    rssPerConnection: (rssAfter - rssBefore) / n,
    heapPerConnection: (after.heapUsed - before.heapUsed) / n,
    externalPerConnection: (after.external - before.external) / n,
  };
}

async function closeAll(generators: BenchChild[]): Promise<void> {
  await Promise.all(generators.map((generator) => generator.request({ type: 'close' }, 'closed')));
}

const kib = (bytes: number) => Math.round((bytes / 1024) * 10) / 10;

export const memory: Scenario = {
  id: 'memory',
  title: 'Memory: resident memory per idle connection',
  async run(context: BenchContext): Promise<ScenarioResult> {
    const params = context.quick ? QUICK : FULL;
    const generators = await Promise.all(
      Array.from({ length: params.generators }, (_, i) => startGenerator(`idle clients ${i}`)),
    );
    const figures: Figure[] = [];
    const notes: string[] = [];
    const failures: string[] = [];
    const details: Record<string, unknown> = {};
    const targets: Target[] = [];
    try {
      context.log(`memory: bare ws baseline, ${params.connections} idle connections`);
      const bare = await startBare('idle', ['--expose-gc']);
      let baseline: Footprint;
      try {
        baseline = await footprint(bare, generators, { kind: 'bare', url: bare.url }, params);
        await closeAll(generators);
      } finally {
        await bare.stop();
      }
      details.baseline = baseline;
      for (const realtime of ['signalr', 'webpubsub'] as const) {
        const label = realtime === 'signalr' ? 'SignalR' : 'Web PubSub';
        context.log(`memory: service, ${label}, ${params.connections} idle connections`);
        const heapProfile = `memory-${realtime}.heapprofile`;
        try {
          const service = await startServiceProcess({
            execArgv: ['--expose-gc'],
          });
          let ours: Footprint;
          try {
            ours = await footprint(
              service,
              generators,
              {
                kind: realtime,
                endpoint: service.url,
                hub: BENCH_HUB,
                accessKey: realtime === 'signalr' ? DEV_ACCESS_KEY : DEV_WEBPUBSUB_ACCESS_KEY,
              },
              params,
              context.profile ? new URL(heapProfile, context.profileDir).pathname : undefined,
            );
          } finally {
            await service.stop();
            await closeAll(generators);
          }
          details[realtime] = ours;
          targets.push({
            name: `resident memory per idle connection, ${label}`,
            value: kib(ours.rssPerConnection),
            unit: 'KiB',
            comparison: '≤',
            limit: IDLE_CONNECTION_TARGET_KIB,
            note: `${params.connections} connections`,
          });
          figures.push(
            {
              name: `${label}: RSS per idle connection`,
              unit: 'KiB',
              ours: kib(ours.rssPerConnection),
              baseline: kib(baseline.rssPerConnection),
              better: 'lower',
            },
            {
              name: `${label}: JS heap per idle connection`,
              unit: 'KiB',
              ours: kib(ours.heapPerConnection),
              baseline: kib(baseline.heapPerConnection),
              better: 'lower',
            },
          );
          notes.push(
            `${label}: RSS ${Math.round(ours.rssBefore / 2 ** 20)} → ${Math.round(ours.rssAfter / 2 ** 20)} MiB; per connection ${kib(ours.rssPerConnection)} KiB RSS of which ${kib(ours.heapPerConnection)} KiB JS heap and ${kib(ours.externalPerConnection)} KiB external (Buffers)`,
          );
          const heapPath = new URL(heapProfile, context.profileDir).pathname;
          if (context.profile && existsSync(heapPath))
            notes.push(
              `${label} service heap allocated while the clients connected and still live with all of them connected, by allocating function: ${summariseHeapProfile(heapPath, 6).join('; ')}`,
            );
        } catch (error) {
          failures.push(`${label}: ${messageOf(error)}`);
        }
      }
      notes.push(
        `bare ws baseline: RSS ${Math.round(baseline.rssBefore / 2 ** 20)} → ${Math.round(baseline.rssAfter / 2 ** 20)} MiB; per connection ${kib(baseline.rssPerConnection)} KiB RSS, ${kib(baseline.heapPerConnection)} KiB JS heap`,
      );
    } finally {
      await Promise.all(generators.map((generator) => generator.stop()));
    }
    return {
      id: this.id,
      title: this.title,
      baselineLabel: 'bare `ws` server',
      status: failures.length === 0 ? 'ok' : 'failed',
      ...(failures.length > 0 ? { reason: failures.join('; ') } : {}),
      parameters: { ...params },
      figures,
      details,
      notes,
      targets,
    };
  },
};
