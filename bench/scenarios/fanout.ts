/**
 * Scenario 1, fan-out: N clients connected, REST broadcasts of 1 KiB for a fixed time. Figures: delivered
 * messages/s and p50/p99 latency from the REST call to the client's receipt, for each service the local
 * service stands in for: SignalR (REST `POST /api/v1/hubs/{hub}`, JSON hub protocol) and Web PubSub (REST
 * `POST /api/hubs/{hub}/:send?api-version=2024-12-01` through Microsoft's SDK as the app sends it, clients
 * with `json.webpubsub.azure.v1`), against a bare `ws` server that broadcasts the same payload (on an HTTP
 * POST) to the same N clients. Beside them: SignalR with the MessagePack hub protocol (against the same bare
 * `ws` baseline; skipped with the service's reason if it refuses the handshake), and SignalR over
 * Server-Sent Events against a bare server that writes the same payload as one event to the same N event
 * streams.
 */
import { existsSync } from 'node:fs';
import { messageOf } from '../../src/lib/error-message.js';
import { DEV_ACCESS_KEY, DEV_WEBPUBSUB_ACCESS_KEY } from '../../src/local/dev-constants.js';
import { type BenchChild, type BenchMessage, cpuMillis } from '../processes.js';
import { describeProfile, summariseCpuProfile } from '../profile.js';
import type { Figure, ScenarioResult } from '../report.js';
import { BENCH_HUB, type BenchContext, type Scenario } from '../scenario.js';
import {
  connectionString,
  cpuProfileFlags,
  startBare,
  startGenerator,
  startServiceProcess,
} from '../stack.js';
import { Histogram, type HistogramData } from '../stats.js';

/** Full-run defaults; `--quick` uses {@link QUICK}. */
export const FULL = { clients: 1000, durationMs: 10_000, payloadBytes: 1024, window: 4, drainMs: 10_000 };
export const QUICK = { clients: 200, durationMs: 2_000, payloadBytes: 1024, window: 4, drainMs: 3_000 };

interface FanoutResult extends BenchMessage {
  type: 'result';
  clients: number;
  sent: number;
  delivered: number;
  expected: number;
  errors: number;
  lastError: string;
  elapsedMs: number;
  deliveredPerSecond: number;
  latency: HistogramData;
}

type Params = typeof FULL;

/**
 * Connects the clients, runs the broadcasts and reads the server's CPU time around the run: the CPU per
 * delivery does not depend on how fast the generator (sharing the same two cores) can receive.
 */
async function measure(
  generator: BenchChild,
  serverPid: number,
  target: Record<string, unknown>,
  broadcast: Record<string, unknown>,
  params: Params,
): Promise<FanoutResult & { serverCpuMs: number }> {
  await generator.request({ type: 'connect', target, clients: params.clients }, 'connected');
  try {
    const cpuBefore = cpuMillis(serverPid);
    const result = await generator.request<FanoutResult>(
      { type: 'fanout', broadcast, ...params },
      'result',
      params.durationMs + params.drainMs + 30_000,
    );
    return { ...result, serverCpuMs: cpuMillis(serverPid) - cpuBefore };
  } finally {
    await generator.request({ type: 'close' }, 'closed');
  }
}

function describe(result: FanoutResult & { serverCpuMs: number }) {
  const latency = Histogram.from(result.latency).summary();
  return {
    ...result,
    latency,
    serverCpuMicrosPerDelivery: (result.serverCpuMs * 1000) / Math.max(1, result.delivered),
  };
}

/** What the fan-out measures on the service: SignalR and Web PubSub, then MessagePack and Server-Sent Events. */
const VARIANTS: Array<{
  id: string;
  label: string;
  service: 'signalr' | 'webpubsub';
  protocol?: 'json' | 'messagepack';
  transport?: 'websockets' | 'sse';
}> = [
  { id: 'signalr', label: 'SignalR', service: 'signalr' },
  { id: 'webpubsub', label: 'Web PubSub', service: 'webpubsub' },
  { id: 'signalr-messagepack', label: 'SignalR MessagePack', service: 'signalr', protocol: 'messagepack' },
  { id: 'signalr-sse', label: 'SignalR Server-Sent Events', service: 'signalr', transport: 'sse' },
];

/** Connects one MessagePack client: undefined when the service accepts it, else the service's reason. */
async function messagePackRefusal(
  generator: BenchChild,
  target: Record<string, unknown>,
): Promise<string | undefined> {
  try {
    await generator.request({ type: 'connect', target, clients: 1 }, 'connected', 10_000);
    return undefined;
  } catch (error) {
    return messageOf(error);
  } finally {
    await generator.request({ type: 'close' }, 'closed');
  }
}

