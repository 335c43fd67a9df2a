/**
 * The app's traces and metrics over the whole local stack (docs/observability.md): telemetry is started as the
 * app starts it, with in-memory exporters in place of Application Insights, and real chat clients of both
 * dialects send messages through the local service to the built-in Functions host.
 */
import {
  AggregationTemporality,
  type DataPoint,
  type Histogram,
  InMemoryMetricExporter,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type RunningTelemetry, startTelemetry } from '../../src/app/telemetry.js';
import { ATTRIBUTES, METRICS, SPANS } from '../../src/lib/observability.js';
import { DEV_ACCESS_KEY } from '../../src/local/dev-constants.js';
import type { ChatDialect } from '../support/chat-clients.js';
import { useChatStack } from '../support/fixtures.js';

const spans = new InMemorySpanExporter();
const reader = new PeriodicExportingMetricReader({
  exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
  // Read by collect() in the tests, never on a timer.
  exportIntervalMillis: 3_600_000,
});
let telemetry: RunningTelemetry | undefined;

// Registered before the stack's hooks: the SDK is in place before the first upstream call.
beforeAll(async () => {
  telemetry = await startTelemetry(
    {},
    { spanProcessors: [new SimpleSpanProcessor(spans)], metricReaders: [reader] },
  );
});
afterAll(async () => {
  await telemetry?.shutdown();
});

const chat = useChatStack();

beforeEach(() => spans.reset());

/** The finished spans of the trace whose root is the upstream call that ran `command`, once that root ended. */
async function traceOf(
  command: string,
  event: string,
): Promise<{ root: ReadableSpan; trace: ReadableSpan[] }> {
  const root = await vi.waitFor(
    () => {
      const found = spans
        .getFinishedSpans()
        .find((s) => s.name === `${SPANS.upstream} ${event}` && s.attributes[ATTRIBUTES.command] === command);
      if (!found) throw new Error(`no finished "${SPANS.upstream} ${event}" span of ${command} yet`);
      return found;
    },
    { timeout: 10_000 },
  );
  const traceId = root.spanContext().traceId;
  return { root, trace: spans.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId) };
}

const EVENT_OF: Record<ChatDialect, string> = { signalr: 'invocation', webpubsub: 'message' };
/** The answer to a sendMessage: a Completion-less invocation gets an empty 200, a frame-less message a 204. */
const STATUS_OF: Record<ChatDialect, number> = { signalr: 200, webpubsub: 204 };

