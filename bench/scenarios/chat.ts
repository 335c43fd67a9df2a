/**
 * Scenario 3, end-to-end chat: clients in the room through the local service + the built-in Functions
 * host(s) + Azurite (in memory, behind the Blob counter), in three set-ups: SignalR with one host, Web PubSub
 * with one host (clients on the reliable JSON subprotocol, as the page) and SignalR with three hosts behind
 * the front end of `npm start -- --instances 3`. Each message is a room `sendMessage` with a
 * `clientMessageId`, as the page sends it. Baseline: a bare `ws` relay (every frame from a client goes to
 * every client), searched alike.
 *
 * Figures, each beside the baseline of the same run:
 * - **joins**: the time for all clients to negotiate, connect and get their welcome, {@link JOIN_CONCURRENCY}
 *   at a time, against as many bare connects (target ≤ {@link JOIN_TIME_TARGET}×); and the presence events
 *   the room received per join;
 * - **highest rate** with p99 send-to-all-receivers under {@link P99_LIMIT_MS} ms, found by stepping up and
 *   then bisecting (bench/scenarios/chat-search.ts) (target ≥ {@link CHAT_RATE_TARGET} msg/s);
 * - **CPU per delivered message** at that rate of our own processes (service + Functions hosts) against the
 *   relay's at the same rate, measured again once the set-ups are done (target ≤ {@link OWN_CPU_TARGET}×),
 *   Azurite's beside it;
 * - **Blob requests per message** at that rate (history appends with their exactly-once reads, command limits).
 */
import { existsSync } from 'node:fs';
import { messageOf } from '../../src/lib/error-message.js';
import { type ChatStack, type MeasuredProcess, startChatStack } from '../chat-stack.js';
import type { BenchChild, BenchMessage } from '../processes.js';
import { describeProfile, summariseCpuProfile } from '../profile.js';
import type { Figure, ScenarioResult, Target } from '../report.js';
import type { BenchContext, Scenario } from '../scenario.js';
import { startBare, startGenerator } from '../stack.js';
import {
  cpuOfProcess,
  measureRates,
  P99_LIMIT_MS,
  type Search,
  type SearchParams,
  type Step,
  searchRates,
} from './chat-search.js';

export { P99_LIMIT_MS };

/** Clients joining the chat at once. */
export const JOIN_CONCURRENCY = 10;

/** The target: messages/s into a room of {@link FULL}.clients with p99 send-to-all-receivers under the limit. */
export const CHAT_RATE_TARGET = 500;

/** The target: CPU per delivery of the service + Functions hosts over the bare relay's, at most. */
export const OWN_CPU_TARGET = 1.5;

/** The target: time for the clients to join (negotiate, connect, welcome) over as many bare connects, at most. */
export const JOIN_TIME_TARGET = 10;

/** One set-up of the chat. */
interface Variant {
  id: string;
  label: string;
  service: 'signalr' | 'webpubsub';
  instances: number;
  /** Whether the targets are judged on this set-up (the scale-out one is a figure only). */
  judged: boolean;
}

const VARIANTS: Variant[] = [
  { id: 'signalr', label: 'SignalR', service: 'signalr', instances: 1, judged: true },
  { id: 'webpubsub', label: 'Web PubSub', service: 'webpubsub', instances: 1, judged: true },
  {
    id: 'signalr-3-hosts',
    label: 'SignalR, 3 Functions hosts',
    service: 'signalr',
    instances: 3,
    judged: false,
  },
];

