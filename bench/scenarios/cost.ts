/**
 * Scenario 6, cost in Azure's billing units: the chat through the local service + the built-in Functions
 * host + Azurite, with a room grown to each size N in turn.
 *
 * - **Join cost by room size**: one more user joins a room of N. Figures per join: the messages, bytes and
 *   billed SignalR units delivered to the others (Azure bills only outbound messages, Pings excluded, a
 *   message of b bytes as ceil(b / 2048) units per recipient: "How messages are counted" in Microsoft's
 *   Azure SignalR documentation), the units of the joiner's own welcome, the Blob transactions (counted by a
 *   proxy in front of Azurite, see bench/blob-counter.ts) and the Functions host's CPU. Between sizes, the
 *   growth exponent log(cost₂ / cost₁) / log(N₂ / N₁): 1.0 is linear in the room, a constant cost per
 *   recipient (target ≤ 1.1).
 * - **Per chat message** into the room of N: a `sendMessage` with a `clientMessageId`; billed units to
 *   everyone (the sender's own copy, which is its acknowledgement, included; the client's invocation is
 *   inbound, which Azure does not bill), Blob transactions, Functions CPU-ms and the Functions host's resident memory growth.
 *   The Blob requests of the smallest room's messages are judged in two parts: the message path (the append with its
 *   exactly-once check, target ≤ {@link BLOB_REQUESTS_PER_MESSAGE_TARGET}) and the command limit's share (its
 *   bucket writes, target ≤ {@link COMMAND_LIMIT_SHARE_TARGET}); the messages go one at a time, so no group commit
 *   shares a request, and refused requests are counted apart.
 *
 * - **Per membership change** in the room of N: an `addMember` to a private group (the owner adds one more
 *   user each time): billed units to every client, Blob transactions, Functions CPU; the relay has no groups.
 *
 * - **Per attachment** (cost-attachments.ts): the Blob transactions of issuing the upload SAS, the browser's
 *   PUT, the HEAD check when the message with it is sent, issuing the read SAS and the read.
 *
 * Baseline: a bare `ws` relay in the same run, at the same sizes, doing the least that does the same job: a
 * joining client sends one small join notice that the relay sends to every client (one tiny message per
 * recipient, the theoretical minimum of telling the others), and a chat message is relayed once to every
 * client. The relay stores nothing, so its Blob transactions are 0 (shown; no ratio).
 */

import { BlobServiceClient } from '@azure/storage-blob';
import { DEFAULT_READ_WRITE_INTERVAL_MS, parseReads } from '../../src/lib/chat/reading/positions.js';
import { DEFAULT_TYPING_MIN_INTERVAL_MS } from '../../src/lib/chat/typing.js';
import { messageOf } from '../../src/lib/error-message.js';
import { READS_BLOB, userFolderPrefix } from '../../src/lib/user-folder.js';
import { startBlobCounter } from '../blob-counter.js';
import { BENCH_NEGOTIATES_PER_MINUTE } from '../chat-stack.js';
import { type BenchChild, type BenchMessage, childCpuMillis, residentBytes } from '../processes.js';
import type { ScenarioResult } from '../report.js';
import type { BenchContext, Scenario } from '../scenario.js';
import {
  connectionString,
  freePort,
  startAzurite,
  startBare,
  startFunctionsProcess,
  startGenerator,
  startServiceProcess,
} from '../stack.js';
import { type AttachmentCost, attachmentFigures, measureAttachments } from './cost-attachments.js';
import { figuresFor, type MembershipCost, type Meter, type Metered, type Side } from './cost-figures.js';

export {
  BLOB_REQUESTS_PER_MESSAGE_TARGET,
  COMMAND_LIMIT_SHARE_TARGET,
  JOIN_EXPONENT_TARGET,
} from './cost-figures.js';

export const FULL = {
  sizes: [100, 500, 2000],
  joinsPerSize: 5,
  messagesPerSize: 20,
  /** Read-marker updates per size (client 0 marks the room read up to each of the last messages sent). */
  marksPerSize: 20,
  /** Typing events per size (one each from clients 1…n). */
  typingPerSize: 5,
  textBytes: 100,
  /** Clients joining at once while the room fills (not measured). */
  fillConcurrency: 10,
  /** Clients per fill request, so the time budget is checked between chunks. */
  fillChunk: 100,
  /** Time the fills of ours may take in all; larger rooms are left out (and say so) past it. */
  fillBudgetMs: 180_000,
  /** No event for this long after a join means its fan-out is over. */
  quietMs: 1_000,
  /** Attachments sent to the room, one at a time, and the size of each (bench/scenarios/cost-attachments.ts). */
  attachments: 20,
  attachmentBytes: 100_000,
};
export const QUICK = {
  sizes: [10, 40],
  joinsPerSize: 3,
  messagesPerSize: 10,
  marksPerSize: 10,
  typingPerSize: 3,
  textBytes: 100,
  fillConcurrency: 10,
  fillChunk: 50,
  fillBudgetMs: 45_000,
  quietMs: 600,
  attachments: 5,
  attachmentBytes: 100_000,
};
type Params = typeof FULL;