export const fanout: Scenario = {
  id: 'fanout',
  title: 'Fan-out: REST broadcast of 1 KiB messages to every connected client',
  async run(context: BenchContext): Promise<ScenarioResult> {
    const params = context.quick ? QUICK : FULL;
    const generator = await startGenerator();
    const notes: string[] = [];
    const details: Record<string, unknown> = {};
    const figures: Figure[] = [];
    const failures: string[] = [];
    try {
      /** Runs one bare broadcast server as a baseline; `clientKind` is how the generator's clients attach. */
      const bareBaseline = async (what: string, clientKind: 'bare' | 'bare-sse') => {
        context.log(`fanout: ${what} baseline, ${params.clients} clients`);
        const bare = await startBare('broadcast');
        try {
          return describe(
            await measure(
              generator,
              bare.pid,
              { kind: clientKind, url: bare.url },
              { kind: 'bare', url: bare.url },
              params,
            ),
          );
        } finally {
          await bare.stop();
        }
      };
      const baseline = await bareBaseline('bare ws', 'bare');
      details.baseline = baseline;
      notes.push(
        `bare ws baseline: ${Math.round(baseline.deliveredPerSecond)} msg/s delivered, p50 ${baseline.latency.p50Ms} ms, p99 ${baseline.latency.p99Ms} ms (${baseline.sent} broadcasts)`,
      );
      const sseBaseline = await bareBaseline('bare Server-Sent Events', 'bare-sse');
      details.sseBaseline = sseBaseline;
      notes.push(
        `bare Server-Sent Events baseline: ${Math.round(sseBaseline.deliveredPerSecond)} msg/s delivered, p50 ${sseBaseline.latency.p50Ms} ms, p99 ${sseBaseline.latency.p99Ms} ms`,
      );
      for (const variant of VARIANTS) {
        const realtime = variant.service;
        const label = variant.label;
        context.log(`fanout: service, ${label}, ${params.clients} clients`);
        const profileName = `fanout-${variant.id}`;
        let ours: ReturnType<typeof describe>;
        try {
          const service = await startServiceProcess({
            execArgv: context.profile ? cpuProfileFlags(context.profileDir, profileName) : [],
          });
          try {
            const target = {
              kind: realtime,
              endpoint: service.url,
              hub: BENCH_HUB,
              accessKey: realtime === 'webpubsub' ? DEV_WEBPUBSUB_ACCESS_KEY : DEV_ACCESS_KEY,
              ...(variant.protocol ? { protocol: variant.protocol } : {}),
              ...(variant.transport ? { transport: variant.transport } : {}),
            };
            if (variant.protocol === 'messagepack') {
              const refusal = await messagePackRefusal(generator, target);
              if (refusal) {
                notes.push(`${label}: not measured, the service refuses the handshake (${refusal})`);
                continue;
              }
            }
            ours = describe(
              await measure(
                generator,
                service.pid,
                target,
                {
                  kind: 'service',
                  service: realtime,
                  connectionString: connectionString(service.url, realtime),
                  hub: BENCH_HUB,
                },
                params,
              ),
            );
          } finally {
            await service.stop();
          }
        } catch (error) {
          failures.push(`${label}: ${messageOf(error)}`);
          continue;
        }
        const base = variant.transport === 'sse' ? sseBaseline : baseline;
        details[variant.id] = ours;
        const note = variant.transport === 'sse' ? 'baseline: bare Server-Sent Events' : undefined;
        const figure = (name: string, unit: string, o: number, b: number, better: 'higher' | 'lower') => ({
          name: `${label}: ${name}`,
          unit,
          ours: o,
          baseline: b,
          better,
          ...(note ? { note } : {}),
        });
        figures.push(
          figure('delivered messages/s', 'msg/s', ours.deliveredPerSecond, base.deliveredPerSecond, 'higher'),
          figure(
            'server CPU per delivery',
            'µs',
            ours.serverCpuMicrosPerDelivery,
            base.serverCpuMicrosPerDelivery,
            'lower',
          ),
          figure('p50 latency', 'ms', ours.latency.p50Ms, base.latency.p50Ms, 'lower'),
          figure('p99 latency', 'ms', ours.latency.p99Ms, base.latency.p99Ms, 'lower'),
        );
        if (ours.delivered < ours.expected || ours.errors > 0)
          notes.push(
            `${label}: ${ours.expected - ours.delivered} of ${ours.expected} deliveries missing, ${ours.errors} REST errors${ours.lastError ? ` (last: ${ours.lastError})` : ''}`,
          );
        const profilePath = new URL(`${profileName}.cpuprofile`, context.profileDir).pathname;
        if (context.profile && existsSync(profilePath))
          notes.push(
            ...describeProfile(summariseCpuProfile(profilePath)).map(
              (line) => `${label} service profile: ${line}`,
            ),
          );
      }
      if (baseline.delivered < baseline.expected)
        notes.push(
          `baseline: ${baseline.expected - baseline.delivered} of ${baseline.expected} deliveries missing`,
        );
    } finally {
      await generator.stop();
    }
    return {
      id: this.id,
      title: this.title,
      baselineLabel: 'bare `ws` broadcast server',
      status: failures.length === 0 ? 'ok' : 'failed',
      ...(failures.length > 0 ? { reason: failures.join('; ') } : {}),
      parameters: { ...params },
      figures,
      details,
      notes,
    };
  },
};
