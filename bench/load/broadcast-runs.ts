/**
 * The load generator's runs that measure the service's delivery: the fan-out of REST broadcasts and the
 * upstream echo. Every run is bounded by a duration and a drain timeout, and reports counts plus a latency
 * histogram.
 */
import { messageOf } from '../../src/lib/error-message.js';
import { parseConnectionString } from '../../src/lib/signalr/connection-string.js';
import { HubClient } from '../../src/lib/signalr/rest/client.js';
import { webPubSubService } from '../../src/lib/webpubsub/service.js';
import { httpPost } from '../net.js';
import { makePayload, readPayload } from '../payload.js';
import type { BenchMessage } from '../processes.js';
import { Histogram, monotonicMicros } from '../stats.js';
import { payloadText, room, sleep } from './room.js';

/** How the fan-out run sends one broadcast. */
export type Broadcast =
  | { kind: 'bare'; url: string }
  | { kind: 'service'; service: 'signalr' | 'webpubsub'; connectionString: string; hub: string };

export interface FanoutRequest extends BenchMessage {
  broadcast: Broadcast;
  durationMs: number;
  payloadBytes: number;
  /** Broadcasts not yet received by every client before the next one is sent. */
  window: number;
  drainMs: number;
}

function broadcaster(spec: Broadcast): (text: string) => Promise<void> {
  if (spec.kind === 'bare') {
    const url = `${spec.url}/broadcast`;
    return async (text) => {
      await httpPost(url, 'bare broadcast', { body: text });
    };
  }
  if (spec.service === 'webpubsub') {
    // The app's own Web PubSub client (Microsoft's SDK, as src/lib/webpubsub/service.ts builds it):
    // `POST /api/hubs/{hub}/:send?api-version=2024-12-01` with the text as text/plain. No retries: a
    // broadcast sent twice would be counted twice.
    const { client } = webPubSubService(
      { kind: 'key', connectionString: spec.connectionString },
      { hub: spec.hub, maxRetries: 0 },
    );
    return (text) => client.sendToAll(text, { contentType: 'text/plain' });
  }
  const connection = parseConnectionString(spec.connectionString);
  const client = new HubClient({ connection, hub: spec.hub });
  return (text) => client.sendToAll({ target: 'bench', arguments: [text] });
}

/**
 * Fan-out: keeps `window` broadcasts in flight (in flight = not yet at every client) for `durationMs`,
 * then waits up to `drainMs` for the rest. The window keeps the server busy without letting its queues
 * grow without bound, so the latency measured is that of a saturated but stable pipeline.
 */
export async function fanout(request: FanoutRequest): Promise<BenchMessage> {
  const send = broadcaster(request.broadcast);
  const clients = room.connections.length;
  const received: number[] = [];
  const latency = new Histogram();
  let delivered = 0;
  let inFlight = 0;
  let sent = 0;
  let errors = 0;
  let lastError = '';
  let lastReceipt = 0;
  let wake: (() => void) | undefined;
  room.listen((_client, message) => {
    const text = payloadText(message);
    const payload = text === undefined ? undefined : readPayload(text);
    if (!payload) return;
    const now = monotonicMicros();
    latency.record(now - payload.sentMicros);
    delivered += 1;
    lastReceipt = now;
    const count = (received[payload.seq] ?? 0) + 1;
    received[payload.seq] = count;
    if (count === clients) {
      inFlight -= 1;
      wake?.();
    }
  });
  const start = monotonicMicros();
  const end = start + request.durationMs * 1000;
  while (monotonicMicros() < end) {
    if (inFlight >= request.window) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 50);
      });
      wake = undefined;
      continue;
    }
    const seq = sent++;
    inFlight += 1;
    received[seq] = 0;
    send(makePayload(seq, request.payloadBytes)).catch((error: unknown) => {
      errors += 1;
      lastError = messageOf(error);
      inFlight -= 1;
    });
    if (sent % request.window === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  const drainEnd = Date.now() + request.drainMs;
  while (inFlight > 0 && Date.now() < drainEnd) await sleep(20);
  room.stop();
  const elapsedMicros = Math.max(1, (lastReceipt || monotonicMicros()) - start);
  return {
    type: 'result',
    clients,
    sent,
    delivered,
    expected: sent * clients,
    errors,
    lastError,
    elapsedMs: elapsedMicros / 1000,
    deliveredPerSecond: (delivered * 1e6) / elapsedMicros,
    latency: latency.toJSON(),
  };
}

export interface EchoRequest extends BenchMessage {
  durationMs: number;
  /** Messages per second sent by each client. */
  ratePerClient: number;
  payloadBytes: number;
  drainMs: number;
}

/**
 * Upstream echo: every client sends `ratePerClient` messages a second (open loop, start times spread over
 * one interval) and waits for each to come back: a raw frame from the bare baseline, a server message with
 * the upstream's answer in Web PubSub, a Completion in SignalR (the invocation carries an invocationId).
 */
export async function echo(request: EchoRequest): Promise<BenchMessage> {
  const latency = new Histogram();
  let sent = 0;
  let answered = 0;
  let errors = 0;
  let lastError = '';
  let lastAnswer = 0;
  const record = (text: string | undefined) => {
    const payload = text === undefined ? undefined : readPayload(text);
    if (!payload) return;
    const now = monotonicMicros();
    latency.record(now - payload.sentMicros);
    answered += 1;
    lastAnswer = now;
  };
  room.listen((_client, message) => {
    if (message.kind === 'completion') {
      if (message.error !== undefined) {
        errors += 1;
        lastError = message.error;
      } else record(typeof message.result === 'string' ? message.result : undefined);
    } else record(payloadText(message));
  });
  const intervalMs = 1000 / request.ratePerClient;
  const timers: NodeJS.Timeout[] = [];
  const start = monotonicMicros();
  room.connections.forEach((connection, index) => {
    const begin = setTimeout(
      () => {
        const tick = () => {
          const seq = sent++;
          connection.send(makePayload(seq, request.payloadBytes), {
            target: 'echo',
            invocationId: String(seq),
          });
        };
        tick();
        timers.push(setInterval(tick, intervalMs));
      },
      (index / room.connections.length) * intervalMs,
    );
    timers.push(begin);
  });
  await sleep(request.durationMs);
  for (const timer of timers) clearInterval(timer);
  const drainEnd = Date.now() + request.drainMs;
  while (answered + errors < sent && Date.now() < drainEnd) await sleep(20);
  room.stop();
  const elapsedMicros = Math.max(1, (lastAnswer || monotonicMicros()) - start);
  return {
    type: 'result',
    clients: room.connections.length,
    sent,
    answered,
    errors,
    lastError,
    elapsedMs: elapsedMicros / 1000,
    roundTripsPerSecond: (answered * 1e6) / elapsedMicros,
    latency: latency.toJSON(),
  };
}
