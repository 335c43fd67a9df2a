/**
 * `OTEL_TRACES_EXPORTER=console`: each trace printed as a small tree when its local root span ends, instead of
 * the SDK's console exporter (one multi-line object per span, children before parents). For reading traces on a
 * laptop without Azure (docs/observability.md):
 *
 * ```
 * [trace 4bf92f35] upstream invocation 200 12.4 ms
 * [trace 4bf92f35]   upstream verify 0.3 ms
 * [trace 4bf92f35]   history append 7.9 ms chat.conversation.kind=room
 * [trace 4bf92f35]   fanout sendToAll 3.1 ms chat.fanout.dialects=signalr,websocket
 * ```
 */
import { SpanStatusCode } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode, hrTimeToMilliseconds } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-node';
import { ATTRIBUTES } from '../lib/observability.js';

/** Traces whose root has not ended yet, at most; the oldest is printed as it stands when more arrive. */
export const MAX_OPEN_TRACES = 1_000;

/** Attributes worth a place on a line (the rest is in the span, for an exporter that shows everything). */
const SHOWN: readonly string[] = [
  ATTRIBUTES.conversationKind,
  ATTRIBUTES.command,
  ATTRIBUTES.dialects,
  ATTRIBUTES.failedDialects,
  ATTRIBUTES.duplicate,
  ATTRIBUTES.errorType,
];

export class TraceTreeExporter implements SpanExporter {
  /** Ended spans by trace id, until the trace's local root ends. */
  readonly #open = new Map<string, ReadableSpan[]>();
  readonly #write: (line: string) => void;

  constructor(write: (line: string) => void = (line) => console.log(line)) {
    this.#write = write;
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    for (const span of spans) {
      const { traceId } = span.spanContext();
      const ended = this.#open.get(traceId) ?? [];
      ended.push(span);
      this.#open.delete(traceId);
      if (isLocalRoot(span)) {
        this.#print(ended);
        continue;
      }
      this.#open.set(traceId, ended);
      if (this.#open.size > MAX_OPEN_TRACES) {
        const [oldest] = this.#open;
        if (oldest) {
          this.#open.delete(oldest[0]);
          this.#print(oldest[1]);
        }
      }
    }
    done({ code: ExportResultCode.SUCCESS });
  }

  async shutdown(): Promise<void> {
    for (const spans of this.#open.values()) this.#print(spans);
    this.#open.clear();
  }

  async forceFlush(): Promise<void> {}

  /** Prints a trace's spans as a tree, each child under its parent in start order. */
  #print(spans: readonly ReadableSpan[]): void {
    const ids = new Set(spans.map((s) => s.spanContext().spanId));
    const children = new Map<string | undefined, ReadableSpan[]>();
    for (const span of spans) {
      const parent = span.parentSpanContext?.spanId;
      const key = parent !== undefined && ids.has(parent) ? parent : undefined;
      children.set(key, [...(children.get(key) ?? []), span]);
    }
    const prefix = `[trace ${spans[0]?.spanContext().traceId.slice(0, 8)}]`;
    const walk = (parent: string | undefined, depth: number) => {
      const level = (children.get(parent) ?? []).sort((a, b) => compareTime(a.startTime, b.startTime));
      for (const span of level) {
        this.#write(`${prefix} ${'  '.repeat(depth)}${describe(span)}`);
        walk(span.spanContext().spanId, depth + 1);
      }
    };
    walk(undefined, 0);
  }
}

/** A span with no parent, or whose parent lives in another process (the Functions host's invocation). */
function isLocalRoot(span: ReadableSpan): boolean {
  return span.parentSpanContext === undefined || span.parentSpanContext.isRemote === true;
}

function describe(span: ReadableSpan): string {
  const status = span.attributes[ATTRIBUTES.status];
  const parts = [span.name];
  if (status !== undefined) parts.push(String(status));
  parts.push(`${hrTimeToMilliseconds(span.duration).toFixed(1)} ms`);
  for (const name of SHOWN) {
    const value = span.attributes[name];
    if (value !== undefined) parts.push(`${name}=${Array.isArray(value) ? value.join(',') : String(value)}`);
  }
  if (span.status.code === SpanStatusCode.ERROR && span.attributes[ATTRIBUTES.errorType] === undefined)
    parts.push('failed');
  return parts.join(' ');
}

function compareTime(a: readonly [number, number], b: readonly [number, number]): number {
  return a[0] - b[0] || a[1] - b[1];
}
