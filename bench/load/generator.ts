/**
 * The load generator: a forked child that holds bench clients and drives one scenario at a time on the
 * orchestrator's request. It never runs in a server's process. Every run is bounded by a duration and a
 * drain timeout, and reports counts plus a latency histogram (machine-wide monotonic clock, so the send
 * time written into a payload by one process can be compared with the receipt time in another).
 *
 * Requests: `connect` → `connected`; `fanout` / `echo` / `chat` → `result`; `chat-probe` → `probed`;
 * `cost-send` → `sent`; `cost-command` → `commanded`; `meter-start` / `meter-stop` → `metering` / `metered`; `close` → `closed`. The runs
 * live in bench/load/broadcast-runs.ts and bench/load/chat-runs.ts, the clients they share in
 * bench/load/room.ts.
 */

import { billedMessages, billedUnits } from '../billing.js';
import { connect, connectMany, type Target } from '../clients.js';
import { serve, tell } from '../ipc.js';
import { httpPost } from '../net.js';
import type { BenchMessage } from '../processes.js';
import { type EchoRequest, echo, type FanoutRequest, fanout } from './broadcast-runs.js';
import {
  type ChatProbeRequest,
  type ChatRequest,
  type CostCommandRequest,
  type CostSendRequest,
  chat,
  chatProbe,
  costCommand,
  costSend,
} from './chat-runs.js';
import { type CostMarksRequest, type CostTypingRequest, costMarks, costTyping } from './read-runs.js';
import { eventOf, room, sleep } from './room.js';

/** Handshakes in flight while connecting. */
const CONNECT_CONCURRENCY = 50;

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

/** After the joins, how long no event may arrive before the room counts as settled. */
const QUIET_MS = 1_000;

async function openAll(request: ConnectRequest): Promise<BenchMessage> {
  const started = Date.now();
  const prefix = request.userPrefix ?? 'bench';
  const offset = request.append ? room.connections.length : 0;
  if (!request.append) meters = [];
  let arrived = 0;
  let lastEvent = Date.now();
  const awaited = request.awaitEvent;
  /** Chat events all clients received while these joined (and the room settled), by type. */
  const events: Record<string, number> = {};
  room.listen((_client, message) => {
    lastEvent = Date.now();
    if (awaited === undefined) return;
    const type = eventOf(message);
    if (type !== undefined) events[type] = (events[type] ?? 0) + 1;
    if (type === awaited) arrived += 1;
  });
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
        const answer = await httpPost(url, `negotiate for ${userId}`);
        const access = JSON.parse(answer) as { url: string; accessToken: string };
        target = { ...target, url: access.url, accessToken: access.accessToken };
      }
      meters[index] = { messages: 0, bytes: 0, units: 0 };
      const connection = await connect(target, userId, (message) => room.deliver(index, message));
      const signalr =
        target.kind === 'signalr' || (target.kind === 'negotiated' && target.service === 'signalr');
      connection.socket?.on('message', (data: Buffer, isBinary: boolean) =>
        meterFrame(index, data, isBinary, signalr ? 'signalr' : 'raw'),
      );
      if (request.announce !== undefined) connection.send(request.announce);
      return connection;
    },
  );
  room.connections = request.append ? [...room.connections, ...opened] : opened;
  const connectedMs = Date.now() - started;
  const quietMs = request.quietMs ?? QUIET_MS;
  const deadline = Date.now() + (request.joinTimeoutMs ?? 120_000);
  if (awaited !== undefined) while (arrived < opened.length && Date.now() < deadline) await sleep(5);
  // Every client negotiated, connected and (when awaited) has its welcome: the join figure.
  const joinedMs = Date.now() - started;
  // Each join also sends events to everyone: let that backlog drain before measuring.
  if (awaited !== undefined || request.announce !== undefined)
    while (Date.now() - lastEvent < quietMs && Date.now() < deadline) await sleep(20);
  room.stop();
  if (awaited !== undefined && arrived < opened.length)
    throw new Error(`${opened.length - arrived} of ${opened.length} clients got no ${awaited} in time`);
  return {
    type: 'connected',
    clients: room.connections.length,
    connectedMs,
    joinedMs,
    ms: Date.now() - started,
    events,
  };
}

serve(
  async (message) => {
    switch (message.type) {
      case 'meter-start':
        for (const meter of meters) Object.assign(meter, { messages: 0, bytes: 0, units: 0 });
        meteredOthers = room.connections.length;
        return { type: 'metering', clients: meteredOthers };
      case 'meter-stop':
        return {
          type: 'metered',
          others: meterSum(0, meteredOthers),
          newcomers: meterSum(meteredOthers, room.connections.length),
          othersCount: meteredOthers,
        };
      case 'cost-send':
        return costSend(message as CostSendRequest);
      case 'cost-marks':
        return costMarks(message as CostMarksRequest);
      case 'cost-typing':
        return costTyping(message as CostTypingRequest);
      case 'cost-command':
        return costCommand(message as CostCommandRequest);
      case 'connect':
        return openAll(message as ConnectRequest);
      case 'fanout':
        return fanout(message as FanoutRequest);
      case 'echo':
        return echo(message as EchoRequest);
      case 'chat':
        return chat(message as ChatRequest);
      case 'chat-probe':
        return chatProbe(message as ChatProbeRequest);
      case 'close':
        for (const connection of room.connections) connection.close();
        room.connections = [];
        return { type: 'closed' };
      default:
        throw new Error(`unknown request ${message.type}`);
    }
  },
  async () => {
    for (const connection of room.connections) connection.close();
  },
);
tell({ type: 'ready' });
