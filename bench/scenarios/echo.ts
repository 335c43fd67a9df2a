/**
 * Scenario 2, upstream echo: clients send at a fixed rate through the service, which posts each message
 * to an upstream in the bench's own process that answers at once with the payload; the service delivers
 * the answer to the sender, in each service the local service stands in for: SignalR (a Completion of an
 * invocation that carries an invocationId) and Web PubSub (the CloudEvents user event `echo`, whose 2xx
 * answer the service sends to the client as a server message; clients with `json.webpubsub.azure.v1`).
 * Figures: round trips/s, p50 and p99.
 * Baselines: a bare `ws` echo server at the same rate, and the fair baseline (bench/servers/relay-post.ts)
 * that does the service's job in the least code: receive a frame, one keep-alive POST to the same upstream,
 * send the answer back. The service's CPU per round trip over the fair baseline's is the overhead the
 * service adds to the job itself (target ≤ 1.5×).
 *
 * For SignalR, Azure writes a 2xx upstream body to the client verbatim, so the upstream answers
 * an invocation with a framed Completion (`{"type":3,"invocationId":…,"result":…}` and the record separator)
 * in the caller's protocol. A service that still wraps the body as the result is detected by a short probe;
 * the upstream then answers raw JSON, and the result says so.
 */
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { messageOf } from '../../src/lib/error-message.js';
import { HubMessageType } from '../../src/lib/signalr/hub-protocol.js';
import { CLOUD_EVENT_TYPES, WEBHOOK_HEADERS } from '../../src/lib/webpubsub/protocol.js';
import { DEV_ACCESS_KEY, DEV_WEBPUBSUB_ACCESS_KEY } from '../../src/local/dev-constants.js';
import { type BenchChild, type BenchMessage, cpuMillis } from '../processes.js';
import { describeProfile, summariseCpuProfile } from '../profile.js';
import type { Figure, ScenarioResult, Target } from '../report.js';
import { BENCH_HUB, type BenchContext, type Scenario } from '../scenario.js';
import { cpuProfileFlags, startBare, startGenerator, startRelayPost, startServiceProcess } from '../stack.js';
import { Histogram, type HistogramData } from '../stats.js';

/**
 * Full-run defaults: 1 000 round trips/s in all (one Azure SignalR unit's rated echo load), measured in
 * `rounds` rounds of `durationMs` each; a round measures the fair baseline and both services back to back
 * (in an order that turns from round to round), so a ratio compares measurements a few seconds apart.
 */
export const FULL = {
  clients: 100,
  ratePerClient: 10,
  durationMs: 5_000,
  payloadBytes: 1024,
  drainMs: 3_000,
  rounds: 3,
};
export const QUICK = {
  clients: 50,
  ratePerClient: 10,
  durationMs: 2_000,
  payloadBytes: 1024,
  drainMs: 2_000,
  rounds: 1,
};

/** The load of one measurement. */
type Load = Omit<typeof FULL, 'rounds'>;

interface EchoResult extends BenchMessage {
  sent: number;
  answered: number;
  errors: number;
  lastError: string;
  roundTripsPerSecond: number;
  latency: HistogramData;
}

type Measured = Awaited<ReturnType<typeof measure>>;

/** The middle value (the lower middle of an even count). */
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN;
}

/** The target of the fair baseline's upper limit on the service's CPU per round trip. */
export const ECHO_CPU_TARGET = 1.5;

/**
 * How the upstream answers a JSON invocation: `framed`, a Completion record in the caller's protocol (what
 * Azure forwards verbatim), or `raw`, the result as JSON (for a service that wraps the body itself).
 */
let answerStyle: 'framed' | 'raw' = 'framed';

/**
 * The upstream of both wings. Web PubSub: the abuse-protection `OPTIONS` is allowed, a user event gets its
 * data back at once with its content type, system events an empty 200. SignalR: connection events get an
 * empty 200; a message event gets its payload back at once (a Completion of the invocation, or the first
 * argument as JSON, see {@link answerStyle}; an invocation without an id gets an empty 200). The fair
 * baseline's POSTs look like SignalR's raw messages: their body comes back as it is.
 */
