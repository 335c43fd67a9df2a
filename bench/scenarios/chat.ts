/**
 * Scenario 3, end-to-end chat: clients in the room through the local service + the built-in Functions
 * host + Azurite (in memory). The send rate steps up until the p99 time from a send until the message has
 * reached every receiver passes the limit (250 ms); the figure is the highest rate that stayed under it,
 * with the CPU time (service + Functions host + Azurite, from /proc/<pid>/stat) per delivered message at
 * that rate. Each message is a room `sendMessage` with a `clientMessageId`, as the page sends it (its marker
 * costs a Blob request of its own). Baseline: a bare `ws` relay (every frame from a client goes to every
 * client), stepped alike.
 */
import { existsSync } from 'node:fs';
import { messageOf } from '../../src/lib/error-message.js';
import { type BenchChild, type BenchMessage, cpuMillis } from '../processes.js';
import { describeProfile, summariseCpuProfile } from '../profile.js';
import type { Figure, ScenarioResult, Target } from '../report.js';
import type { BenchContext, Scenario } from '../scenario.js';
import {
  connectionString,
  cpuProfileFlags,
  freePort,
  startAzurite,
  startBare,
  startFunctionsProcess,
  startGenerator,
  startServiceProcess,
} from '../stack.js';
import { Histogram, type HistogramData } from '../stats.js';
import { BENCH_NEGOTIATES_PER_MINUTE } from './cost.js';

/** Clients joining the chat at once. */
export const JOIN_CONCURRENCY = 10;

/** The latency limit of the step search: p99 from send until every receiver has the message. */
export const P99_LIMIT_MS = 250;

/** The target: messages/s into a room of {@link FULL}.clients with p99 send-to-all-receivers under the limit. */
export const CHAT_RATE_TARGET = 500;

/** Full-run defaults. `rates` are total messages/s; the search stops at the first failing step. */
export const FULL = {
  clients: 200,
  // Every client sends: at the top step (1 600/s) each sends 8 a second, within the app's per-connection
  // command limit (CHAT_COMMANDS_PER_SECOND, 10 by default), so the steps measure the chat, not the limit.
  senders: 200,
  textBytes: 100,
  stepMs: 5_000,
  drainMs: 3_000,
  rates: [2, 5, 10, 20, 40, 80, 160, 320, 500, 640, 1280, 1600],
  dialects: ['signalr', 'websocket'] as Array<'signalr' | 'websocket'>,
};
export const QUICK = {
  clients: 20,
  senders: 10,
  textBytes: 100,
  stepMs: 1_500,
  drainMs: 1_000,
  rates: [10, 40],
  dialects: ['signalr'] as Array<'signalr' | 'websocket'>,
};

interface ChatResult extends BenchMessage {
  sent: number;
  delivered: number;
  completed: number;
  elapsedMs: number;
  perDelivery: HistogramData;
  complete: HistogramData;
}

interface Step {
  rate: number;
  sent: number;
  delivered: number;
  completed: number;
  deliveriesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  perDeliveryP99Ms: number;
  cpuMs: number;
  /** CPU ms of each server process during the step. */
  cpuByProcess: Record<string, number>;
  cpuMicrosPerDelivery: number;
  /** REST calls the Functions app made to the service per message sent, by kind (ours only). */
  restCallsPerMessage?: Record<string, number>;
  passed: boolean;
}

interface Search {
  receiversPerMessage: number;
  /** REST calls the Functions app made while the clients joined (ours only). */
  joinRestCalls?: Record<string, number>;
  steps: Step[];
  best: Step | undefined;
}

/** A server process whose CPU time counts. */
interface Measured {
  name: string;
  pid: number;
}

/** Reads and resets the Functions host's count of REST calls to the service. */
async function restCalls(functions: BenchChild | undefined): Promise<Record<string, number> | undefined> {
  if (!functions) return undefined;
  return (
    await functions.request<BenchMessage & { calls: Record<string, number> }>({ type: 'calls' }, 'calls')
  ).calls;
}

