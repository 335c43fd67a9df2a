/**
 * The chat's spans and metrics, named once (docs/observability.md). Domain code opens spans and records
 * measurements through the OpenTelemetry API only; which SDK (if any) receives them is decided by the Functions
 * layer at start-up (src/app/telemetry.ts). With no SDK registered every call here is the API's no-op: a span is
 * a non-recording placeholder and an instrument drops its values, so telemetry that is off costs the hot path a
 * few function calls per event.
 *
 * Attributes carry names of things (event kinds, dialects, error codes), never message text, user names,
 * tokens or keys.
 */
import {
  type Attributes,
  type Counter,
  type Histogram,
  type MeterProvider,
  metrics,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';

/** The instrumentation scope of every span and instrument of the app. */
export const INSTRUMENTATION_SCOPE = 'serverless-signalr-chat';

/** Span names. One trace per upstream event: `upstream` is its root (or the child of the host's invocation). */
export const SPANS = {
  /** The whole upstream call; renamed `upstream <event kind>` once the event is parsed. */
  upstream: 'upstream',
  /** Authentication (bearer token or signature), hub, size, body read and parse. */
  verify: 'upstream verify',
  /** Storing one chat message in Blob Storage (`appendBlock`, and its clientMessageId marker). */
  historyAppend: 'history append',
  /** One fan-out through the REST API of every configured dialect; named `fanout <operation>`. */
  fanout: 'fanout',
} as const;

/** Metric names (their units and attributes in {@link chatMetrics}). */
export const METRICS = {
  messages: 'chat.messages',
  deliveries: 'chat.deliveries',
  failures: 'chat.failures',
  upstreamDuration: 'chat.upstream.duration',
} as const;

/** Attribute names, shared by spans and metrics. */
export const ATTRIBUTES = {
  upstreamEvent: 'chat.upstream.event',
  command: 'chat.command',
  hub: 'signalr.hub',
  connectionId: 'signalr.connection_id',
  conversationKind: 'chat.conversation.kind',
  duplicate: 'chat.message.duplicate',
  operation: 'chat.fanout.operation',
  dialect: 'chat.dialect',
  dialects: 'chat.fanout.dialects',
  failedDialects: 'chat.fanout.failed_dialects',
  outcome: 'chat.outcome',
  stage: 'chat.failure.stage',
  errorType: 'error.type',
  status: 'http.response.status_code',
} as const;

/** Where a failure happened: the `chat.failure.stage` of {@link METRICS.failures}. */
export type FailureStage = 'verify' | 'handler' | 'append' | 'delivery';

let tracerOf: { provider: TracerProvider; tracer: Tracer } | undefined;

/**
 * The app's tracer from the provider registered now. A tracer keeps the provider it first found, so it is taken
 * again when the registered provider changes (telemetry stopped and started again in one process).
 */
function tracer(): Tracer {
  const provider = trace.getTracerProvider();
  if (tracerOf?.provider !== provider)
    tracerOf = { provider, tracer: provider.getTracer(INSTRUMENTATION_SCOPE) };
  return tracerOf.tracer;
}

/**
 * Runs `work` inside a new active span (its child spans and the REST and Blob calls under it join the trace) and
 * ends the span when `work` settles. A throw marks the span failed with the error's type, then propagates.
 */
export function inSpan<T>(
  name: string,
  attributes: Attributes,
  work: (span: Span) => Promise<T>,
  kind: SpanKind = SpanKind.INTERNAL,
): Promise<T> {
  return tracer().startActiveSpan(name, { kind, attributes }, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      markFailed(span, errorType(error));
      throw error;
    } finally {
      span.end();
    }
  });
}

export { SpanKind };

/**
 * Marks a span failed with a bounded error type (a catalogued code or a class name). Error messages stay out of
 * spans: a parse error or a REST error can quote the request it failed on, message text included.
 */
export function markFailed(span: Span, type: string): void {
  span.setAttribute(ATTRIBUTES.errorType, type);
  span.setStatus({ code: SpanStatusCode.ERROR, message: type });
}

/** Adds attributes to the active span (the current upstream call's, inside a handler); no-op without one. */
export function annotateActiveSpan(attributes: Attributes): void {
  trace.getActiveSpan()?.setAttributes(attributes);
}

/** Marks the active span (the current upstream call's, inside the dispatcher) failed; no-op without one. */
export function failActiveSpan(type: string): void {
  const span = trace.getActiveSpan();
  if (span !== undefined) markFailed(span, type);
}

/** A short, bounded name for an error: its `code` when it has a string one, else its class name. */
export function errorType(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && /^[\w.-]{1,64}$/.test(code)) return code;
    if (error instanceof Error) return error.name;
  }
  return typeof error;
}

/** The app's instruments. */
export interface ChatMetrics {
  /** Chat messages stored ({message}); attributes: conversation kind, whether it repeated a clientMessageId. */
  readonly messages: Counter;
  /** Fan-out REST calls per dialect ({call}); attributes: operation, dialect, outcome (`ok` or `failed`). */
  readonly deliveries: Counter;
  /** Failures ({failure}); attributes: stage, error type. */
  readonly failures: Counter;
  /** Upstream calls from arrival to answer (ms); attributes: event kind, response status. */
  readonly upstreamDuration: Histogram;
}

let instruments: { provider: MeterProvider; value: ChatMetrics } | undefined;

/**
 * The instruments of the meter provider registered now. An instrument taken from the API before any provider is
 * registered stays a no-op for good, so they are made again when the registered provider changes (a lookup per
 * call, nothing more, once it is set).
 */
export function chatMetrics(): ChatMetrics {
  const provider = metrics.getMeterProvider();
  if (instruments?.provider === provider) return instruments.value;
  const meter = provider.getMeter(INSTRUMENTATION_SCOPE);
  const value: ChatMetrics = {
    messages: meter.createCounter(METRICS.messages, {
      unit: '{message}',
      description: 'Chat messages stored',
    }),
    deliveries: meter.createCounter(METRICS.deliveries, {
      unit: '{call}',
      description: 'Fan-out calls to the REST API of a dialect, by outcome',
    }),
    failures: meter.createCounter(METRICS.failures, {
      unit: '{failure}',
      description: 'Rejected upstream calls, failed handlers, failed history appends and failed deliveries',
    }),
    upstreamDuration: meter.createHistogram(METRICS.upstreamDuration, {
      unit: 'ms',
      description: 'Upstream calls from arrival to answer',
    }),
  };
  instruments = { provider, value };
  return value;
}

/** Counts one failure at `stage`. */
export function countFailure(stage: FailureStage, type: string): void {
  chatMetrics().failures.add(1, { [ATTRIBUTES.stage]: stage, [ATTRIBUTES.errorType]: type });
}