/** Full-run defaults. `rates` are total messages/s; after the first failing one the search bisects. */
export const FULL = {
  clients: 200,
  // Every client sends: at the top step (1 600/s) each sends 8 a second, within the app's per-connection
  // command limit (CHAT_COMMANDS_PER_SECOND, 10 by default), so the steps measure the chat, not the limit.
  senders: 200,
  textBytes: 100,
  stepMs: 5_000,
  drainMs: 3_000,
  rates: [2, 5, 10, 20, 40, 80, 160, 320, 640, 1280, 1600],
  maxBisections: 5,
  variants: VARIANTS.map((v) => v.id),
};
export const QUICK: typeof FULL = {
  clients: 20,
  senders: 20,
  textBytes: 100,
  stepMs: 1_500,
  drainMs: 1_000,
  rates: [10, 40, 160],
  maxBisections: 2,
  variants: VARIANTS.map((v) => v.id),
};

interface Joined {
  /** Negotiate, connect and (ours) welcome of every client, in ms. */
  joinedMs: number;
  /** CPU ms of our own processes (service + Functions hosts, or the relay) while the clients joined. */
  joinCpuMs: number;
  /** CPU ms of every measured process (Azurite too) while the clients joined, by process. */
  joinCpuByProcess: Record<string, number>;
  /** Chat events all clients received while they joined, by type. */
  events: Record<string, number>;
}

type Measured = Search & Joined;

/** Connects the clients (`connect`), runs `body`, closes them. */
async function withClients(
  generator: BenchChild,
  connect: BenchMessage,
  processes: MeasuredProcess[],
  body: () => Promise<Search>,
): Promise<Measured> {
  const before = await Promise.all(processes.map(cpuOfProcess));
  const joined = await generator.request<BenchMessage & Joined>(connect, 'connected', 300_000);
  const after = await Promise.all(processes.map(cpuOfProcess));
  const joinCpuByProcess = Object.fromEntries(
    processes.map((p, i) => [p.name, Math.round(((after[i] ?? 0) - (before[i] ?? 0)) * 10) / 10]),
  );
  const joinCpuMs = processes
    .filter((p) => p.role === 'own')
    .reduce((sum, p) => sum + (joinCpuByProcess[p.name] ?? 0), 0);
  try {
    return {
      ...(await body()),
      joinedMs: joined.joinedMs,
      joinCpuMs,
      joinCpuByProcess,
      events: joined.events ?? {},
    };
  } finally {
    await generator.request({ type: 'close' }, 'closed');
  }
}

/**
 * The relay's step at `rate`: the one measured at exactly that rate (the search's or the second pass's), else
 * the nearest lower passing one, else its best.
 */
function relayAt(baseline: Search, reference: Step[], rate: number | undefined): Step | undefined {
  const all = [...reference, ...baseline.steps];
  const exact = all.find((s) => s.rate === rate);
  if (exact) return exact;
  const passed = all.filter((s) => s.passed && (rate === undefined || s.rate <= rate));
  return passed.sort((a, b) => b.rate - a.rate)[0] ?? baseline.best;
}

/** One set-up's outcome. */
interface Outcome {
  variant: Variant;
  ours: Measured;
}

