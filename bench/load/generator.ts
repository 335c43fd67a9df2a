/**
 * The load generator: a forked child that holds bench clients and drives one scenario at a time on the
 * orchestrator's request. It never runs in a server's process. Every run is bounded by a duration and a
 * drain timeout, and reports counts plus a latency histogram (machine-wide monotonic clock, so the send
 * time written into a payload by one process can be compared with the receipt time in another).
 *
 * Requests: `connect` → `connected`; `fanout` / `echo` / `chat` → `result`; `close` → `closed`.
 */

import { messageOf } from '../../src/lib/error-message.js';
import { parseConnectionString } from '../../src/lib/signalr/connection-string.js';
import { HubClient } from '../../src/lib/signalr/rest/client.js';
import { webPubSubService } from '../../src/lib/webpubsub/service.js';
import { billedMessages, billedUnits } from '../billing.js';
import { type BenchConnection, connect, connectMany, type Incoming, type Target } from '../clients.js';
import { serve, tell } from '../ipc.js';
import { makePayload, readPayload } from '../payload.js';
import type { BenchMessage } from '../processes.js';
import { Histogram, monotonicMicros } from '../stats.js';

/** Handshakes in flight while connecting. */
const CONNECT_CONCURRENCY = 50;

/** What receivers do with an incoming message; replaced per run. */
let onIncoming: (client: number, message: Incoming) => void = () => {};
let connections: BenchConnection[] = [];

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The text of a bench payload from any server: a raw frame or Web PubSub's data, or an invocation's argument. */
function payloadText(message: Incoming): string | undefined {
  if (message.kind === 'text') return message.text;
  if (message.kind === 'invocation' && typeof message.argument === 'string') return message.argument;
  return undefined;
}

interface ConnectRequest extends BenchMessage {
  target: Target;
  clients: number;
  /** User ids are `${userPrefix}${index}`. */
  userPrefix?: string;
  /** Chat only: the Functions app's negotiate (`POST {negotiateUrl}?name=…`) supplies each client's target. */
  negotiateUrl?: string;
  /** Handshakes in flight; default {@link CONNECT_CONCURRENCY}. */
  concurrency?: number;
  /** Chat only: `connected` waits until every client has received this event (`welcome`), up to `joinTimeoutMs`. */
  awaitEvent?: string;
  joinTimeoutMs?: number;
  /** Adds the clients to those already connected (user ids continue the numbering) instead of replacing them. */
  append?: boolean;
  /** Raw text each new client sends once connected (the bare relay's join notice). */
  announce?: string;
  /** After the joins, how long no event may arrive before the room counts as settled; default {@link QUIET_MS}. */
  quietMs?: number;
}

/**
 * What each client received, in Azure's billing terms: one message per hub-protocol record (Pings are not
 * billed) or per raw frame, and its size in bytes; a message of b bytes counts ceil(b / 2048) units.
 */
interface Meter {
  messages: number;
  bytes: number;
  units: number;
}
let meters: Meter[] = [];
/** Clients metered as "others" by the running measurement (those connected when it started). */
let meteredOthers = 0;

function meterFrame(index: number, data: Buffer, isBinary: boolean, dialect: 'raw' | 'signalr'): void {
  const meter = meters[index];
  if (!meter) return;
  for (const bytes of billedMessages(data, isBinary, dialect)) {
    meter.messages += 1;
    meter.bytes += bytes;
    meter.units += billedUnits(bytes);
  }
}

function meterSum(from: number, to: number): Meter {
  const sum: Meter = { messages: 0, bytes: 0, units: 0 };
  for (const meter of meters.slice(from, to)) {
    sum.messages += meter.messages;
    sum.bytes += meter.bytes;
    sum.units += meter.units;
  }
  return sum;
}

/** The chat event a message is (SignalR: the invocation's target; raw frames and Web PubSub: `type`). */
function eventOf(message: Incoming): string | undefined {
  if (message.kind === 'invocation') return message.target;
  if (message.kind !== 'text' || !message.text.startsWith('{')) return undefined;
  try {
    const type = (JSON.parse(message.text) as { type?: unknown }).type;
    return typeof type === 'string' ? type : undefined;
  } catch {
    return undefined;
  }
}

