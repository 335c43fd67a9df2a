/**
 * Scenario: one user floods the room from 40 connections while others chat (docs/architecture.md, "Fair
 * sharing"). Figures: the others' acknowledgement p50 during the flood against the same clients' p50 before
 * it (target: within 2×), and the flood's messages that were stored against what the per-user command limit
 * allows for the time it ran (burst + rate × seconds).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DEV_ACCESS_KEY } from '../../src/local/dev-constants.js';
import { type BenchConnection, connect, type Incoming } from '../clients.js';
import type { ScenarioResult } from '../report.js';
import { BENCH_HUB, type BenchContext, type Scenario } from '../scenario.js';
import {
  connectionString,
  freePort,
  startAzurite,
  startFunctionsProcess,
  startServiceProcess,
} from '../stack.js';

/** The documented command limit (CHAT_COMMAND_BURST, CHAT_COMMANDS_PER_SECOND defaults). */
const BURST = 30;
const PER_SECOND = 10;

export const FULL = { others: 10, floodConnections: 40, perTick: 2, quietMs: 6_000, floodMs: 10_000 };
export const QUICK = { others: 5, floodConnections: 20, perTick: 1, quietMs: 2_000, floodMs: 3_000 };
/** Each other user sends one message every this many ms (well under the limit). */
const OTHER_INTERVAL_MS = 1_000;
/** The flood sends `perTick` messages per connection every this many ms. */
const FLOOD_TICK_MS = 10;
/** How long after the flood stops its stored messages are still counted. */
const DRAIN_MS = 3_000;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : (sorted[Math.floor(sorted.length / 2)] as number);
}

/** Connects, retrying while the service's per-user connect limit (20 at once, 2 a second) says wait. */
async function connectRetrying(
  endpoint: string,
  user: string,
  onMessage: (m: Incoming) => void,
): Promise<BenchConnection> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await connect(
        { kind: 'signalr', endpoint, hub: BENCH_HUB, accessKey: DEV_ACCESS_KEY },
        user,
        onMessage,
      );
    } catch (error) {
      if (attempt >= 60) throw error;
      await sleep(600);
    }
  }
}

export const flood: Scenario = {
  id: 'flood',
  title: 'One user floods from 40 connections: the others’ ack latency and what is stored',
  async run(context: BenchContext): Promise<ScenarioResult> {
    const p = context.quick ? QUICK : FULL;
    const stops: Array<() => Promise<void>> = [];
    try {
      const azurite = await startAzurite();
      stops.push(azurite.stop);
      const functionsPort = await freePort();
      const service = await startServiceProcess({
        upstream: `http://127.0.0.1:${functionsPort}/api/messages?event={event}`,
      });
      stops.unshift(() => service.stop());
      const functions = await startFunctionsProcess({
        AzureSignalRConnectionString: connectionString(service.url),
        CHAT_HISTORY_STORAGE: azurite.connectionString,
        CHAT_DIALECTS: 'signalr',
        BENCH_FUNCTIONS_PORT: String(functionsPort),
      });
      stops.splice(1, 0, () => functions.stop());

      let phase: 'quiet' | 'flood' | 'done' = 'quiet';
      const acks = { quiet: [] as number[], flood: [] as number[] };
      let floodStored = 0;
      const others: BenchConnection[] = [];
      const sentAt = new Map<string, { at: number; phase: 'quiet' | 'flood' | 'done' }>();
      for (let i = 0; i < p.others; i++) {
        const user = `other-${i}`;
        const observer = i === 0;
        others.push(
          await connectRetrying(service.url, user, (m) => {
            if (m.kind !== 'invocation' || m.target !== 'message') return;
            const message = m.argument as { from?: string; clientMessageId?: string };
            if (observer && message.from === 'flood') floodStored++;
            const sent =
              message.clientMessageId !== undefined ? sentAt.get(message.clientMessageId) : undefined;
            if (sent === undefined || message.from !== user) return;
            sentAt.delete(message.clientMessageId as string);
            if (sent.phase !== 'done') acks[sent.phase].push(performance.now() - sent.at);
          }),
        );
      }
      const floodConnections: BenchConnection[] = [];
      for (let k = 0; k < p.floodConnections; k++) {
        floodConnections.push(await connectRetrying(service.url, 'flood', () => undefined));
      }
      let n = 0;
      const chatter = setInterval(() => {
        for (const [i, c] of others.entries()) {
          const clientMessageId = `o${i}-${n}`;
          sentAt.set(clientMessageId, { at: performance.now(), phase });
          c.command('sendMessage', { text: `hello ${n}`, clientMessageId });
        }
        n++;
      }, OTHER_INTERVAL_MS);
      await sleep(p.quietMs);
      phase = 'flood';
      const floodStarted = performance.now();
      let f = 0;
      const flooder = setInterval(() => {
        for (const c of floodConnections) {
          for (let j = 0; j < p.perTick; j++) c.command('sendMessage', { text: `flood ${f++}` });
        }
      }, FLOOD_TICK_MS);
      await sleep(p.floodMs);
      clearInterval(flooder);
      const floodSeconds = (performance.now() - floodStarted) / 1000;
      phase = 'done';
      await sleep(DRAIN_MS);
      clearInterval(chatter);
      for (const c of [...others, ...floodConnections]) c.close();

      const quietP50 = median(acks.quiet);
      const floodP50 = median(acks.flood);
      const allowed = BURST + PER_SECOND * (floodSeconds + DRAIN_MS / 1000);
      return {
        id: flood.id,
        title: flood.title,
        status: 'ok',
        baselineLabel: 'the same clients before the flood; the limit’s allowance',
        parameters: {
          ...p,
          otherIntervalMs: OTHER_INTERVAL_MS,
          floodTickMs: FLOOD_TICK_MS,
          drainMs: DRAIN_MS,
        },
        figures: [
          {
            name: 'others’ ack p50 during the flood',
            unit: 'ms',
            ours: floodP50,
            baseline: quietP50,
            better: 'lower',
            note: `${acks.flood.length} acks during, ${acks.quiet.length} before`,
          },
          {
            name: 'flood messages stored',
            unit: 'messages',
            ours: floodStored,
            baseline: allowed,
            better: 'lower',
            note: `offered ${f} from ${p.floodConnections} connections in ${floodSeconds.toFixed(1)} s`,
          },
        ],
        notes: [],
        targets: [
          {
            name: 'others’ ack p50, flood vs quiet',
            value: floodP50 / quietP50,
            unit: '×',
            comparison: '≤',
            limit: 2,
          },
          {
            name: 'flood messages stored vs allowed',
            value: floodStored,
            unit: 'messages',
            comparison: '≤',
            limit: allowed,
          },
        ],
      };
    } finally {
      for (const stop of stops) await stop().catch(() => undefined);
    }
  },
};