function figuresFor(
  { variant, ours }: Outcome,
  baseline: Measured,
  reference: Step[],
  params: typeof FULL,
): Figure[] {
  const label = variant.label;
  const top = params.rates.at(-1);
  const relay = relayAt(baseline, reference, ours.best?.rate);
  const presence = ours.events.presence ?? 0;
  const failNote = (side: Search, who: string) =>
    side.firstFail !== undefined
      ? `${who} first failed at ${side.firstFail}/s`
      : `${who} passed the top step ${top}/s: its limit is higher`;
  return [
    {
      name: `${label}: time for ${params.clients} clients to join`,
      unit: 's',
      ours: ours.joinedMs / 1000,
      baseline: baseline.joinedMs / 1000,
      better: 'lower',
      note: `${JOIN_CONCURRENCY} at a time; ours = negotiate, connect, welcome; baseline = connect`,
    },
    {
      name: `${label}: CPU of our processes per join`,
      unit: 'ms',
      ours: ours.joinCpuMs / params.clients,
      baseline: baseline.joinCpuMs / params.clients,
      better: 'lower',
      note: `service + Functions host${variant.instances > 1 ? 's' : ''} while all joined (Azurite apart); baseline: the relay per connect`,
    },
    {
      name: `${label}: presence events received per join`,
      unit: 'msg',
      ours: presence / params.clients,
      baseline: null,
      better: 'lower',
      note: `all ${params.clients} clients together, while they joined and the room settled`,
    },
    {
      name: `${label}: highest rate with p99 < ${P99_LIMIT_MS} ms`,
      unit: 'msg/s',
      ours: ours.best?.rate ?? 0,
      baseline: baseline.best?.rate ?? 0,
      better: 'higher',
      note: `${failNote(ours, 'ours')}, ${failNote(baseline, 'baseline')}`,
    },
    {
      name: `${label}: deliveries/s at that rate`,
      unit: 'msg/s',
      ours: ours.best?.deliveriesPerSecond ?? 0,
      baseline: baseline.best?.deliveriesPerSecond ?? 0,
      better: 'higher',
    },
    {
      name: `${label}: CPU of our processes per delivered message`,
      unit: 'µs',
      ours: ours.best?.ownCpuMicrosPerDelivery ?? Number.NaN,
      baseline: relay?.ownCpuMicrosPerDelivery ?? null,
      better: 'lower',
      note: `service + Functions host${variant.instances > 1 ? 's' : ''} at ${ours.best?.rate ?? 0}/s; the relay at ${relay?.rate ?? 0}/s`,
    },
    {
      name: `${label}: Azurite CPU per delivered message`,
      unit: 'µs',
      ours: ours.best?.azuriteCpuMicrosPerDelivery ?? Number.NaN,
      baseline: null,
      better: 'lower',
      note: 'the Blob emulator, not part of our CPU figure',
    },
    {
      name: `${label}: Blob requests per message at that rate`,
      unit: 'req',
      ours: ours.best?.blobRequestsPerMessage ?? Number.NaN,
      baseline: 0,
      better: 'lower',
      note: 'the relay stores nothing',
    },
  ];
}

function targetsFor(
  { variant, ours }: Outcome,
  baseline: Measured,
  reference: Step[],
  params: typeof FULL,
): Target[] {
  const relay = relayAt(baseline, reference, ours.best?.rate);
  return [
    {
      name: `end-to-end chat, ${variant.label}: highest rate into ${params.clients} clients with p99 send-to-all < ${P99_LIMIT_MS} ms`,
      value: ours.best?.rate ?? 0,
      unit: 'msg/s',
      comparison: '≥',
      limit: CHAT_RATE_TARGET,
      ...(ours.firstFail === undefined && (params.rates.at(-1) ?? 0) < CHAT_RATE_TARGET
        ? { note: `this run's steps stop at ${params.rates.at(-1)}/s` }
        : {}),
    },
    {
      name: `end-to-end chat, ${variant.label}: CPU of service + Functions host per delivered message / bare relay`,
      value:
        ours.best && relay
          ? ours.best.ownCpuMicrosPerDelivery / Math.max(1e-9, relay.ownCpuMicrosPerDelivery)
          : null,
      unit: '×',
      comparison: '≤',
      limit: OWN_CPU_TARGET,
      note: `ours at ${ours.best?.rate ?? 0}/s, the relay at ${relay?.rate ?? 0}/s; Azurite apart`,
    },
    {
      name: `end-to-end chat, ${variant.label}: time for ${params.clients} joins / ${params.clients} bare connects`,
      value: ours.joinedMs / Math.max(1, baseline.joinedMs),
      unit: '×',
      comparison: '≤',
      limit: JOIN_TIME_TARGET,
      note: `${(ours.joinedMs / 1000).toFixed(2)} s against ${(baseline.joinedMs / 1000).toFixed(2)} s, ${JOIN_CONCURRENCY} at a time`,
    },
  ];
}