/** What a scenario side needs from its stack. */
interface Stack {
  /** The connect request for `clients` more clients, appended to the room; `measured` for a measured join. */
  connect(clients: number, concurrency: number, quietMs: number, measured: boolean): BenchMessage;
  /** CPU time of the measured server process in ms (µs resolution through its `cpu` probe). */
  cpuMs(): Promise<number>;
  /** CPU of the service, where there is one. */
  serviceCpuMs?(): Promise<number>;
  /** Blob transactions since the last call. */
  blobs(): { total: number; byOperation: Record<string, number>; failed?: number; commandLimit?: number };
  /** Resident memory of the measured server process. */
  rss(): number;
  /** The chat's read state (ours only): measure read-marker updates and typing, waiting `settleMs` for the write. */
  readState?: { settleMs: number; writesOfMarker: () => Promise<number> };
  /** Whether membership changes are measured (the chat's `addMember`; the relay has no groups). */
  groups?: boolean;
}

const cpuOf = childCpuMillis;

const perJoin = (meter: Meter, joins: number): Meter => ({
  messages: meter.messages / joins,
  bytes: meter.bytes / joins,
  units: meter.units / joins,
});

/** Grows the room to each size and measures joins and messages there. */
async function measureSide(
  generator: BenchChild,
  stack: Stack,
  params: Params,
  log: (text: string) => void,
  label: string,
): Promise<Side> {
  const side: Side = { joins: [], messages: [], memberships: [], notReached: [] };
  let inRoom = 0;
  let fillMs = 0;
  for (const [sizeIndex, size] of params.sizes.entries()) {
    // Fill, in chunks, within the budget.
    const fillStart = Date.now();
    let fillError = '';
    while (inRoom < size && fillMs + (Date.now() - fillStart) < params.fillBudgetMs) {
      const chunk = Math.min(params.fillChunk, size - inRoom);
      // A chunk may take no longer than what is left of the budget (a stack that saturates stops here).
      const leftMs = Math.max(10_000, params.fillBudgetMs - fillMs - (Date.now() - fillStart));
      try {
        const joined = await generator.request<BenchMessage & { clients: number }>(
          { ...stack.connect(chunk, params.fillConcurrency, params.quietMs, false), joinTimeoutMs: leftMs },
          'connected',
          leftMs + 120_000,
        );
        inRoom = joined.clients;
      } catch (error) {
        fillError = messageOf(error);
        break;
      }
    }
    fillMs += Date.now() - fillStart;
    if (inRoom < size) {
      side.notReached.push(...params.sizes.slice(sizeIndex));
      log(
        `  ${label}: the room reached ${inRoom} of ${size} within the fill budget${fillError ? ` (${fillError})` : ''}; larger rooms left out`,
      );
      break;
    }
    log(`  ${label}: room of ${size} (filled in ${((Date.now() - fillStart) / 1000).toFixed(1)} s)`);

    // Joins into a room of `size` (each join adds one, so the room is size, size + 1, …).
    const others: Meter = { messages: 0, bytes: 0, units: 0 };
    const joiner: Meter = { messages: 0, bytes: 0, units: 0 };
    let blobTransactions = 0;
    const blobByOperation: Record<string, number> = {};
    let cpuMs = 0;
    let serviceCpuMs = 0;
    for (let j = 0; j < params.joinsPerSize; j += 1) {
      stack.blobs();
      const cpuBefore = await stack.cpuMs();
      const serviceBefore = (await stack.serviceCpuMs?.()) ?? 0;
      await generator.request({ type: 'meter-start' }, 'metering');
      const joined = await generator.request<BenchMessage & { clients: number }>(
        stack.connect(1, 1, params.quietMs, true),
        'connected',
        120_000,
      );
      inRoom = joined.clients;
      const metered = await generator.request<Metered>({ type: 'meter-stop' }, 'metered');
      cpuMs += (await stack.cpuMs()) - cpuBefore;
      serviceCpuMs += ((await stack.serviceCpuMs?.()) ?? 0) - serviceBefore;
      const blobs = stack.blobs();
      blobTransactions += blobs.total;
      for (const [op, n] of Object.entries(blobs.byOperation))
        blobByOperation[op] = (blobByOperation[op] ?? 0) + n;
      for (const key of ['messages', 'bytes', 'units'] as const) {
        others[key] += metered.others[key];
        joiner[key] += metered.newcomers[key];
      }
    }
    const joins = params.joinsPerSize;
    side.joins.push({
      size,
      joins,
      toOthers: perJoin(others, joins),
      toJoiner: perJoin(joiner, joins),
      blobTransactions: blobTransactions / joins,
      blobByOperation: Object.fromEntries(Object.entries(blobByOperation).map(([k, n]) => [k, n / joins])),
      cpuMs: cpuMs / joins,
      ...(stack.serviceCpuMs ? { serviceCpuMs: serviceCpuMs / joins } : {}),
    });

    // Chat messages into the room.
    const probe = await generator.request<BenchMessage & { receipts: number }>(
      {
        type: 'chat-probe',
        seq: (sizeIndex + 1) * 1_000_000 - 1,
        waitMs: 1_000,
        textBytes: params.textBytes,
      },
      'probed',
    );
    stack.blobs();
    const cpuBefore = await stack.cpuMs();
    const rssBefore = stack.rss();
    await generator.request({ type: 'meter-start' }, 'metering');
    const sent = await generator.request<BenchMessage & { sent: number; completed: number }>(
      {
        type: 'cost-send',
        count: params.messagesPerSize,
        textBytes: params.textBytes,
        receivers: probe.receipts,
        quietMs: params.quietMs,
        firstSeq: (sizeIndex + 1) * 1_000_000,
      },
      'sent',
      params.messagesPerSize * 6_000 + 30_000,
    );
    const metered = await generator.request<Metered>({ type: 'meter-stop' }, 'metered');
    const cpu = (await stack.cpuMs()) - cpuBefore;
    const rss = stack.rss() - rssBefore;
    const blobs = stack.blobs();
    const m = Math.max(1, sent.sent);
    side.messages.push({
      size,
      roomSize: inRoom,
      sent: sent.sent,
      completed: sent.completed,
      receivers: probe.receipts,
      toAll: perJoin(metered.others, m),
      blobTransactions: blobs.total / m,
      blobByOperation: Object.fromEntries(Object.entries(blobs.byOperation).map(([k, n]) => [k, n / m])),
      blobRefused: blobs.failed ?? 0,
      blobCommandLimit: (blobs.commandLimit ?? 0) / m,
      cpuMs: cpu / m,
      rssBytesPerMessage: rss / m,
    });
    if (stack.readState) await measureReadState(generator, stack, params, side, size, stack.readState);
    if (stack.groups) side.memberships.push(await measureMemberships(generator, stack, params, size));

    const last = side.joins.at(-1);
    log(
      `  ${label}: join into ${size}: ${last?.toOthers.units.toFixed(1)} units / ${Math.round(last?.toOthers.bytes ?? 0)} B to the others, ${last?.blobTransactions.toFixed(1)} blob tx, ${last?.cpuMs.toFixed(1)} ms CPU; message: ${side.messages.at(-1)?.toAll.units.toFixed(1)} units, ${side.messages.at(-1)?.blobTransactions.toFixed(1)} blob tx`,
    );
  }
  return side;
}

