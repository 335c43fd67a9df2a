/**
 * The rate search of the end-to-end chat: steps up through a list of send rates until one fails (the p99
 * time from a send until every receiver has the message passes the limit, or a message never reaches
 * everyone), then bisects between the last passing rate and the first failing one until the two are within
 * {@link BISECT_RESOLUTION} of each other or the bisection budget is spent. A rate that fails is tried again
 * (up to {@link TRIES_PER_RATE} tries) and fails only if every try does: on a shared machine a moment's
 * contention can fail one try, while a rate past what the stack sustains fails every try, its queues
 * growing. Each step reads the CPU time of
 * every measured process (a bench child's own count, Azurite's from /proc/<pid>/stat) and the Blob requests
 * counted in front of Azurite.
 */
import type { BlobCounter } from '../blob-counter.js';
import type { MeasuredProcess } from '../chat-stack.js';
import { type BenchChild, type BenchMessage, childCpuMillis, cpuMillis } from '../processes.js';
import { Histogram, type HistogramData } from '../stats.js';

/** The latency limit of the search: p99 from send until every receiver has the message. */
export const P99_LIMIT_MS = 250;

/** Tries of a rate before it counts as failed (see the module's comment). */
export const TRIES_PER_RATE = 2;

/** The bisection stops once (first fail − last pass) is at most this share of the first fail. */
export const BISECT_RESOLUTION = 0.05;

/** What the search needs to know of the run. */
export interface SearchParams {
  senders: number;
  textBytes: number;
  stepMs: number;
  drainMs: number;
  /** Rates stepped through (messages/s, all senders together) until the first failure. */
  rates: number[];
  /** Extra steps the bisection may take after the first failure. */
  maxBisections: number;
}

interface ChatResult extends BenchMessage {
  sent: number;
  delivered: number;
  completed: number;
  elapsedMs: number;
  perDelivery: HistogramData;
  complete: HistogramData;
}

export interface Step {
  rate: number;
  /** `step` from the list, `bisect` between a pass and a fail, or `retry` of a rate whose try failed. */
  phase: 'step' | 'bisect' | 'retry';
  sent: number;
  delivered: number;
  completed: number;
  deliveriesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  perDeliveryP99Ms: number;
  /** CPU ms of each measured process during the step. */
  cpuByProcess: Record<string, number>;
  /** CPU µs per delivery of the `own` processes (service + Functions hosts; the relay for the baseline). */
  ownCpuMicrosPerDelivery: number;
  /** The same for Azurite (0 where there is none). */
  azuriteCpuMicrosPerDelivery: number;
  /** Blob requests per message sent, and by operation (ours only). */
  blobRequestsPerMessage?: number;
  blobByOperation?: Record<string, number>;
  blobRefused?: number;
  /** REST calls the Functions app made to the service per message sent, by kind (ours only). */
  restCallsPerMessage?: Record<string, number>;
  passed: boolean;
}

export interface Search {
  receiversPerMessage: number;
  /** REST calls the Functions app made while the clients joined (ours only). */
  joinRestCalls?: Record<string, number>;
  /** Blob requests from the stack's start until the clients had joined, by operation (ours only). */
  joinBlobByOperation?: Record<string, number>;
  steps: Step[];
  /** The highest passing step. */
  best: Step | undefined;
  /** The lowest failing rate, if any step failed. */
  firstFail: number | undefined;
}

/** Reads and resets the REST calls to the service that the Functions hosts counted, summed over the hosts. */
export async function restCalls(hosts: BenchChild[]): Promise<Record<string, number> | undefined> {
  if (hosts.length === 0) return undefined;
  const sum: Record<string, number> = {};
  for (const host of hosts) {
    const { calls } = await host.request<BenchMessage & { calls: Record<string, number> }>(
      { type: 'calls' },
      'calls',
    );
    for (const [kind, n] of Object.entries(calls)) sum[kind] = (sum[kind] ?? 0) + n;
  }
  return sum;
}

const perMessage = (counts: Record<string, number>, sent: number) =>
  Object.fromEntries(
    Object.entries(counts).map(([kind, n]) => [kind, Math.round((n / Math.max(1, sent)) * 100) / 100]),
  );