function notesFor(variant: Variant, ours: Measured): string[] {
  const label = variant.label;
  const joinCalls = Object.entries(ours.joinRestCalls ?? {});
  const totalJoinCalls = joinCalls.reduce((sum, [, n]) => sum + n, 0);
  const notes = [
    `${label}: joins made ${totalJoinCalls} REST calls to the service (${joinCalls
      .slice(0, 4)
      .map(([kind, n]) => `${kind}: ${n}`)
      .join(', ')}); events received while joining ${JSON.stringify(ours.events)}`,
    `${label}: while joining, CPU ms by process ${JSON.stringify(ours.joinCpuByProcess)}; Blob requests by operation ${JSON.stringify(ours.joinBlobByOperation ?? {})}`,
    `${label}: rates tried ${ours.steps.map((s) => `${s.rate}${s.passed ? '✓' : '✗'}`).join(' ')}`,
  ];
  const best = ours.best;
  if (best)
    notes.push(
      `${label} at ${best.rate}/s: CPU ms by process ${JSON.stringify(best.cpuByProcess)}; REST calls per message ${JSON.stringify(best.restCallsPerMessage ?? {})}; Blob requests per message by operation ${JSON.stringify(best.blobByOperation ?? {})}, ${best.blobRefused ?? 0} refused`,
    );
  const failed = ours.steps.find((s) => !s.passed && s.rate === ours.firstFail);
  if (failed)
    notes.push(
      `${label} failed at ${failed.rate}/s: p50 ${failed.p50Ms} ms, p99 ${failed.p99Ms} ms, ${failed.completed}/${failed.sent} complete; CPU ms by process ${JSON.stringify(failed.cpuByProcess)}`,
    );
  return notes;
}

