/**
 * Where the app's spans and metrics go (docs/observability.md), decided once per process from the app settings:
 *
 * - `APPLICATIONINSIGHTS_CONNECTION_STRING` set: Microsoft's Azure Monitor distribution
 *   (`@azure/monitor-opentelemetry`) exports them to Application Insights, keyless with
 *   `APPLICATIONINSIGHTS_AUTHENTICATION_STRING` (`Authorization=AAD[;ClientId=…]`, the setting the Functions host
 *   reads for its own telemetry);
 * - `OTEL_TRACES_EXPORTER=console`: each trace is printed as a tree (trace-console.ts), with or without Azure;
 * - neither: nothing is registered, the SDK is not even loaded, and the OpenTelemetry API stays a no-op.
 *
 * Under a Functions host the invocation carries the host's trace context; a pre-invocation hook makes it the
 * parent of the handler's spans, so the app's spans join the host's request in one trace. (That hook is what
 * `@azure/functions-opentelemetry-instrumentation` adds for traces; it is written here because that preview
 * package patches `@azure/functions` through a `require` hook, which this ES module app never goes through.)
 */

import { createRequire } from 'node:module';
import azureFunctions from '@azure/functions';
import { ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import type { MetricReader } from '@opentelemetry/sdk-metrics';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-node';
import { readSetting, SETTINGS } from '../lib/settings.js';

/** Where telemetry goes: nowhere, Application Insights, or only the processors a caller passed (tests). */
export type TelemetryMode = 'off' | 'azure-monitor' | 'local';

export interface TelemetryOptions {
  /**
   * Span processors and metric readers to export to, in place of Application Insights (tests pass in-memory
   * exporters; the console tree is added by the setting). With Application Insights they are added to it.
   */
  readonly spanProcessors?: readonly SpanProcessor[];
  readonly metricReaders?: readonly MetricReader[];
  /** Where the console trace tree is written (default `console.log`). */
  readonly write?: (line: string) => void;
}

export interface RunningTelemetry {
  readonly mode: TelemetryMode;
  /** Whether traces are printed to the console. */
  readonly console: boolean;
  /** Exports everything buffered. */
  flush(): Promise<void>;
  /** Exports what is buffered, stops, and unregisters the SDK (a later start registers again). */
  shutdown(): Promise<void>;
}

let started: Promise<RunningTelemetry> | undefined;

/**
 * Starts telemetry for this process from `env` (once: later calls return the first start). A setting that is
 * not understood is reported with `console.warn` and telemetry carries on without it: a typo in a telemetry
 * setting must not stop the chat.
 */
export function startTelemetry(
  env: NodeJS.ProcessEnv = process.env,
  options: TelemetryOptions = {},
): Promise<RunningTelemetry> {
  started ??= start(env, options).catch((error: unknown) => {
    console.warn(`Telemetry is off: it could not start (${(error as Error).message ?? error})`);
    return OFF;
  });
  return started;
}

const OFF: RunningTelemetry = {
  mode: 'off',
  console: false,
  flush: async () => {},
  shutdown: async () => {
    started = undefined;
  },
};

async function start(env: NodeJS.ProcessEnv, options: TelemetryOptions): Promise<RunningTelemetry> {
  const connectionString = readSetting('appInsightsConnectionString', env);
  const printTraces = consoleWanted(env);
  const spanProcessors = [...(options.spanProcessors ?? [])];
  const metricReaders = [...(options.metricReaders ?? [])];
  if (printTraces) {
    const [{ SimpleSpanProcessor }, { TraceTreeExporter }] = await Promise.all([
      import('@opentelemetry/sdk-trace-node'),
      import('./trace-console.js'),
    ]);
    spanProcessors.push(new SimpleSpanProcessor(new TraceTreeExporter(options.write)));
  }

  if (connectionString !== undefined) {
    const credential = credentialOf(readSetting('appInsightsAuthentication', env));
    const { useAzureMonitor, shutdownAzureMonitor, _getSdkInstance } = await import(
      '@azure/monitor-opentelemetry'
    );
    // The host records the request; the `upstream` span is the server span of an event. The worker's own HTTP
    // server (HTTP streams) would otherwise start a second trace per call. Outgoing calls (Blob, REST) are kept.
    const http = { enabled: true, ignoreIncomingRequestHook: () => true };
    useAzureMonitor({
      azureMonitorExporterOptions: { connectionString, ...(credential ? { credential } : {}) },
      spanProcessors,
      metricReaders,
      instrumentationOptions: { http },
    });
    joinHostTraces();
    return running(
      'azure-monitor',
      printTraces,
      async () => {
        const sdk = _getSdkInstance() as { forceFlush?: () => Promise<void> } | undefined;
        await sdk?.forceFlush?.();
      },
      shutdownAzureMonitor,
    );
  }

  if (spanProcessors.length === 0 && metricReaders.length === 0) return OFF;

  const [{ NodeTracerProvider }, { MeterProvider }] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/sdk-metrics'),
  ]);
  const tracerProvider = new NodeTracerProvider({ spanProcessors });
  // Registers the provider, the W3C propagator and an AsyncLocalStorage context manager (spans follow awaits).
  tracerProvider.register();
  const meterProvider = new MeterProvider({ readers: metricReaders });
  metrics.setGlobalMeterProvider(meterProvider);
  joinHostTraces();
  return running(
    'local',
    printTraces,
    async () => {
      await Promise.all([tracerProvider.forceFlush(), meterProvider.forceFlush()]);
    },
    async () => {
      await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
    },
  );
}

