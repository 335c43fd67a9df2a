/**
 * Scenario 5, history: the time to read the latest 50 messages of a conversation holding 1 000, 10 000 and
 * 100 000 messages (it should stay flat: the store reads the tail with ranged downloads), and append
 * throughput, against Azurite in memory. Conversations are filled fast by writing the store's own format
 * directly (append blob segments of JSON lines, rolled every 49 000 messages like the store does), many
 * lines per block. Baselines: one raw ranged download of the newest segment's last 64 KiB (the least a tail
 * read can do), and raw `appendBlock` calls of the same lines at the same concurrency.
 */
import {
  createHistoryStore,
  DEFAULT_READ_CHUNK_BYTES,
  DEFAULT_SEGMENT_BLOCK_LIMIT,
  type HistoryStore,
  newMessageId,
  segmentBlobName,
} from '../../src/lib/history/index.js';
import type { Figure, ScenarioResult } from '../report.js';
import type { BenchContext, Scenario } from '../scenario.js';
import { startAzurite } from '../stack.js';
import { Histogram, type LatencySummary, monotonicMicros } from '../stats.js';

/** Full-run defaults. */
export const FULL = {
  sizes: [1_000, 10_000, 100_000],
  reads: 100,
  pageSize: 50,
  appendConcurrency: 16,
  appendMs: 5_000,
  textBytes: 100,
};
export const QUICK = {
  sizes: [1_000, 10_000],
  reads: 10,
  pageSize: 50,
  appendConcurrency: 8,
  appendMs: 1_000,
  textBytes: 100,
};

/** Lines per append block while filling (about 1.5 MiB, under the 4 MiB block limit). */
const FILL_LINES_PER_BLOCK = 10_000;

function line(conversation: string, index: number, textBytes: number): string {
  const { id, sentAt } = newMessageId();
  const text = `message ${index} `.padEnd(textBytes, 'x');
  return `${JSON.stringify({ id, conversation, from: `user${index % 50}`, text, sentAt })}\n`;
}

/** Writes `count` messages in the store's layout, segment by segment, many lines per block. */
async function fill(
  store: HistoryStore,
  conversation: string,
  count: number,
  textBytes: number,
): Promise<void> {
  await store.containerClient.createIfNotExists();
  for (let segment = 1, written = 0; written < count; segment++) {
    const blob = store.containerClient.getAppendBlobClient(segmentBlobName(conversation, segment));
    await blob.create({ blobHTTPHeaders: { blobContentType: 'application/x-ndjson; charset=utf-8' } });
    const inSegment = Math.min(DEFAULT_SEGMENT_BLOCK_LIMIT, count - written);
    for (let done = 0; done < inSegment; ) {
      const lines = Math.min(FILL_LINES_PER_BLOCK, inSegment - done);
      const block = Buffer.from(
        Array.from({ length: lines }, (_, i) => line(conversation, written + done + i, textBytes)).join(''),
      );
      await blob.appendBlock(block, block.length);
      done += lines;
    }
    written += inSegment;
  }
}

async function timeIt(times: number, operation: () => Promise<void>): Promise<LatencySummary> {
  const histogram = new Histogram();
  for (let i = 0; i < times; i++) {
    const start = monotonicMicros();
    await operation();
    histogram.record(monotonicMicros() - start);
  }
  return histogram.summary();
}

/** Runs `operation` from `concurrency` workers for `durationMs`; returns operations per second. */
async function throughput(concurrency: number, durationMs: number, operation: (n: number) => Promise<void>) {
  let done = 0;
  const start = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() - start < durationMs) await operation(done++);
    }),
  );
  return (done * 1000) / (Date.now() - start);
}