export const chat: Scenario = {
  id: 'chat',
  title: 'End-to-end chat: service + Functions host(s) + Azurite, searched send rate',
  async run(context: BenchContext): Promise<ScenarioResult> {
    const mode = context.quick ? QUICK : FULL;
    const clients = context.clients ?? mode.clients;
    const params: typeof FULL = {
      ...mode,
      clients,
      senders: Math.min(mode.senders, clients),
      variants: context.variants ? [...context.variants] : mode.variants,
      ...(context.rates ? { rates: [...context.rates], maxBisections: 0 } : {}),
    };
    const search: SearchParams = params;
    const generator = await startGenerator('chat clients');
    // The clients' process, read from /proc so that asking costs it nothing while it is busy.
    const clientsProcess: MeasuredProcess = { name: 'clients', pid: generator.pid, role: 'load' };
    const figures: Figure[] = [];
    const notes: string[] = [];
    const failures: string[] = [];
    const details: Record<string, unknown> = {};
    const targets: Target[] = [];
    const outcomes: Outcome[] = [];
    try {
      context.log(`chat: bare ws relay baseline, ${params.clients} clients`);
      const bare = await startBare('broadcast');
      const relayProcess: MeasuredProcess[] = [
        { name: 'bare ws', pid: bare.pid, role: 'own', child: bare.child },
        clientsProcess,
      ];
      let baseline: Measured;
      try {
        baseline = await withClients(
          generator,
          {
            type: 'connect',
            target: { kind: 'bare', url: bare.url },
            clients: params.clients,
            concurrency: JOIN_CONCURRENCY,
          },
          relayProcess,
          () => searchRates(generator, relayProcess, search, context.log),
        );
      } finally {
        await bare.stop();
      }
      details.baseline = baseline;
      context.log(
        `  bare relay: ${params.clients} connects in ${(baseline.joinedMs / 1000).toFixed(2)} s, ${(baseline.joinCpuMs / params.clients).toFixed(2)} ms CPU per connect`,
      );
      for (const variant of VARIANTS.filter((v) => params.variants.includes(v.id))) {
        context.log(`chat: ${variant.label}, ${params.clients} clients`);
        let stack: ChatStack | undefined;
        try {
          stack = await startChatStack({
            service: variant.service,
            instances: variant.instances,
            ...(context.profile ? { profile: { dir: context.profileDir, name: variant.id } } : {}),
          });
          const running = { ...stack, processes: [...stack.processes, clientsProcess] };
          const ours = await withClients(
            generator,
            {
              type: 'connect',
              target: { kind: 'negotiated', service: variant.service, url: '', accessToken: '' },
              negotiateUrl: running.negotiateUrl,
              userPrefix: 'user',
              clients: params.clients,
              // Joins are heavy (presence to everyone, a welcome with history): clients join a few at a
              // time and the rate search starts once every client has its welcome and the room is quiet.
              concurrency: JOIN_CONCURRENCY,
              awaitEvent: 'welcome',
            },
            running.processes,
            () =>
              searchRates(generator, running.processes, search, context.log, {
                hosts: running.hosts,
                blobs: running.blobs,
              }),
          );
          details[variant.id] = ours;
          context.log(
            `  ${variant.label}: ${params.clients} joins in ${(ours.joinedMs / 1000).toFixed(2)} s, ${(ours.joinCpuMs / params.clients).toFixed(2)} ms CPU of our processes per join`,
          );
          outcomes.push({ variant, ours });
        } catch (error) {
          failures.push(`${variant.label}: ${messageOf(error)}`);
        } finally {
          await stack?.stop();
        }
        const parts = ['service', 'functions', 'functions-1', 'functions-2', 'functions-3', 'front-end'];
        for (const part of parts) {
          const path = new URL(`chat-${variant.id}-${part}.cpuprofile`, context.profileDir).pathname;
          if (context.profile && existsSync(path))
            notes.push(
              ...describeProfile(summariseCpuProfile(path)).map(
                (line) => `${variant.label} ${part} profile: ${line}`,
              ),
            );
        }
      }
      // The relay once more at each rate a set-up reached that its search did not step on, so that CPU per
      // delivery is compared at the same rate (it falls as the rate rises: fixed costs spread thinner).
      const rates = [...new Set(outcomes.flatMap(({ ours }) => (ours.best ? [ours.best.rate] : [])))].filter(
        (rate) => !baseline.steps.some((s) => s.rate === rate),
      );
      let reference: Step[] = [];
      if (rates.length > 0) {
        context.log(`chat: bare ws relay at ${rates.join(', ')}/s`);
        const relay = await startBare('broadcast');
        try {
          await generator.request(
            { type: 'connect', target: { kind: 'bare', url: relay.url }, clients: params.clients },
            'connected',
          );
          reference = await measureRates(
            generator,
            [{ name: 'bare ws', pid: relay.pid, role: 'own', child: relay.child }, clientsProcess],
            search,
            rates,
            context.log,
          );
        } finally {
          await generator.request({ type: 'close' }, 'closed');
          await relay.stop();
        }
      }
      details.baselineAtOurRates = reference;
      for (const outcome of outcomes) {
        figures.push(...figuresFor(outcome, baseline, reference, params));
        if (outcome.variant.judged) targets.push(...targetsFor(outcome, baseline, reference, params));
        notes.push(...notesFor(outcome.variant, outcome.ours));
      }
      const failedAt = baseline.steps.find((s) => !s.passed && s.rate === baseline.firstFail);
      notes.push(
        `bare ws relay baseline: ${params.clients} connects in ${(baseline.joinedMs / 1000).toFixed(2)} s; highest passing rate ${baseline.best?.rate ?? 0}/s (${baseline.receiversPerMessage} receivers per message)${failedAt ? `, failed at ${failedAt.rate}/s with p99 ${failedAt.p99Ms} ms` : ''}; rates tried ${baseline.steps.map((s) => `${s.rate}${s.passed ? '✓' : '✗'}`).join(' ')}`,
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