/**
 * Read-marker updates and typing events in the room of `size`: `marksPerSize` marks in a row (within one
 * write interval of the server, so one coalesced write), then `typingPerSize` typing events, twice (the first
 * are the typists' first commands); billed units, Blob transactions (the marks' window waits out the interval)
 * and recipients.
 */
async function measureReadState(
  generator: BenchChild,
  stack: Stack,
  params: Params,
  side: Side,
  size: number,
  { settleMs, writesOfMarker }: NonNullable<Stack['readState']>,
): Promise<void> {
  const writesBefore = await writesOfMarker();
  stack.blobs();
  await generator.request({ type: 'meter-start' }, 'metering');
  const marked = await generator.request<BenchMessage & { sent: number; reads: number }>(
    { type: 'cost-marks', count: params.marksPerSize, settleMs, quietMs: params.quietMs },
    'marked',
    params.marksPerSize * 6_000 + settleMs + 30_000,
  );
  const markMeter = await generator.request<Metered>({ type: 'meter-stop' }, 'metered');
  const markBlobs = stack.blobs();
  const writes = (await writesOfMarker()) - writesBefore;
  // A typist's first command on the instance reads its bucket and takes its first lease, as any user's first
  // command does: measured apart, then the typists type again once the throttle lets them, spending that lease.
  const typing = { type: 'cost-typing', count: params.typingPerSize, quietMs: params.quietMs };
  const firstTyped = await generator.request<BenchMessage & { sent: number }>(typing, 'typed', 60_000);
  const firstTypingBlobs = stack.blobs();
  await new Promise((resolve) => setTimeout(resolve, DEFAULT_TYPING_MIN_INTERVAL_MS + 100));
  stack.blobs();
  await generator.request({ type: 'meter-start' }, 'metering');
  const typed = await generator.request<BenchMessage & { sent: number; receipts: number }>(
    typing,
    'typed',
    60_000,
  );
  const typingMeter = await generator.request<Metered>({ type: 'meter-stop' }, 'metered');
  const typingBlobs = stack.blobs();
  side.marks ??= [];
  side.typing ??= [];
  side.marks.push({
    size,
    sent: marked.sent,
    reads: marked.reads,
    writes,
    toAll: perJoin(markMeter.others, Math.max(1, marked.sent)),
    blobTransactions: markBlobs.total,
    blobByOperation: markBlobs.byOperation,
  });
  side.typing.push({
    size,
    sent: typed.sent,
    receipts: typed.receipts,
    toAll: perJoin(typingMeter.others, Math.max(1, typed.sent)),
    blobTransactions: typingBlobs.total / Math.max(1, typed.sent),
    firstBlobTransactions: firstTypingBlobs.total / Math.max(1, firstTyped.sent),
  });
}