export const history: Scenario = {
  id: 'history',
  title: 'History: latest-50 read time by history length, and append throughput (Azurite)',
  async run(context: BenchContext): Promise<ScenarioResult> {
    const params = context.quick ? QUICK : FULL;
    const azurite = await startAzurite();
    const figures: Figure[] = [];
    const notes: string[] = [];
    const details: Record<string, unknown> = {};
    try {
      const store = createHistoryStore({ storage: azurite.connectionString, container: 'bench-history' });
      const reads: Record<number, LatencySummary> = {};
      for (const size of params.sizes) {
        const conversation = `group:bench ${size}`;
        const fillStart = Date.now();
        await fill(store, conversation, size, params.textBytes);
        context.log(`history: filled ${size} messages in ${Date.now() - fillStart} ms`);
        const check = await store.read(conversation, { limit: params.pageSize });
        if (check.messages.length !== params.pageSize || !check.hasMore)
          throw new Error(
            `read of ${size} returned ${check.messages.length} messages (hasMore ${check.hasMore})`,
          );
        const ours = await timeIt(params.reads, async () => {
          await store.read(conversation, { limit: params.pageSize });
        });
        const newest = store.containerClient.getBlobClient(
          segmentBlobName(conversation, Math.ceil(size / DEFAULT_SEGMENT_BLOCK_LIMIT)),
        );
        const length = (await newest.getProperties()).contentLength ?? 0;
        const raw = await timeIt(params.reads, async () => {
          const start = Math.max(0, length - DEFAULT_READ_CHUNK_BYTES);
          await newest.downloadToBuffer(start, length - start);
        });
        reads[size] = ours;
        details[`read-${size}`] = { ours, rawRangedDownload: raw };
        figures.push({
          name: `read latest ${params.pageSize} of ${size.toLocaleString('en-US')} (p50)`,
          unit: 'ms',
          ours: ours.p50Ms,
          baseline: raw.p50Ms,
          better: 'lower',
          note: 'baseline: one raw 64 KiB ranged download',
        });
        figures.push({
          name: `read latest ${params.pageSize} of ${size.toLocaleString('en-US')} (p99)`,
          unit: 'ms',
          ours: ours.p99Ms,
          baseline: raw.p99Ms,
          better: 'lower',
        });
      }
      const smallest = params.sizes[0] as number;
      const largest = params.sizes[params.sizes.length - 1] as number;
      figures.push({
        name: `flatness: read p50 at ${largest.toLocaleString('en-US')} stored vs at ${smallest.toLocaleString('en-US')}`,
        unit: 'ms',
        ours: reads[largest]?.p50Ms ?? Number.NaN,
        baseline: reads[smallest]?.p50Ms ?? Number.NaN,
        better: 'lower',
        note: 'ratio 1 = flat',
      });

      context.log(`history: append throughput, ${params.appendConcurrency} concurrent`);
      const appendStore = createHistoryStore({
        storage: azurite.connectionString,
        container: 'bench-history',
      });
      await appendStore.append({ conversation: 'room', from: 'warmup', text: 'warm up' });
      // The raw baseline runs first, so whatever the later phases leave in Azurite (in memory) cannot favour it.
      const rawBlob = appendStore.containerClient.getAppendBlobClient(segmentBlobName('group:bench raw', 1));
      await rawBlob.create();
      const raw = await throughput(params.appendConcurrency, params.appendMs, async (n) => {
        const data = Buffer.from(line('group:bench raw', n, params.textBytes));
        await rawBlob.appendBlock(data, data.length);
      });
      const ours = await throughput(params.appendConcurrency, params.appendMs, async (n) => {
        await appendStore.append({
          conversation: 'room',
          from: `user${n % 50}`,
          text: `message ${n} `.padEnd(params.textBytes, 'x'),
        });
      });
      const withIds = await throughput(params.appendConcurrency, params.appendMs, async (n) => {
        await appendStore.append({
          conversation: 'room',
          from: `user${n % 50}`,
          text: `message ${n} `.padEnd(params.textBytes, 'x'),
          clientMessageId: `bench-${n}`,
        });
      });
      details.append = { ours, withClientMessageId: withIds, rawAppendBlock: raw };
      figures.push(
        {
          name: 'append throughput',
          unit: 'msg/s',
          ours,
          baseline: raw,
          better: 'higher',
          note: 'baseline: raw appendBlock',
        },
        {
          name: 'append throughput with clientMessageId (exactly-once check)',
          unit: 'msg/s',
          ours: withIds,
          baseline: raw,
          better: 'higher',
        },
      );
      notes.push(
        'read baseline = one raw ranged download of the newest segment’s last 64 KiB; the store also lists the conversation’s segments before reading',
      );
    } finally {
      await azurite.stop();
    }
    return {
      id: this.id,
      title: this.title,
      baselineLabel: 'raw Blob SDK calls',
      status: 'ok',
      parameters: { ...params },
      figures,
      details,
      notes,
    };
  },
};