describe('traces', () => {
  for (const dialect of ['signalr', 'webpubsub'] as const) {
    it(`one chat message over ${dialect} is one trace: the upstream call with verification, the Blob append and the fan-out under it`, async () => {
      const ann = await chat.connect(`ann-${dialect}`, dialect);
      const bob = await chat.connect(`bob-${dialect}`, dialect === 'signalr' ? 'webpubsub' : 'signalr');
      spans.reset();
      const text = `the text of a ${dialect} message`;
      await ann.send('sendMessage', { text, clientMessageId: `m-${dialect}` });
      await bob.waitFor((e) => e.type === 'message' && e.payload.text === text);

      const { root, trace } = await traceOf('sendMessage', EVENT_OF[dialect]);
      // The built-in host has no trace context of its own: the upstream call is the root.
      expect(root.parentSpanContext).toBeUndefined();
      expect(root.attributes).toMatchObject({
        [ATTRIBUTES.upstreamEvent]: EVENT_OF[dialect],
        [ATTRIBUTES.hub]: 'chat',
        [ATTRIBUTES.status]: STATUS_OF[dialect],
      });
      // Exactly one upstream call in the trace, and every other span of it directly under that call.
      expect(
        trace.filter((s) => s.name.startsWith(`${SPANS.upstream} `) && s !== root).map((s) => s.name),
      ).toEqual([SPANS.verify]);
      const children = trace.filter((s) => s !== root);
      for (const span of children)
        expect(span.parentSpanContext?.spanId, span.name).toBe(root.spanContext().spanId);
      expect(children.map((s) => s.name).sort()).toEqual(
        [SPANS.verify, SPANS.historyAppend, `${SPANS.fanout} sendToAll`].sort(),
      );
      const byName = new Map(children.map((s) => [s.name, s]));
      expect(byName.get(SPANS.historyAppend)?.attributes).toMatchObject({
        [ATTRIBUTES.conversationKind]: 'room',
        [ATTRIBUTES.duplicate]: false,
      });
      expect(byName.get(`${SPANS.fanout} sendToAll`)?.attributes).toMatchObject({
        [ATTRIBUTES.operation]: 'sendToAll',
        [ATTRIBUTES.dialects]: ['signalr', 'websocket'],
      });
      // In order: verified, then stored, then delivered.
      const start = (name: string) => byName.get(name)?.startTime ?? [0, 0];
      const startsFirst = (a: readonly [number, number], b: readonly [number, number]) =>
        a[0] < b[0] || (a[0] === b[0] && a[1] <= b[1]);
      expect(startsFirst(start(SPANS.verify), start(SPANS.historyAppend))).toBe(true);
      expect(startsFirst(start(SPANS.historyAppend), start(`${SPANS.fanout} sendToAll`))).toBe(true);

      // Nothing of the message, the user names or the keys in any span of any trace.
      const everything = JSON.stringify(
        spans.getFinishedSpans().map((s) => [s.name, s.attributes, s.status]),
      );
      expect(everything).not.toContain(text);
      expect(everything).not.toContain(`ann-${dialect}`);
      expect(everything).not.toContain(DEV_ACCESS_KEY);
    });
  }

  it('a forged upstream call leaves a failed trace with the code of its rejection', async () => {
    const response = await fetch(`${chat.stack.functionsUrl}/api/messages?event=message`, {
      method: 'POST',
      headers: {
        'x-asrs-hub': 'chat',
        'x-asrs-category': 'messages',
        'x-asrs-event': 'message',
        'x-asrs-connection-id': 'forged-conn',
        'x-asrs-user-id': 'ann',
        'x-asrs-signature': 'sha256=AAAA',
        'content-type': 'text/plain',
      },
      body: JSON.stringify({ type: 'sendMessage', text: 'forged' }),
    });
    expect(response.status).toBe(401);
    const root = await vi.waitFor(() => {
      const found = spans.getFinishedSpans().find((s) => s.name === SPANS.upstream);
      if (!found) throw new Error('no finished upstream span yet');
      return found;
    });
    const trace = spans
      .getFinishedSpans()
      .filter((s) => s.spanContext().traceId === root.spanContext().traceId);
    expect(trace.map((s) => s.name).sort()).toEqual([SPANS.upstream, SPANS.verify]);
    const code = root.attributes[ATTRIBUTES.errorType];
    expect(code).toMatch(/^[a-z-]+$/);
    expect(root.attributes[ATTRIBUTES.status]).toBe(401);
    expect(root.status).toEqual({ code: 2, message: code });
    expect(trace.find((s) => s.name === SPANS.verify)?.attributes[ATTRIBUTES.errorType]).toBe(code);
  });
});

describe('metrics', () => {
  it('counts stored messages, deliveries, failures and the latency of upstream calls', async () => {
    const ann = await chat.connect('ann-metrics', 'signalr');
    await ann.send('sendMessage', { text: 'counted' });
    await ann.waitFor((e) => e.type === 'message' && e.payload.text === 'counted');
    await traceOf('sendMessage', 'invocation');

    const { resourceMetrics } = await reader.collect();
    const all = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
    const points = (name: string) => all.find((m) => m.descriptor.name === name)?.dataPoints ?? [];
    const sum = (name: string, match: Record<string, unknown>) =>
      (points(name) as DataPoint<number>[])
        .filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v))
        .reduce((total, p) => total + p.value, 0);

    // Every message sent in this file so far (one per dialect test and this one), all in the room.
    expect(sum(METRICS.messages, { [ATTRIBUTES.conversationKind]: 'room' })).toBe(3);
    expect(
      sum(METRICS.deliveries, {
        [ATTRIBUTES.operation]: 'sendToAll',
        [ATTRIBUTES.dialect]: 'websocket',
        [ATTRIBUTES.outcome]: 'ok',
      }),
    ).toBeGreaterThanOrEqual(3);
    expect(sum(METRICS.deliveries, { [ATTRIBUTES.outcome]: 'failed' })).toBe(0);
    // The forged call above.
    expect(sum(METRICS.failures, { [ATTRIBUTES.stage]: 'verify' })).toBe(1);
    const invocations = (points(METRICS.upstreamDuration) as DataPoint<Histogram>[]).filter(
      (p) =>
        p.attributes[ATTRIBUTES.upstreamEvent] === 'invocation' && p.attributes[ATTRIBUTES.status] === 200,
    );
    expect(invocations.reduce((n, p) => n + p.value.count, 0)).toBeGreaterThanOrEqual(2);
  });
});