/**
 * Membership changes in a room of `size`: client 0 (`user0`) creates a private group (not measured), then adds
 * `user1`, `user2`, … one `addMember` at a time, each measured until the room is quiet: billed units to every
 * client, Blob transactions and Functions CPU.
 */
async function measureMemberships(
  generator: BenchChild,
  stack: Stack,
  params: Params,
  size: number,
): Promise<MembershipCost> {
  const group = `cost${size}`;
  const command = (target: string, argument: Record<string, unknown>) =>
    generator.request<BenchMessage & { events: number }>(
      { type: 'cost-command', target, argument, quietMs: params.quietMs, timeoutMs: 5_000 },
      'commanded',
      60_000,
    );
  await command('createGroup', { group, kind: 'private', members: [] });
  const toAll: Meter = { messages: 0, bytes: 0, units: 0 };
  const byOperation: Record<string, number> = {};
  let blobTransactions = 0;
  let cpuMs = 0;
  const changes = params.joinsPerSize;
  for (let k = 1; k <= changes; k += 1) {
    stack.blobs();
    const cpuBefore = await stack.cpuMs();
    await generator.request({ type: 'meter-start' }, 'metering');
    await command('addMember', { group, user: `user${k}` });
    const metered = await generator.request<Metered>({ type: 'meter-stop' }, 'metered');
    cpuMs += (await stack.cpuMs()) - cpuBefore;
    const blobs = stack.blobs();
    blobTransactions += blobs.total;
    for (const [op, n] of Object.entries(blobs.byOperation)) byOperation[op] = (byOperation[op] ?? 0) + n;
    for (const key of ['messages', 'bytes', 'units'] as const) toAll[key] += metered.others[key];
  }
  return {
    size,
    changes,
    toAll: perJoin(toAll, changes),
    blobTransactions: blobTransactions / changes,
    blobByOperation: Object.fromEntries(Object.entries(byOperation).map(([k, n]) => [k, n / changes])),
    cpuMs: cpuMs / changes,
  };
}