/** CPU ms of a measured process: a bench child's own count (µs resolution), else /proc's (10 ms ticks). */
export function cpuOfProcess(process: MeasuredProcess): Promise<number> {
  return process.child ? childCpuMillis(process.child) : Promise.resolve(cpuMillis(process.pid));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Tries a rate (`attempt` is told which try it is, from 1) until a try passes, `tries` at most: whether one did. */
export async function tryRate(
  attempt: (index: number) => Promise<boolean>,
  tries = TRIES_PER_RATE,
): Promise<boolean> {
  for (let index = 1; index <= tries; index += 1) if (await attempt(index)) return true;
  return false;
}

/** The next rate to try between `low` (passed; 0 for none) and `high` (failed), or undefined when close enough. */
export function nextBisection(low: number, high: number, resolution = BISECT_RESOLUTION): number | undefined {
  if (high - low <= resolution * high) return undefined;
  const mid = Math.round((low + high) / 2);
  return mid > low && mid < high ? mid : undefined;
}

/** How many receipts complete one message: one probe message, counted. */
export async function probeRoom(generator: BenchChild, textBytes: number): Promise<number> {
  const probe = await generator.request<BenchMessage & { receipts: number }>(
    { type: 'chat-probe', seq: 1, waitMs: 1_500, textBytes },
    'probed',
  );
  if (probe.receipts === 0) throw new Error('a probe message reached no client: the chat does not deliver');
  return probe.receipts;
}

/** What one step runs on: the clients, the measured processes and what counts the app's requests. */
export interface StepContext {
  generator: BenchChild;
  processes: MeasuredProcess[];
  params: Pick<SearchParams, 'senders' | 'textBytes' | 'stepMs' | 'drainMs'>;
  /** Receipts that complete one message ({@link probeRoom}). */
  receivers: number;
  hosts?: BenchChild[];
  blobs?: BlobCounter;
}

/** Sends at `rate` for one step and reads what it cost; `seqBase` keeps steps' sequence numbers apart. */
export async function measureStep(
  context: StepContext,
  rate: number,
  phase: Step['phase'],
  seqBase: number,
): Promise<Step> {
  const { generator, processes, params } = context;
  const hosts = context.hosts ?? [];
  await restCalls(hosts); // drop the probe's and the previous drain's calls
  context.blobs?.take();
  const cpuBefore = await Promise.all(processes.map(cpuOfProcess));
  const run = await generator.request<ChatResult>(
    {
      type: 'chat',
      rate,
      durationMs: params.stepMs,
      senders: params.senders,
      textBytes: params.textBytes,
      drainMs: params.drainMs,
      receiversPerMessage: context.receivers,
      firstSeq: seqBase,
    },
    'result',
    params.stepMs + params.drainMs + 30_000,
  );
  const cpuAfter = await Promise.all(processes.map(cpuOfProcess));
  const cpuByProcess = Object.fromEntries(
    processes.map((p, i) => [p.name, Math.round(((cpuAfter[i] ?? 0) - (cpuBefore[i] ?? 0)) * 10) / 10]),
  );
  const cpuOf = (role: MeasuredProcess['role']) =>
    processes.filter((p) => p.role === role).reduce((sum, p) => sum + (cpuByProcess[p.name] ?? 0), 0);
  const calls = await restCalls(hosts);
  const blobs = context.blobs?.take();
  const complete = Histogram.from(run.complete).summary();
  const perDelivery = Histogram.from(run.perDelivery).summary();
  // A message that never reached everyone counts as over the limit.
  const p99Ms = run.completed < run.sent * 0.99 ? Number.POSITIVE_INFINITY : complete.p99Ms;
  const perDeliveryMicros = (ms: number) =>
    run.delivered > 0 ? (ms * 1000) / run.delivered : Number.POSITIVE_INFINITY;
  return {
    rate,
    phase,
    sent: run.sent,
    delivered: run.delivered,
    completed: run.completed,
    deliveriesPerSecond: run.delivered / (params.stepMs / 1000),
    p50Ms: complete.p50Ms,
    p99Ms,
    perDeliveryP99Ms: perDelivery.p99Ms,
    cpuByProcess,
    ownCpuMicrosPerDelivery: perDeliveryMicros(cpuOf('own')),
    azuriteCpuMicrosPerDelivery: perDeliveryMicros(cpuOf('azurite')),
    ...(blobs
      ? {
          blobRequestsPerMessage: blobs.total / Math.max(1, run.sent),
          blobByOperation: perMessage(blobs.byOperation, run.sent),
          blobRefused: blobs.failed,
        }
      : {}),
    ...(calls ? { restCallsPerMessage: perMessage(calls, run.sent) } : {}),
    passed: p99Ms < P99_LIMIT_MS,
  };
}

/** One log line for a step. */
export function describeStep(step: Step): string {
  const blobs =
    step.blobRequestsPerMessage !== undefined
      ? `, ${step.blobRequestsPerMessage.toFixed(2)} Blob req/msg`
      : '';
  const cpu = Object.entries(step.cpuByProcess)
    .map(([name, ms]) => `${name} ${ms} ms`)
    .join(', ');
  return `  ${step.phase} ${step.rate}/s: ${step.completed}/${step.sent} complete, p99 ${step.p99Ms} ms, ${Math.round(step.deliveriesPerSecond)} deliveries/s, ${step.ownCpuMicrosPerDelivery.toFixed(1)} µs own CPU/delivery${blobs} (${cpu})`;
}

/** Runs the search on connected clients: steps up through `params.rates`, then bisects. */
export async function searchRates(
  generator: BenchChild,
  processes: MeasuredProcess[],
  params: SearchParams,
  log: (text: string) => void,
  side: { hosts?: BenchChild[]; blobs?: BlobCounter } = {},
): Promise<Search> {
  const joinRestCalls = await restCalls(side.hosts ?? []);
  const joinBlobs = side.blobs?.take();
  const receivers = await probeRoom(generator, params.textBytes);
  const context: StepContext = { generator, processes, params, receivers, ...side };
  const result: Search = {
    receiversPerMessage: receivers,
    ...(joinRestCalls ? { joinRestCalls } : {}),
    ...(joinBlobs ? { joinBlobByOperation: joinBlobs.byOperation } : {}),
    steps: [],
    best: undefined,
    firstFail: undefined,
  };
  const run = async (rate: number, phase: Step['phase']): Promise<boolean> => {
    const passed = await tryRate(async (attempt) => {
      const step = await measureStep(
        context,
        rate,
        attempt === 1 ? phase : 'retry',
        (result.steps.length + 1) * 1_000_000,
      );
      log(describeStep(step));
      result.steps.push(step);
      // Let queues empty before the next step (longer after a failure, whose backlog is larger).
      await sleep(step.passed ? 500 : params.drainMs);
      if (step.passed && step.rate > (result.best?.rate ?? 0)) result.best = step;
      return step.passed;
    });
    if (!passed) result.firstFail = Math.min(result.firstFail ?? rate, rate);
    return passed;
  };
  for (const rate of params.rates) if (!(await run(rate, 'step'))) break;
  for (let i = 0; i < params.maxBisections && result.firstFail !== undefined; i += 1) {
    const rate = nextBisection(result.best?.rate ?? 0, result.firstFail);
    if (rate === undefined) break;
    await run(rate, 'bisect');
  }
  return result;
}

/** One step at each of `rates` on connected clients (the baseline at the rates the others reached). */
export async function measureRates(
  generator: BenchChild,
  processes: MeasuredProcess[],
  params: SearchParams,
  rates: number[],
  log: (text: string) => void,
): Promise<Step[]> {
  const receivers = await probeRoom(generator, params.textBytes);
  const context: StepContext = { generator, processes, params, receivers };
  const steps: Step[] = [];
  for (const [index, rate] of rates.entries()) {
    const step = await measureStep(context, rate, 'step', (index + 1) * 1_000_000);
    log(describeStep(step));
    steps.push(step);
    await sleep(step.passed ? 500 : params.drainMs);
  }
  return steps;
}