/** After the joins, how long no event may arrive before the room counts as settled. */
const QUIET_MS = 1_000;

async function openAll(request: ConnectRequest): Promise<BenchMessage> {
  const started = Date.now();
  const prefix = request.userPrefix ?? 'bench';
  const offset = request.append ? connections.length : 0;
  if (!request.append) meters = [];
  let arrived = 0;
  let lastEvent = Date.now();
  const awaited = request.awaitEvent;
  /** Chat events all clients received while these joined (and the room settled), by type. */
  const events: Record<string, number> = {};
  onIncoming = (_client, message) => {
    lastEvent = Date.now();
    if (awaited === undefined) return;
    const type = eventOf(message);
    if (type !== undefined) events[type] = (events[type] ?? 0) + 1;
    if (type === awaited) arrived += 1;
  };
  const opened = await connectMany(
    request.clients,
    request.concurrency ?? CONNECT_CONCURRENCY,
    async (newIndex) => {
      const index = offset + newIndex;
      const userId = `${prefix}${index}`;
      let target = request.target;
      if (request.negotiateUrl && target.kind === 'negotiated') {
        const url = new URL(request.negotiateUrl);
        url.searchParams.set('name', userId);
        const response = await fetch(url, { method: 'POST' });
        if (!response.ok)
          throw new Error(`negotiate for ${userId}: HTTP ${response.status} ${await response.text()}`);
        const access = (await response.json()) as { url: string; accessToken: string };
        target = { ...target, url: access.url, accessToken: access.accessToken };
      }
      meters[index] = { messages: 0, bytes: 0, units: 0 };
      const connection = await connect(target, userId, (message) => onIncoming(index, message));
      const signalr =
        target.kind === 'signalr' || (target.kind === 'negotiated' && target.service === 'signalr');
      connection.socket?.on('message', (data: Buffer, isBinary: boolean) =>
        meterFrame(index, data, isBinary, signalr ? 'signalr' : 'raw'),
      );
      if (request.announce !== undefined) connection.send(request.announce);
      return connection;
    },
  );
  connections = request.append ? [...connections, ...opened] : opened;
  const connectedMs = Date.now() - started;
  const quietMs = request.quietMs ?? QUIET_MS;
  const deadline = Date.now() + (request.joinTimeoutMs ?? 120_000);
  if (awaited !== undefined) while (arrived < opened.length && Date.now() < deadline) await sleep(5);
  // Every client negotiated, connected and (when awaited) has its welcome: the join figure.
  const joinedMs = Date.now() - started;
  // Each join also sends events to everyone: let that backlog drain before measuring.
  if (awaited !== undefined || request.announce !== undefined)
    while (Date.now() - lastEvent < quietMs && Date.now() < deadline) await sleep(20);
  onIncoming = () => {};
  if (awaited !== undefined && arrived < opened.length)
    throw new Error(`${opened.length - arrived} of ${opened.length} clients got no ${awaited} in time`);
  return {
    type: 'connected',
    clients: connections.length,
    connectedMs,
    joinedMs,
    ms: Date.now() - started,
    events,
  };
}

/** How the fan-out run sends one broadcast. */
type Broadcast =
  | { kind: 'bare'; url: string }
  | { kind: 'service'; service: 'signalr' | 'webpubsub'; connectionString: string; hub: string };

interface FanoutRequest extends BenchMessage {
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
      const response = await fetch(url, { method: 'POST', body: text });
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`bare broadcast: HTTP ${response.status}`);
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
  const client = new HubClient({ connection, hub: spec.hub, dialect: 'signalr' });
  return (text) => client.sendToAll({ target: 'bench', arguments: [text] });
}

/**
 * Fan-out: keeps `window` broadcasts in flight (in flight = not yet at every client) for `durationMs`,
 * then waits up to `drainMs` for the rest. The window keeps the server busy without letting its queues
 * grow without bound, so the latency measured is that of a saturated but stable pipeline.
 */