export const cost: Scenario = {
  id: 'cost',
  title: "Cost in Azure's billing units: join cost by room size and per chat message",
  async run(context: BenchContext): Promise<ScenarioResult> {
    const mode = context.quick ? QUICK : FULL;
    const params: Params = context.sizes ? { ...mode, sizes: [...context.sizes] } : mode;
    const generator = await startGenerator('cost clients');
    const details: Record<string, unknown> = {};
    try {
      context.log(`cost: bare ws relay baseline, rooms of ${params.sizes.join(', ')}`);
      const bare = await startBare('broadcast');
      let baseline: Side;
      try {
        let next = 0;
        baseline = await measureSide(
          generator,
          {
            connect: (clients, concurrency, quietMs, measured) => {
              const first = next;
              next += clients;
              return {
                type: 'connect',
                target: { kind: 'bare', url: bare.url },
                clients,
                append: first > 0,
                userPrefix: 'user',
                concurrency,
                quietMs: Math.min(quietMs, 300),
                // The measured joiner's notice (filling the room is not measured, and needs none).
                ...(measured
                  ? { announce: JSON.stringify({ type: 'presence', joined: [{ user: `user${first}` }] }) }
                  : {}),
              };
            },
            cpuMs: () => cpuOf(bare.child),
            blobs: () => ({ total: 0, byOperation: {} }),
            rss: () => residentBytes(bare.pid),
          },
          { ...params, fillBudgetMs: 900_000 },
          context.log,
          'bare relay',
        );
      } finally {
        await generator.request({ type: 'close' }, 'closed');
        await bare.stop();
      }
      details.baseline = baseline;

      context.log('cost: service + Functions host + Azurite (SignalR)');
      const azurite = await startAzurite();
      const counter = await startBlobCounter(azurite.connectionString);
      const functionsPort = await freePort();
      const service = await startServiceProcess({
        upstream: `http://127.0.0.1:${functionsPort}/api/messages?event={event}`,
      });
      const functions = await startFunctionsProcess({
        AzureSignalRConnectionString: connectionString(service.url),
        CHAT_HISTORY_STORAGE: counter.connectionString,
        BENCH_FUNCTIONS_PORT: String(functionsPort),
        // Every bench client negotiates from the one loopback address; users on Azure come from many.
        CHAT_NEGOTIATE_PER_MINUTE_PER_ADDRESS: String(BENCH_NEGOTIATES_PER_MINUTE),
      });
      let ours: Side;
      let attachments: AttachmentCost;
      try {
        const negotiateUrl = new URL('/api/negotiate', functions.url).toString();
        let started = false;
        ours = await measureSide(
          generator,
          {
            connect: (clients, concurrency, quietMs) => {
              const append = started;
              started = true;
              return {
                type: 'connect',
                target: { kind: 'negotiated', service: 'signalr', url: '', accessToken: '' },
                negotiateUrl,
                userPrefix: 'user',
                clients,
                append,
                concurrency,
                awaitEvent: 'welcome',
                quietMs,
                joinTimeoutMs: 300_000,
              };
            },
            cpuMs: () => cpuOf(functions.child),
            serviceCpuMs: () => cpuOf(service.child),
            blobs: () => counter.take(),
            rss: () => residentBytes(functions.pid),
            readState: {
              settleMs: DEFAULT_READ_WRITE_INTERVAL_MS + 1_500,
              // The marking user's `$reads` blob counts its writes in `version`.
              writesOfMarker: async () => {
                const blob = BlobServiceClient.fromConnectionString(azurite.connectionString)
                  .getContainerClient('chat-history')
                  .getBlockBlobClient(`${userFolderPrefix('user0')}${READS_BLOB}`);
                if (!(await blob.exists())) return 0;
                return parseReads((await blob.downloadToBuffer()).toString('utf8')).version;
              },
            },
            groups: true,
          },
          params,
          context.log,
          'ours',
        );
        context.log(`cost: ${params.attachments} attachments of ${params.attachmentBytes} B to the room`);
        attachments = await measureAttachments(
          functions.url,
          counter,
          params.attachments,
          params.attachmentBytes,
        );
        context.log(`  attachments: ${JSON.stringify(attachments)}`);
      } finally {
        await generator.request({ type: 'close' }, 'closed').catch(() => {});
        await service.stop();
        await functions.stop();
        await counter.close();
        await azurite.stop();
      }
      details.ours = ours;
      details.attachments = attachments;
      const { figures, targets, notes } = figuresFor(ours, baseline);
      figures.push(...attachmentFigures(attachments));
      return {
        id: this.id,
        title: this.title,
        baselineLabel: 'bare `ws` relay (one join notice / one copy per recipient)',
        status: 'ok',
        parameters: { ...params },
        figures,
        details,
        notes: [
          'Billed units: Azure SignalR bills outbound messages only, Pings excluded, each in 2 KiB units per recipient (ceil(bytes / 2048)); the client invocation of a sendMessage is inbound and not billed.',
          ...notes,
        ],
        targets,
      };
    } finally {
      await generator.stop();
    }
  },
};