/** Steps the rate up on connected clients, counting the CPU time of `servers`. */
async function search(
  generator: BenchChild,
  servers: Measured[],
  params: typeof FULL,
  log: (t: string) => void,
  functions?: BenchChild,
) {
  const joinRestCalls = await restCalls(functions);
  const probe = await generator.request<BenchMessage & { receipts: number }>(
    { type: 'chat-probe', seq: 1, waitMs: 1_500, textBytes: params.textBytes },
    'probed',
  );
  if (probe.receipts === 0) throw new Error('a probe message reached no client: the chat does not deliver');
  const result: Search = {
    receiversPerMessage: probe.receipts,
    ...(joinRestCalls ? { joinRestCalls } : {}),
    steps: [],
    best: undefined,
  };
  for (const [index, rate] of params.rates.entries()) {
    await restCalls(functions); // drop the probe's and the previous drain's calls
    const cpuBefore = servers.map((server) => cpuMillis(server.pid));
    const run = await generator.request<ChatResult>(
      {
        type: 'chat',
        rate,
        durationMs: params.stepMs,
        senders: params.senders,
        textBytes: params.textBytes,
        drainMs: params.drainMs,
        receiversPerMessage: probe.receipts,
        firstSeq: (index + 1) * 1_000_000,
      },
      'result',
      params.stepMs + params.drainMs + 30_000,
    );
    const cpuByProcess = Object.fromEntries(
      servers.map((server, i) => [server.name, cpuMillis(server.pid) - (cpuBefore[i] ?? 0)]),
    );
    const cpuMs = Object.values(cpuByProcess).reduce((sum, ms) => sum + ms, 0);
    const calls = await restCalls(functions);
    const complete = Histogram.from(run.complete);
    const perDelivery = Histogram.from(run.perDelivery).summary();
    // A message that never reached everyone counts as over the limit.
    const p99Ms = run.completed < run.sent * 0.99 ? Number.POSITIVE_INFINITY : complete.summary().p99Ms;
    const step: Step = {
      rate,
      sent: run.sent,
      delivered: run.delivered,
      completed: run.completed,
      deliveriesPerSecond: run.delivered / (params.stepMs / 1000),
      p50Ms: complete.summary().p50Ms,
      p99Ms,
      perDeliveryP99Ms: perDelivery.p99Ms,
      cpuMs,
      cpuByProcess,
      ...(calls
        ? {
            restCallsPerMessage: Object.fromEntries(
              Object.entries(calls).map(([kind, n]) => [
                kind,
                Math.round((n / Math.max(1, run.sent)) * 100) / 100,
              ]),
            ),
          }
        : {}),
      cpuMicrosPerDelivery: run.delivered > 0 ? (cpuMs * 1000) / run.delivered : Number.POSITIVE_INFINITY,
      passed: p99Ms < P99_LIMIT_MS,
    };
    log(
      `  rate ${rate}/s: ${step.completed}/${step.sent} complete, p99 ${step.p99Ms} ms, ${Math.round(step.deliveriesPerSecond)} deliveries/s, ${step.cpuMicrosPerDelivery.toFixed(1)} µs CPU/delivery (${Object.entries(
        cpuByProcess,
      )
        .map(([name, ms]) => `${name} ${ms} ms`)
        .join(', ')})`,
    );
    result.steps.push(step);
    if (!step.passed) break;
    result.best = step;
    // Let queues empty before the next step.
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return result;
}

async function withClients<T extends object>(
  generator: BenchChild,
  connect: BenchMessage,
  body: () => Promise<T>,
): Promise<T & { joinMs: number }> {
  const joined = await generator.request<BenchMessage & { ms: number }>(connect, 'connected', 300_000);
  try {
    return { ...(await body()), joinMs: joined.ms };
  } finally {
    await generator.request({ type: 'close' }, 'closed');
  }
}

type Joined = Search & { joinMs: number };

function figuresFor(label: string, ours: Joined, baseline: Joined, params: typeof FULL): Figure[] {
  const top = params.rates[params.rates.length - 1];
  const rate = (s: Search) => s.best?.rate ?? 0;
  return [
    {
      name: `${label}: time for ${params.clients} clients to join`,
      unit: 's',
      ours: ours.joinMs / 1000,
      baseline: baseline.joinMs / 1000,
      better: 'lower',
      note: `${JOIN_CONCURRENCY} at a time; ours = negotiate, connect, welcome, room quiet`,
    },
    {
      name: `${label}: highest rate with p99 < ${P99_LIMIT_MS} ms`,
      unit: 'msg/s',
      ours: rate(ours),
      baseline: rate(baseline),
      better: 'higher',
      ...(baseline.best?.rate === top
        ? { note: `baseline passed the top step ${top}/s: its limit is higher` }
        : ours.best?.rate === top
          ? { note: `ours passed the top step ${top}/s: its limit is higher` }
          : {}),
    },
    {
      name: `${label}: deliveries/s at that rate`,
      unit: 'msg/s',
      ours: ours.best?.deliveriesPerSecond ?? 0,
      baseline: baseline.best?.deliveriesPerSecond ?? 0,
      better: 'higher',
    },
    {
      name: `${label}: CPU per delivered message at that rate`,
      unit: 'µs',
      ours: ours.best?.cpuMicrosPerDelivery ?? Number.NaN,
      baseline: baseline.best?.cpuMicrosPerDelivery ?? Number.NaN,
      better: 'lower',
      note: 'all server processes',
    },
  ];
}

export const chat: Scenario = {
  id: 'chat',
  title: 'End-to-end chat: service + Functions host + Azurite, stepped send rate',
  async run(context: BenchContext): Promise<ScenarioResult> {
    const params = context.quick ? QUICK : FULL;
    const generator = await startGenerator('chat clients');
    const figures: Figure[] = [];
    const notes: string[] = [];
    const failures: string[] = [];
    const details: Record<string, unknown> = {};
    const targets: Target[] = [];
    try {
      context.log(`chat: bare ws relay baseline, ${params.clients} clients`);
      const bare = await startBare('broadcast');
      let baseline: Joined;
      try {
        baseline = await withClients(
          generator,
          { type: 'connect', target: { kind: 'bare', url: bare.url }, clients: params.clients },
          () => search(generator, [{ name: 'bare ws', pid: bare.pid }], params, context.log),
        );
      } finally {
        await bare.stop();
      }
      details.baseline = baseline;
      for (const dialect of params.dialects) {
        context.log(
          `chat: service + Functions host + Azurite, ${dialect} dialect, ${params.clients} clients`,
        );
        const stops: Array<() => Promise<void>> = [];
        try {
          const azurite = await startAzurite();
          stops.push(azurite.stop);
          const functionsPort = await freePort();
          const service = await startServiceProcess({
            upstream: `http://127.0.0.1:${functionsPort}/api/messages?event={event}`,
            execArgv: context.profile ? cpuProfileFlags(context.profileDir, `chat-${dialect}-service`) : [],
          });
          // Stopped first, so the others see no more traffic. Its shutdown sends every disconnect upstream;
          // a profiled run waits for that so the profile gets written.
          stops.unshift(() => service.stop(context.profile ? 120_000 : undefined));
          const functions = await startFunctionsProcess(
            {
              AzureSignalRConnectionString: connectionString(service.url),
              CHAT_HISTORY_STORAGE: azurite.connectionString,
              // Deliver through the measured dialect's REST prefix only, as in Azure (one prefix).
              CHAT_DIALECTS: dialect,
              BENCH_FUNCTIONS_PORT: String(functionsPort),
              // Every bench client negotiates from the one loopback address.
              CHAT_NEGOTIATE_PER_MINUTE_PER_ADDRESS: String(BENCH_NEGOTIATES_PER_MINUTE),
            },
            context.profile ? cpuProfileFlags(context.profileDir, `chat-${dialect}-functions`) : [],
          );
          stops.splice(1, 0, () => functions.stop(context.profile ? 60_000 : undefined));
          const negotiateUrl = new URL('/api/negotiate', functions.url);
          if (dialect === 'websocket') negotiateUrl.searchParams.set('dialect', 'websocket');
          const ours = await withClients(
            generator,
            {
              type: 'connect',
              target: { kind: 'negotiated', dialect, url: '', accessToken: '' },
              negotiateUrl: negotiateUrl.toString(),
              userPrefix: 'user',
              clients: params.clients,
              // Joins are heavy (presence to everyone, a welcome with history): a storm of them is
              // not what this scenario measures, so clients join a few at a time and the rate steps
              // start once every client has its welcome.
              concurrency: JOIN_CONCURRENCY,
              awaitEvent: 'welcome',
            },
            () =>
              search(
                generator,
                [
                  { name: 'service', pid: service.pid },
                  { name: 'functions', pid: functions.pid },
                  { name: 'azurite', pid: azurite.pid },
                ],
                params,
                context.log,
                functions.child,
              ),
          );
          details[dialect] = ours;
          targets.push({
            name: `end-to-end chat, ${dialect} dialect: highest rate into ${params.clients} clients with p99 send-to-all < ${P99_LIMIT_MS} ms`,
            value: ours.best?.rate ?? 0,
            unit: 'msg/s',
            comparison: '≥',
            limit: CHAT_RATE_TARGET,
            ...(params.rates.some((rate) => rate >= CHAT_RATE_TARGET)
              ? {}
              : { note: `this run's steps stop at ${params.rates.at(-1)}/s` }),
          });
          figures.push(...figuresFor(`${dialect} dialect`, ours, baseline, params));
          const joinCalls = Object.entries(ours.joinRestCalls ?? {});
          const totalJoinCalls = joinCalls.reduce((sum, [, n]) => sum + n, 0);
          notes.push(
            `${dialect}: ${params.clients} clients joined (negotiate, connect, welcome), ${JOIN_CONCURRENCY} at a time, in ${(ours.joinMs / 1000).toFixed(1)} s, making ${totalJoinCalls} REST calls to the service (${joinCalls
              .slice(0, 4)
              .map(([kind, n]) => `${kind}: ${n}`)
              .join(', ')})`,
          );
          const best = ours.best;
          if (best)
            notes.push(
              `${dialect} at ${best.rate}/s: CPU ms by process ${JSON.stringify(best.cpuByProcess)}; REST calls per message ${JSON.stringify(best.restCallsPerMessage ?? {})}`,
            );
          const failed = ours.steps.at(-1);
          if (failed && !failed.passed)
            notes.push(
              `${dialect} failed at ${failed.rate}/s: p50 ${failed.p50Ms} ms, p99 ${failed.p99Ms} ms, ${failed.completed}/${failed.sent} complete; CPU ms by process ${JSON.stringify(failed.cpuByProcess)}`,
            );
        } catch (error) {
          failures.push(`${dialect} dialect: ${messageOf(error)}`);
        } finally {
          for (const stop of stops) await stop();
        }
        for (const part of ['service', 'functions']) {
          const path = new URL(`chat-${dialect}-${part}.cpuprofile`, context.profileDir).pathname;
          if (context.profile && existsSync(path))
            notes.push(
              ...describeProfile(summariseCpuProfile(path)).map(
                (line) => `${dialect} ${part} profile: ${line}`,
              ),
            );
        }
      }
      const top = baseline.steps.at(-1);
      notes.push(
        `bare ws relay baseline: highest passing rate ${baseline.best?.rate ?? 0}/s (${baseline.receiversPerMessage} receivers per message)${top && !top.passed ? `, failed at ${top.rate}/s with p99 ${top.p99Ms} ms` : ''}`,
      );
    } finally {
      await generator.stop();
    }
    return {
      id: this.id,
      title: this.title,
      baselineLabel: 'bare `ws` relay server',
      status: failures.length === 0 ? 'ok' : 'failed',
      ...(failures.length > 0 ? { reason: failures.join('; ') } : {}),
      parameters: { ...params, p99LimitMs: P99_LIMIT_MS },
      figures,
      details,
      notes,
      targets,
    };
  },
};
