import { ManagedIdentityCredential } from '@azure/identity';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { credentialOf, startTelemetry } from '../../src/app/telemetry.js';
import { TraceTreeExporter } from '../../src/app/trace-console.js';
import { ATTRIBUTES, chatMetrics, inSpan } from '../../src/lib/observability.js';

afterEach(() => vi.restoreAllMocks());

describe('startTelemetry', () => {
  it('registers nothing without a connection string or OTEL_TRACES_EXPORTER: spans do not record', async () => {
    const running = await startTelemetry({});
    expect(running).toMatchObject({ mode: 'off', console: false });
    let recording: boolean | undefined;
    await inSpan('upstream', {}, async (span) => {
      recording = span.isRecording();
    });
    expect(recording).toBe(false);
    // Instruments exist and take values, which go nowhere.
    expect(() => chatMetrics().messages.add(1)).not.toThrow();
    await running.shutdown();
  });

  it('reports an exporter it does not offer, names the choices, and stays off', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const running = await startTelemetry({ OTEL_TRACES_EXPORTER: 'otlp' });
    expect(running.mode).toBe('off');
    expect(warn.mock.calls.flat().join('\n')).toMatch(
      /OTEL_TRACES_EXPORTER=otlp is not supported here: use console/,
    );
    await running.shutdown();
  });

  it('prints traces with OTEL_TRACES_EXPORTER=console, and unregisters on shutdown', async () => {
    const lines: string[] = [];
    const running = await startTelemetry(
      { OTEL_TRACES_EXPORTER: 'Console' },
      { write: (l) => lines.push(l) },
    );
    expect(running).toMatchObject({ mode: 'local', console: true });
    await inSpan('upstream message', { [ATTRIBUTES.status]: 204 }, () =>
      inSpan('history append', { [ATTRIBUTES.conversationKind]: 'room' }, async () => undefined),
    );
    expect(lines.map((l) => l.replace(/^\[trace \w{8}\]/, '[trace]').replace(/ [\d.]+ ms/, ' <ms>'))).toEqual(
      ['[trace] upstream message 204 <ms>', '[trace]   history append <ms> chat.conversation.kind=room'],
    );
    await running.shutdown();
    await inSpan('after', {}, async (span) => expect(span.isRecording()).toBe(false));
  });
});

describe('credentialOf (APPLICATIONINSIGHTS_AUTHENTICATION_STRING)', () => {
  it('is none when unset, a managed identity for Authorization=AAD in either order, with or without ClientId', () => {
    expect(credentialOf(undefined)).toBeUndefined();
    expect(credentialOf('Authorization=AAD')).toBeInstanceOf(ManagedIdentityCredential);
    expect(credentialOf('ClientId=00000000-0000-0000-0000-000000000001;Authorization=AAD')).toBeInstanceOf(
      ManagedIdentityCredential,
    );
    expect(credentialOf(' authorization=aad ; clientid=abc ;')).toBeInstanceOf(ManagedIdentityCredential);
  });

  it('refuses any other form with the setting name and the expected form', () => {
    for (const bad of ['Authorization=Key', 'ClientId=abc', 'AAD']) {
      expect(() => credentialOf(bad)).toThrow(
        'APPLICATIONINSIGHTS_AUTHENTICATION_STRING must be Authorization=AAD, optionally with ;ClientId=<managed identity client id>',
      );
    }
  });
});

describe('TraceTreeExporter', () => {
  function tracerPrintingTo(lines: string[]) {
    const provider = new NodeTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(new TraceTreeExporter((l) => lines.push(l)))],
    });
    return provider.getTracer('test');
  }
  const shape = (lines: string[]) =>
    lines.map((l) => l.replace(/^\[trace (\w{8})\]/, '[$1]').replace(/ [\d.]+ ms/, ' <ms>'));

  it('prints a trace once its root ends, children under their parents in start order, failures marked', () => {
    const lines: string[] = [];
    const tracer = tracerPrintingTo(lines);
    const root = tracer.startSpan('upstream invocation', {
      kind: SpanKind.SERVER,
      attributes: { [ATTRIBUTES.status]: 200 },
    });
    const inRoot = trace.setSpan(context.active(), root);
    const verify = tracer.startSpan('upstream verify', {}, inRoot);
    verify.end();
    const fanout = tracer.startSpan(
      'fanout sendToAll',
      { attributes: { [ATTRIBUTES.dialects]: ['signalr', 'websocket'] } },
      inRoot,
    );
    const rest = tracer.startSpan('POST', {}, trace.setSpan(context.active(), fanout));
    rest.setStatus({ code: 2 });
    rest.end();
    fanout.setAttribute(ATTRIBUTES.errorType, 'delivery-failed');
    fanout.end();
    expect(lines).toEqual([]);
    root.end();
    const id = root.spanContext().traceId.slice(0, 8);
    expect(shape(lines)).toEqual([
      `[${id}] upstream invocation 200 <ms>`,
      `[${id}]   upstream verify <ms>`,
      `[${id}]   fanout sendToAll <ms> chat.fanout.dialects=signalr,websocket error.type=delivery-failed`,
      `[${id}]     POST <ms> failed`,
    ]);
  });

  it('takes a span whose parent is remote (the Functions host invocation) as the root of what it prints', () => {
    const lines: string[] = [];
    const tracer = tracerPrintingTo(lines);
    const host = trace.setSpanContext(context.active(), {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: 1,
      isRemote: true,
    });
    const span = tracer.startSpan('upstream connected', {}, host);
    span.end();
    expect(shape(lines)).toEqual(['[0af76519] upstream connected <ms>']);
  });
});
