/**
 * The load generator's chat runs: the end-to-end chat at a fixed rate, the probe that counts a message's
 * receivers, and the one-at-a-time sends of the cost scenario. Each message is a `sendMessage` with a
 * `clientMessageId`, as the page sends it.
 */
import type { Incoming } from '../clients.js';
import { makePayload, readPayload } from '../payload.js';
import type { BenchMessage } from '../processes.js';
import { Histogram, monotonicMicros } from '../stats.js';
import { room, sleep } from './room.js';

export interface ChatRequest extends BenchMessage {
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
export async function chat(request: ChatRequest): Promise<BenchMessage> {
  const perDelivery = new Histogram();
  const complete = new Histogram();
  const received = new Map<number, number>();
  let delivered = 0;
  let sent = 0;
  room.listen((_client, message) => {
    const text = chatText(message);
    const payload = text === undefined ? undefined : readPayload(text);
    if (!payload || payload.seq < request.firstSeq) return;
    const now = monotonicMicros();
    perDelivery.record(now - payload.sentMicros);
    delivered += 1;
    const count = (received.get(payload.seq) ?? 0) + 1;
    received.set(payload.seq, count);
    if (count === request.receiversPerMessage) complete.record(now - payload.sentMicros);
  });
  const intervalMs = 1000 / request.rate;
  const start = Date.now();
  const timer = setInterval(
    () => {
      // Catch up on ticks the timer coalesced, so the offered rate is the nominal one.
      const due = Math.floor((Date.now() - start) / intervalMs) + 1;
      while (sent < due && Date.now() - start < request.durationMs) {
        const seq = request.firstSeq + sent;
        const sender = room.connections[sent % Math.min(request.senders, room.connections.length)];
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
  room.stop();
  return {
    type: 'result',
    clients: room.connections.length,
    sent,
    delivered,
    completed: complete.total,
    elapsedMs: Date.now() - start,
    perDelivery: perDelivery.toJSON(),
    complete: complete.toJSON(),
  };
}

export interface ChatProbeRequest extends BenchMessage {
  seq: number;
  waitMs: number;
  textBytes: number;
}

/** Counts receipts of one probe message to learn how many receipts complete a chat message. */
export async function chatProbe(request: ChatProbeRequest): Promise<BenchMessage> {
  let receipts = 0;
  room.listen((_client, message) => {
    const text = chatText(message);
    if (text !== undefined && readPayload(text)?.seq === request.seq) receipts += 1;
  });
  room.connections[0]?.command('sendMessage', { text: makePayload(request.seq, request.textBytes) });
  await sleep(request.waitMs);
  room.stop();
  return { type: 'probed', receipts };
}

/** The ids of the messages the last cost sends stored, as client 0 received them (read-runs.ts marks them read). */
export const sentIds: string[] = [];

/** The stored id of a chat `message` event. */
function messageId(message: Incoming): string | undefined {
  const event =
    message.kind === 'invocation'
      ? message.argument
      : message.kind === 'text'
        ? JSON.parse(message.text)
        : undefined;
  const id = (event as { id?: unknown } | null | undefined)?.id;
  return typeof id === 'string' ? id : undefined;
}

export interface CostSendRequest extends BenchMessage {
  count: number;
  textBytes: number;
  receivers: number;
  quietMs: number;
  firstSeq: number;
}

/**
 * Per chat message cost: client 0 sends `count` `sendMessage` commands with a `clientMessageId`, one after
 * another (each once every receiver has it, or after `stepTimeoutMs`), then the room settles for `quietMs`.
 */
export async function costSend(request: CostSendRequest): Promise<BenchMessage> {
  let receipts = 0;
  let lastEvent = Date.now();
  sentIds.length = 0;
  room.listen((client, message) => {
    lastEvent = Date.now();
    const text = chatText(message);
    if (text === undefined || (readPayload(text)?.seq ?? -1) < request.firstSeq) return;
    receipts += 1;
    const id = client === 0 ? messageId(message) : undefined;
    if (id !== undefined) sentIds.push(id);
  });
  let completed = 0;
  for (let i = 0; i < request.count; i += 1) {
    const before = receipts;
    const seq = request.firstSeq + i;
    room.connections[0]?.command('sendMessage', {
      text: makePayload(seq, request.textBytes),
      clientMessageId: `bench-${seq}`,
    });
    const deadline = Date.now() + 5_000;
    while (receipts - before < request.receivers && Date.now() < deadline) await sleep(2);
    if (receipts - before >= request.receivers) completed += 1;
  }
  while (Date.now() - lastEvent < request.quietMs) await sleep(20);
  room.stop();
  return { type: 'sent', sent: request.count, completed, receipts };
}

export interface CostCommandRequest extends BenchMessage {
  /** The command client 0 sends (e.g. `addMember`) and its argument. */
  target: string;
  argument: Record<string, unknown>;
  quietMs: number;
  /** How long to wait for the first event the command causes. */
  timeoutMs: number;
}

/**
 * One command's cost (a membership change): client 0 sends it; the room settles once the first event it causes
 * has arrived (or `timeoutMs` passed) and none has for `quietMs`. Answers how many events arrived.
 */
export async function costCommand(request: CostCommandRequest): Promise<BenchMessage> {
  let events = 0;
  let lastEvent = Date.now();
  room.listen(() => {
    events += 1;
    lastEvent = Date.now();
  });
  room.connections[0]?.command(request.target, request.argument);
  const deadline = Date.now() + request.timeoutMs;
  while (events === 0 && Date.now() < deadline) await sleep(5);
  while (Date.now() - lastEvent < request.quietMs) await sleep(20);
  room.stop();
  return { type: 'commanded', events };
}