function upstreamHandler(req: IncomingMessage, res: ServerResponse): void {
  if (req.method === 'OPTIONS') {
    res.writeHead(200, { [WEBHOOK_HEADERS.allowedOrigin]: '*' }).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const cloudEventType = req.headers['ce-type'];
    if (typeof cloudEventType === 'string') {
      if (!cloudEventType.startsWith(CLOUD_EVENT_TYPES.userPrefix)) res.writeHead(200).end();
      else
        res
          .writeHead(200, { 'content-type': req.headers['content-type'] ?? 'text/plain' })
          .end(Buffer.concat(chunks));
      return;
    }
    if (req.headers['x-asrs-category'] !== 'messages') {
      res.writeHead(200).end();
      return;
    }
    const body = Buffer.concat(chunks);
    if ((req.headers['content-type'] ?? '').startsWith('application/json')) {
      const invocation = JSON.parse(body.toString('utf8')) as {
        invocationId?: string;
        arguments?: unknown[];
      };
      const result = invocation.arguments?.[0] ?? null;
      if (answerStyle === 'raw') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
        return;
      }
      if (invocation.invocationId === undefined) {
        res.writeHead(200).end();
        return;
      }
      res
        .writeHead(200, { 'content-type': 'text/plain; charset=utf-8' })
        .end(
          `${JSON.stringify({ type: HubMessageType.Completion, invocationId: invocation.invocationId, result })}\x1e`,
        );
      return;
    }
    res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'text/plain' }).end(body);
  });
}