async function fanout(request: FanoutRequest): Promise<BenchMessage> {
  const send = broadcaster(request.broadcast);
  const clients = connections.length;
  const received: number[] = [];
  const latency = new Histogram();
  let delivered = 0;
  let inFlight = 0;
  let sent = 0;
  let errors = 0;
  let lastError = '';
  let lastReceipt = 0;
  let wake: (() => void) | undefined;
  onIncoming = (_client, message) => {
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
  };
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
  onIncoming = () => {};
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

interface EchoRequest extends BenchMessage {
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
async function echo(request: EchoRequest): Promise<BenchMessage> {
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
  onIncoming = (_client, message) => {
    if (message.kind === 'completion') {
      if (message.error !== undefined) {
        errors += 1;
        lastError = message.error;
      } else record(typeof message.result === 'string' ? message.result : undefined);
    } else record(payloadText(message));
  };
  const intervalMs = 1000 / request.ratePerClient;
  const timers: NodeJS.Timeout[] = [];
  const start = monotonicMicros();
  connections.forEach((connection, index) => {
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
      (index / connections.length) * intervalMs,
    );
    timers.push(begin);
  });
  await sleep(request.durationMs);
  for (const timer of timers) clearInterval(timer);
  const drainEnd = Date.now() + request.drainMs;
  while (answered + errors < sent && Date.now() < drainEnd) await sleep(20);
  onIncoming = () => {};
  const elapsedMicros = Math.max(1, (lastAnswer || monotonicMicros()) - start);
  return {
    type: 'result',
    clients: connections.length,
    sent,
    answered,
    errors,
    lastError,
    elapsedMs: elapsedMicros / 1000,
    roundTripsPerSecond: (answered * 1e6) / elapsedMicros,
    latency: latency.toJSON(),
  };
}

interface ChatRequest extends BenchMessage {
  /** Messages per second, all senders together. */
  rate: number;
  durationMs: number;
  /** How many of the clients send (round robin). */
  senders: number;
  textBytes: number;
  drainMs: number;
  /** Receipts that complete one message (every client in the room, the sender included if it gets it). */
  receiversPerMessage: number;
  /** A seq offset so steps never share sequence numbers. */
  firstSeq: number;
}

/**
 * The text of a chat `message` event from any server. The bare relay baseline echoes the raw
 * `sendMessage` command to everyone, so a raw frame of that type counts as the same delivery.
 */
function chatText(message: Incoming): string | undefined {
  let event: unknown;
  if (message.kind === 'invocation') {
    if (message.target !== 'message') return undefined;
    event = message.argument;
  } else if (message.kind === 'text') {
    if (!message.text.includes('"type":"message"') && !message.text.includes('"type":"sendMessage"'))
      return undefined;
    event = JSON.parse(message.text);
  } else return undefined;
  const text = (event as { text?: unknown } | null)?.text;
  return typeof text === 'string' ? text : undefined;
}

/**
 * End-to-end chat: `senders` clients send `sendMessage` (with a `clientMessageId`, as the page does) to the
 * room at `rate` a second in total; every
 * client records each message's receipt. Reports per-delivery latency and per-message completion (the time
 * until the message reached every receiver), which is the figure the step search judges.
 */
async function chat(request: ChatRequest): Promise<BenchMessage> {
  const perDelivery = new Histogram();
  const complete = new Histogram();
  const received = new Map<number, number>();
  let delivered = 0;
  let sent = 0;
  onIncoming = (_client, message) => {
    const text = chatText(message);
    const payload = text === undefined ? undefined : readPayload(text);
    if (!payload || payload.seq < request.firstSeq) return;
    const now = monotonicMicros();
    perDelivery.record(now - payload.sentMicros);
    delivered += 1;
    const count = (received.get(payload.seq) ?? 0) + 1;
    received.set(payload.seq, count);
    if (count === request.receiversPerMessage) complete.record(now - payload.sentMicros);
  };
  const intervalMs = 1000 / request.rate;
  const start = Date.now();
  const timer = setInterval(
    () => {
      // Catch up on ticks the timer coalesced, so the offered rate is the nominal one.
      const due = Math.floor((Date.now() - start) / intervalMs) + 1;
      while (sent < due && Date.now() - start < request.durationMs) {
        const seq = request.firstSeq + sent;
        const sender = connections[sent % Math.min(request.senders, connections.length)];
        sent += 1;
        // With a clientMessageId, as the page sends every message: each one costs its marker too.
        sender?.command('sendMessage', {
          text: makePayload(seq, request.textBytes),
          clientMessageId: `bench-${seq}`,
        });
      }
    },
    Math.max(1, intervalMs),
  );
  await sleep(request.durationMs);
  clearInterval(timer);
  const drainEnd = Date.now() + request.drainMs;
  while (complete.total < sent && Date.now() < drainEnd) await sleep(20);
  onIncoming = () => {};
  return {
    type: 'result',
    clients: connections.length,
    sent,
    delivered,
    completed: complete.total,
    elapsedMs: Date.now() - start,
    perDelivery: perDelivery.toJSON(),
    complete: complete.toJSON(),
  };
}

/** Counts receipts of one probe message to learn how many receipts complete a chat message. */
async function chatProbe(request: BenchMessage & { seq: number; waitMs: number; textBytes: number }) {
  let receipts = 0;
  onIncoming = (_client, message) => {
    const text = chatText(message);
    if (text !== undefined && readPayload(text)?.seq === request.seq) receipts += 1;
  };
  connections[0]?.command('sendMessage', { text: makePayload(request.seq, request.textBytes) });
  await sleep(request.waitMs);
  onIncoming = () => {};
  return { type: 'probed', receipts };
}

/**
 * Per chat message cost: client 0 sends `count` `sendMessage` commands with a `clientMessageId`, one after
 * another (each once every receiver has it, or after `stepTimeoutMs`), then the room settles for `quietMs`.
 */
async function costSend(
  request: BenchMessage & {
    count: number;
    textBytes: number;
    receivers: number;
    quietMs: number;
    firstSeq: number;
  },
): Promise<BenchMessage> {
  let receipts = 0;
  let lastEvent = Date.now();
  onIncoming = (_client, message) => {
    lastEvent = Date.now();
    const text = chatText(message);
    if (text !== undefined && (readPayload(text)?.seq ?? -1) >= request.firstSeq) receipts += 1;
  };
  let completed = 0;
  for (let i = 0; i < request.count; i += 1) {
    const before = receipts;
    const seq = request.firstSeq + i;
    connections[0]?.command('sendMessage', {
      text: makePayload(seq, request.textBytes),
      clientMessageId: `bench-${seq}`,
    });
    const deadline = Date.now() + 5_000;
    while (receipts - before < request.receivers && Date.now() < deadline) await sleep(2);
    if (receipts - before >= request.receivers) completed += 1;
  }
  while (Date.now() - lastEvent < request.quietMs) await sleep(20);
  onIncoming = () => {};
  return { type: 'sent', sent: request.count, completed, receipts };
}

serve(
  async (message) => {
    switch (message.type) {
      case 'meter-start':
        for (const meter of meters) Object.assign(meter, { messages: 0, bytes: 0, units: 0 });
        meteredOthers = connections.length;
        return { type: 'metering', clients: meteredOthers };
      case 'meter-stop':
        return {
          type: 'metered',
          others: meterSum(0, meteredOthers),
          newcomers: meterSum(meteredOthers, connections.length),
          othersCount: meteredOthers,
        };
      case 'cost-send':
        return costSend(
          message as BenchMessage & {
            count: number;
            textBytes: number;
            receivers: number;
            quietMs: number;
            firstSeq: number;
          },
        );
      case 'connect':
        return openAll(message as ConnectRequest);
      case 'fanout':
        return fanout(message as FanoutRequest);
      case 'echo':
        return echo(message as EchoRequest);
      case 'chat':
        return chat(message as ChatRequest);
      case 'chat-probe':
        return chatProbe(message as BenchMessage & { seq: number; waitMs: number; textBytes: number });
      case 'close':
        for (const connection of connections) connection.close();
        connections = [];
        return { type: 'closed' };
      default:
        throw new Error(`unknown request ${message.type}`);
    }
  },
  async () => {
    for (const connection of connections) connection.close();
  },
);
tell({ type: 'ready' });