function running(
  mode: TelemetryMode,
  printTraces: boolean,
  flush: () => Promise<void>,
  stop: () => Promise<void>,
): RunningTelemetry {
  return {
    mode,
    console: printTraces,
    flush,
    async shutdown() {
      await stop();
      trace.disable();
      metrics.disable();
      propagation.disable();
      context.disable();
      started = undefined;
    },
  };
}

/** `OTEL_TRACES_EXPORTER`: `console` prints traces; `none` or unset does not; anything else is reported. */
function consoleWanted(env: NodeJS.ProcessEnv): boolean {
  const raw = readSetting('tracesExporter', env)?.toLowerCase();
  if (raw === undefined || raw === 'none') return false;
  if (raw === 'console') return true;
  console.warn(
    `${SETTINGS.tracesExporter.name}=${raw} is not supported here: use console (or none); traces go to Application Insights when ${SETTINGS.appInsightsConnectionString.name} is set`,
  );
  return false;
}

/**
 * The credential `APPLICATIONINSIGHTS_AUTHENTICATION_STRING` names: `Authorization=AAD` with the managed identity
 * of `ClientId` (user-assigned) or the system-assigned one. Unset: none (the connection string's key is used).
 *
 * @throws Error naming the setting when it is set but not of that form (the export would be refused anyway).
 */
export function credentialOf(authentication: string | undefined): TokenCredential | undefined {
  if (authentication === undefined) return undefined;
  const parts = new Map<string, string>();
  for (const part of authentication.split(';')) {
    const at = part.indexOf('=');
    if (part.trim() === '') continue;
    parts.set(part.slice(0, at).trim().toLowerCase(), at < 0 ? '' : part.slice(at + 1).trim());
  }
  if (parts.get('authorization')?.toUpperCase() !== 'AAD') {
    throw new Error(
      `${SETTINGS.appInsightsAuthentication.name} must be Authorization=AAD, optionally with ;ClientId=<managed identity client id>`,
    );
  }
  const clientId = parts.get('clientid');
  return clientId ? new ManagedIdentityCredential({ clientId }) : new ManagedIdentityCredential();
}

/**
 * Makes the Functions host's trace context (the invocation's `traceContext`) the parent of the handler's spans.
 * Without a host (the built-in host, tests) no invocation has one and nothing changes.
 */
function joinHostTraces(): void {
  if (!underFunctionsHost()) return;
  azureFunctions.app.hook.preInvocation((hook) => {
    const host = hook.invocationContext.traceContext;
    if (!host?.traceParent) return;
    const parent = propagation.extract(context.active(), {
      traceparent: host.traceParent,
      ...(host.traceState ? { tracestate: host.traceState } : {}),
    });
    hook.functionHandler = context.bind(parent, hook.functionHandler);
  });
}

/** Whether a Functions host runs this worker: it provides `@azure/functions-core` (else hooks only warn). */
function underFunctionsHost(): boolean {
  try {
    createRequire(import.meta.url)('@azure/functions-core');
    return true;
  } catch {
    return false;
  }
}