async function startUpstream(): Promise<{ server: Server; url: string }> {
  const server = createServer(upstreamHandler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { server, url: `http://127.0.0.1:${port}/upstream?event={event}` };
}

async function measure(
  generator: BenchChild,
  serverPid: number,
  target: Record<string, unknown>,
  params: Load,
) {
  await generator.request({ type: 'connect', target, clients: params.clients }, 'connected');
  try {
    const cpuBefore = cpuMillis(serverPid);
    const result = await generator.request<EchoResult>(
      { type: 'echo', ...params },
      'result',
      params.durationMs + params.drainMs + 30_000,
    );
    const serverCpuMs = cpuMillis(serverPid) - cpuBefore;
    return {
      ...result,
      latency: Histogram.from(result.latency).summary(),
      serverCpuMs,
      serverCpuMicrosPerRoundTrip: (serverCpuMs * 1000) / Math.max(1, result.answered),
    };
  } finally {
    await generator.request({ type: 'close' }, 'closed');
  }
}

/** The probe's load: a few round trips from one client. */
const PROBE = { clients: 1, ratePerClient: 10, durationMs: 300, payloadBytes: 64, drainMs: 1_500 };

/**
 * Whether the service forwards the upstream's answer verbatim (then a framed Completion comes back as the
 * result) or wraps the body itself (then only a raw JSON answer does): tries framed first.
 */
async function probeAnswerStyle(
  generator: BenchChild,
  servicePid: number,
  serviceUrl: string,
): Promise<'framed' | 'raw'> {
  const target = { kind: 'signalr', endpoint: serviceUrl, hub: BENCH_HUB, accessKey: DEV_ACCESS_KEY };
  for (const style of ['framed', 'raw'] as const) {
    answerStyle = style;
    const probe = await measure(generator, servicePid, target, PROBE);
    if (probe.answered > 0) return style;
  }
  throw new Error('SignalR answered no invocation, framed or raw');
}

export const echo: Scenario = {
  id: 'echo',
  title: 'Upstream echo: fixed-rate client messages answered by an in-process upstream',
  async run(context: BenchContext): Promise<ScenarioResult> {
    const { rounds, ...load } = context.quick ? QUICK : FULL;
    const generator = await startGenerator();
    const upstream = await startUpstream();
    const figures: Figure[] = [];
    const notes: string[] = [];
    const failures: string[] = [];
    const details: Record<string, unknown> = {};
    const targets: Target[] = [];
    const stops: Array<() => Promise<void>> = [];
    try {
      context.log(`echo: bare ws baseline, ${load.clients} clients × ${load.ratePerClient}/s`);
      const bare = await startBare('echo');
      let baseline: Measured;
      try {
        baseline = await measure(generator, bare.pid, { kind: 'bare', url: bare.url }, load);
      } finally {
        await bare.stop();
      }
      details.baseline = baseline;
      notes.push(
        `bare ws baseline: ${Math.round(baseline.roundTripsPerSecond)} round trips/s, p50 ${baseline.latency.p50Ms} ms, p99 ${baseline.latency.p99Ms} ms`,
      );

      // The fair baseline and both services run side by side, each idle while another is measured.
      const relay = await startRelayPost(upstream.url.replace('{event}', 'message'));
      stops.push(() => relay.stop());
      const sides: Side[] = [
        { key: 'fair', label: 'fair baseline', pid: relay.pid, target: { kind: 'bare', url: relay.url } },
      ];
      for (const realtime of ['signalr', 'webpubsub'] as const) {
        const label = realtime === 'signalr' ? 'SignalR' : 'Web PubSub';
        try {
          const service = await startServiceProcess({
            upstream: upstream.url,
            webPubSub: { urlTemplate: upstream.url, systemEvents: ['connected', 'disconnected'] },
            execArgv: context.profile ? cpuProfileFlags(context.profileDir, `echo-${realtime}`) : [],
          });
          stops.push(() => service.stop());
          if (realtime === 'signalr') {
            answerStyle = await probeAnswerStyle(generator, service.pid, service.url);
            if (answerStyle === 'raw')
              notes.push(
                'SignalR: this service wraps the upstream body as the result (not verbatim as Azure does): the upstream answered raw JSON',
              );
          }
          sides.push({
            key: realtime,
            label,
            pid: service.pid,
            target:
              realtime === 'signalr'
                ? { kind: 'signalr', endpoint: service.url, hub: BENCH_HUB, accessKey: DEV_ACCESS_KEY }
                : {
                    kind: 'webpubsub',
                    endpoint: service.url,
                    hub: BENCH_HUB,
                    accessKey: DEV_WEBPUBSUB_ACCESS_KEY,
                  },
          });
        } catch (error) {
          failures.push(`${label}: ${messageOf(error)}`);
        }
      }

      // By side, by round (a round whose measurement failed has none).
      const measured = new Map<string, Array<Measured | undefined>>(sides.map((side) => [side.key, []]));
      for (let round = 0; round < rounds; round += 1) {
        // The order turns each round, so no side is always measured right after another.
        const order = sides.map((_, i) => sides[(i + round) % sides.length] as Side);
        for (const side of order) {
          context.log(`echo: round ${round + 1} of ${rounds}, ${side.label}`);
          try {
            const ofSide = measured.get(side.key) ?? [];
            ofSide[round] = await measure(generator, side.pid, side.target, load);
          } catch (error) {
            failures.push(`${side.label}, round ${round + 1}: ${messageOf(error)}`);
          }
        }
      }

      const fairRounds = measured.get('fair') ?? [];
      const fairMeasured = fairRounds.filter((m) => m !== undefined);
      const fair = middleRound(
        fairMeasured,
        fairMeasured.map((m) => m.serverCpuMicrosPerRoundTrip),
      );
      if (fair === undefined) throw new Error('the fair baseline was not measured');
      details.fairBaseline = fair;
      notes.push(
        `fair baseline (relay-post: frame in, one keep-alive POST to the same upstream, answer out): ${Math.round(fair.roundTripsPerSecond)} round trips/s, ${fair.serverCpuMicrosPerRoundTrip.toFixed(1)} µs CPU per round trip (median of ${fairMeasured.length} rounds), p99 ${fair.latency.p99Ms} ms`,
      );
      for (const side of sides) {
        if (side.key === 'fair') continue;
        // Each round's ratio is against the fair baseline measured in the same round.
        const all: Measured[] = [];
        const against: Measured[] = [];
        const ratios: number[] = [];
        (measured.get(side.key) ?? []).forEach((m, round) => {
          const fairOfRound = fairRounds[round];
          if (m === undefined || fairOfRound === undefined) return;
          all.push(m);
          against.push(fairOfRound);
          ratios.push(
            m.serverCpuMicrosPerRoundTrip / Math.max(1e-9, fairOfRound.serverCpuMicrosPerRoundTrip),
          );
        });
        const middle = ratios.indexOf(median(ratios));
        const ours = all[middle];
        const fairOfMiddle = against[middle];
        if (ours === undefined || fairOfMiddle === undefined) continue;
        details[side.key] = { ...ours, rounds: all, ratios };
        // The figures are of the median round, its fair baseline that round's, so they give the target's ratio.
        reportSide(side.label, ours, median(ratios), { baseline, fair: fairOfMiddle, figures, targets });
        if (all.length > 1)
          notes.push(
            `${side.label}: service CPU per round trip over the fair baseline by round: ${ratios.map((r) => `${r.toFixed(2)}×`).join(', ')} (the target takes the median; the figures are of its round)`,
          );
        for (const m of all) {
          if (m.answered < m.sent || m.errors > 0)
            notes.push(
              `${side.label}: ${m.sent - m.answered} of ${m.sent} unanswered, ${m.errors} errors${m.lastError ? ` (last: ${m.lastError})` : ''}`,
            );
        }
      }
    } finally {
      for (const stop of stops.reverse()) await stop().catch(() => undefined);
      await generator.stop();
      upstream.server.closeAllConnections();
      upstream.server.close();
    }
    if (context.profile) {
      for (const [key, label] of [
        ['signalr', 'SignalR'],
        ['webpubsub', 'Web PubSub'],
      ] as const) {
        const profilePath = new URL(`echo-${key}.cpuprofile`, context.profileDir).pathname;
        if (existsSync(profilePath))
          notes.push(
            ...describeProfile(summariseCpuProfile(profilePath)).map(
              (line) => `${label} service profile: ${line}`,
            ),
          );
      }
    }
    return {
      id: this.id,
      title: this.title,
      baselineLabel: 'bare `ws` echo server',
      status: failures.length === 0 ? 'ok' : 'failed',
      ...(failures.length > 0 ? { reason: failures.join('; ') } : {}),
      parameters: { ...load, rounds, offeredPerSecond: load.clients * load.ratePerClient },
      figures,
      details,
      notes,
      targets,
    };
  },
};

/** One server the echo is measured through: the fair baseline or a wing of the service. */
interface Side {
  key: 'fair' | 'signalr' | 'webpubsub';
  label: string;
  pid: number;
  target: Record<string, unknown>;
}

/** The round whose `by` value is the median of the rounds' (the lower middle of an even count). */
function middleRound(rounds: readonly Measured[], by: readonly number[]): Measured | undefined {
  const middle = median(by);
  return rounds[by.indexOf(middle)];
}

/** The target and figures of one wing, from its median round. */
function reportSide(
  label: string,
  ours: Measured,
  ratio: number,
  into: { baseline: Measured; fair: Measured; figures: Figure[]; targets: Target[] },
): void {
  const { baseline, fair, figures, targets } = into;
  targets.push({
    name: `upstream echo, ${label}: service CPU per round trip / fair baseline`,
    value: ratio,
    unit: '×',
    comparison: '≤',
    limit: ECHO_CPU_TARGET,
  });
  figures.push(
    {
      name: `${label}: round trips/s`,
      unit: 'rt/s',
      ours: ours.roundTripsPerSecond,
      baseline: baseline.roundTripsPerSecond,
      better: 'higher',
    },
    {
      name: `${label}: server CPU per round trip`,
      unit: 'µs',
      ours: ours.serverCpuMicrosPerRoundTrip,
      baseline: baseline.serverCpuMicrosPerRoundTrip,
      better: 'lower',
      note: 'service process only',
    },
    {
      name: `${label}: server CPU per round trip over the fair baseline`,
      unit: 'µs',
      ours: ours.serverCpuMicrosPerRoundTrip,
      baseline: fair.serverCpuMicrosPerRoundTrip,
      better: 'lower',
      note: 'baseline: relay-post, one keep-alive POST per frame, in the median round',
    },
    {
      name: `${label}: p50 round trip`,
      unit: 'ms',
      ours: ours.latency.p50Ms,
      baseline: baseline.latency.p50Ms,
      better: 'lower',
    },
    {
      name: `${label}: p99 round trip`,
      unit: 'ms',
      ours: ours.latency.p99Ms,
      baseline: baseline.latency.p99Ms,
      better: 'lower',
    },
  );
}
