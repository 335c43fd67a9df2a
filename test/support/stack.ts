/**
 * The whole local chat stack in one call, for integration tests, browser tests and benchmarks: a real Azurite
 * (its own process, in memory), the local service (in process, SignalR and Web PubSub as npm start has them) with
 * its upstream and event handlers pointed at the built-in Functions host (in process), which serves the app's
 * route table.
 *
 * Ports are chosen by the OS (port 0). The Functions host starts first, so the service's upstream template can
 * name its port; the service's connection string is then put into the environment the chat reads per request.
 * `restartFunctions()` and `restartService()` bring each back on its previous port, so the other side's
 * configuration stays valid, as after a real restart.
 *
 * `identity: true` runs the keyless mode: the local identity endpoint stands in for the managed identity (one per
 * test process, see {@link sharedIdentityEndpoint}), the app reaches the service through `@azure/identity`'s
 * real `ManagedIdentityCredential`, and the service sends Entra bearer tokens upstream.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { resetChatServices } from '../../src/app/services.js';
import { type RunningAzurite, startAzurite } from '../../src/local/azurite.js';
import { allowPageOrigins } from '../../src/local/blob-cors.js';
import { devSignalRConnectionString, devWebPubSubConnectionString } from '../../src/local/dev-constants.js';
import { startFrontEnd } from '../../src/local/functions-host/front-end.js';
import { type RunningFunctionsHost, startFunctionsHost } from '../../src/local/functions-host/host.js';
import { type RunningInstances, startInstances } from '../../src/local/functions-host/instances.js';
import { type RunningIdentityEndpoint, startIdentityEndpoint } from '../../src/local/identity/index.js';
import {
  identityAppSettings,
  identityConnectionString,
  identityServiceOptions,
} from '../../src/local/identity-wiring.js';
import { type RunningService, startService } from '../../src/local/service/index.js';
import type { SocketLimits } from '../../src/local/socket-guard.js';
import { compiledCommand } from './compiled.js';

let sharedIdentity: Promise<RunningIdentityEndpoint> | undefined;

/**
 * The identity endpoint of this test process, started once and kept: `@azure/msal-node` picks its managed
 * identity source (endpoint and header) once per process and caches tokens for their lifetime, as on a real
 * App Service worker, so a second endpoint (with other keys) would not be used.
 */
export function sharedIdentityEndpoint(): Promise<RunningIdentityEndpoint> {
  sharedIdentity ??= startIdentityEndpoint();
  return sharedIdentity;
}

export interface StackOptions {
  /** Appends per history segment before rolling (`CHAT_HISTORY_SEGMENT_BLOCK_LIMIT`); default the store's. */
  segmentBlockLimit?: number;
  /** More app settings for the Functions host (they win over local.settings.json). */
  env?: Record<string, string>;
  /** Print the host's and the service's log lines (default: keep them in `logs` only). */
  verbose?: boolean;
  /**
   * Keep Azurite's data in this folder instead of in memory, so `restartBlob()` finds it again. Default: in
   * memory (a restart would start empty).
   */
  blobLocation?: string;
  /**
   * How long a stopping Functions host lets invocations in flight finish; 0 cuts them at once, as a killed
   * host would (the host's default is graceful).
   */
  functionsShutdownGraceMs?: number;
  /** The one in-process Functions host's TCP connection bounds (default the host's). */
  functionsSocketLimits?: Partial<SocketLimits>;
  /**
   * Puts something between the service and the app (a test's proxy): given the origin of the Functions host (or
   * of the front end of several), resolves to the origin the service's upstream and event handlers call instead.
   */
  upstreamVia?: (functionsOrigin: string) => Promise<string>;
  /** Extra options for the local service (`upstream`, `port` and `log` are set by the stack). */
  serviceOptions?: Omit<Parameters<typeof startService>[0] & object, 'upstream' | 'port' | 'log'>;
  /** Keyless mode (SIGNALR_AUTH=identity): managed identity, Entra-only service, bearer-token upstream. */
  identity?: boolean;
  /**
   * Web PubSub as npm start has it (REALTIME_SERVICE=webpubsub, CHAT_DIALECTS=signalr,websocket): the app's Web
   * PubSub connection string points at the local service, whose Web PubSub wing calls the app's `/api/messages`
   * for every hub and event. Default: on, except in identity mode (as npm start: keyless Web PubSub needs https)
   * and with more than one instance; off, the chat is SignalR's alone.
   */
  webPubSub?: boolean;
  /**
   * Function instances: above 1, each is a built-in host in a process of its own (compiled from `dist/`), behind
   * the round-robin front end that the service's upstream and `functionsUrl` name. Default 1, in process.
   */
  instances?: number;
}

export interface RunningStack {
  /** e.g. `http://127.0.0.1:53011/api/home` (add `?name=ann`). */
  readonly homeUrl: string;
  /** The Functions host, e.g. `http://127.0.0.1:53011` (routes are under `/api`). */
  readonly functionsUrl: string;
  /** The local SignalR service, e.g. `http://127.0.0.1:53012`. */
  readonly serviceUrl: string;
  readonly blob: RunningAzurite;
  /** The app settings the Functions host runs with. */
  readonly env: Readonly<Record<string, string>>;
  /** Identity mode: the local identity endpoint (tests mint tokens with it). */
  readonly identity: RunningIdentityEndpoint | undefined;
  /** Log lines of the host and the service, in order. */
  readonly logs: string[];
  /**
   * Stops the Functions host and starts a fresh one on the same port, with no cached clients, after `downMs`
   * (default 0) without one.
   */
  restartFunctions(downMs?: number): Promise<void>;
  /**
   * Stops the service (clients are closed, their disconnects delivered) and starts a fresh one on the same
   * port after `downMs` (default 0).
   */
  restartService(downMs?: number): Promise<void>;
  /** Stops Azurite gracefully and starts it again on the same port (give `blobLocation` to keep the data). */
  restartBlob(downMs?: number): Promise<void>;
  /**
   * Stops the Functions host (upstream calls fail until `startFunctions`): what the service sends meanwhile,
   * such as a disconnect, never reaches the app, as when an instance dies.
   */
  stopFunctions(): Promise<void>;
  /** Starts a fresh Functions host on the same port after `stopFunctions`. */
  startFunctions(): Promise<void>;
  /** With `instances` above 1: the hosts and their front end (kill, stop and start one). */
  readonly instances: RunningInstances | undefined;
  /** Stops everything the stack started. */
  stop(): Promise<void>;
}

/** Starts Azurite, the Functions host and the local service, wired to each other. */
/** Waits `downMs` (the part stays down that long), then starts it again. */
async function startAfter<T>(downMs: number, start: () => Promise<T>): Promise<T> {
  await sleep(downMs);
  return start();
}

/** Stops Azurite and starts it again on the same port and data after `downMs`. */
async function restartAzurite(
  blob: Awaited<ReturnType<typeof startAzurite>>,
  blobOptions: Parameters<typeof startAzurite>[0],
  downMs: number,
): Promise<Awaited<ReturnType<typeof startAzurite>>> {
  const port = blob.port;
  await blob.stop();
  return startAfter(downMs, () => startAzurite({ ...blobOptions, port }));
}

export async function startStack(options: StackOptions = {}): Promise<RunningStack> {
  if ((options.instances ?? 1) > 1) return startScaledStack(options);
  const logs: string[] = [];
  const record = (line: string) => {
    logs.push(line);
    if (options.verbose) console.log(line);
  };
  const identity = options.identity ? await sharedIdentityEndpoint() : undefined;
  const webPubSub = options.webPubSub ?? !options.identity;
  const blobOptions = options.blobLocation === undefined ? {} : { location: options.blobLocation };
  let blob = await startAzurite(blobOptions);
  let functions: RunningFunctionsHost | undefined;
  let service: RunningService | undefined;
  try {
    const env: Record<string, string> = {
      CHAT_HISTORY_STORAGE: blob.connectionString,
      AzureWebJobsStorage: blob.connectionString,
      // With Web PubSub the chat delivers through both services' REST APIs, as under npm start.
      CHAT_DIALECTS: webPubSub ? 'signalr,websocket' : 'signalr',
      REALTIME_SERVICE: webPubSub ? 'webpubsub' : 'signalr',
      ...(webPubSub ? { WebPubSubConnectionString: '' } : {}),
      // Filled in once the service has its port (below).
      AzureSignalRConnectionString: '',
      ...(identity ? identityAppSettings(identity) : {}),
      ...(options.segmentBlockLimit !== undefined
        ? { CHAT_HISTORY_SEGMENT_BLOCK_LIMIT: String(options.segmentBlockLimit) }
        : {}),
      ...options.env,
    };
    const startHost = (port: number) =>
      startFunctionsHost({
        port,
        env,
        ...options.functionsSocketLimits,
        ...(options.functionsShutdownGraceMs !== undefined
          ? { shutdownGraceMs: options.functionsShutdownGraceMs }
          : {}),
        // The repository's local.settings.json fills what the stack does not set, as under func start.
        log: (_level, line) => record(line),
      });
    functions = await startHost(0);
    const functionsPort = functions.port;
    // The page uploads and reads attachments straight from Azurite, as npm start allows it.
    await allowPageOrigins(blob.connectionString, [functions.url]);
    const functionsOrigin = `http://127.0.0.1:${functionsPort}`;
    const upstreamOrigin = (await options.upstreamVia?.(functionsOrigin)) ?? functionsOrigin;
    const upstream = `${upstreamOrigin}/api/messages?event={event}`;
    const startSvc = (port: number) =>
      startService({
        ...options.serviceOptions,
        port,
        ...(identity ? identityServiceOptions(identity, upstream) : { upstream }),
        ...(webPubSub
          ? {
              webPubSubHubs: {
                '*': {
                  eventHandlers: [
                    {
                      urlTemplate: upstream,
                      userEventPattern: '*',
                      systemEvents: ['connect', 'connected', 'disconnected'] as const,
                      auth: { type: 'None' } as const,
                    },
                  ],
                },
              },
            }
          : {}),
        log: (level, message, fields) =>
          record(`[signalr] ${level}: ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`),
      });
    service = await startSvc(0);
    const servicePort = service.port;
    env.AzureSignalRConnectionString = identity
      ? identityConnectionString(`http://127.0.0.1:${servicePort}`)
      : devSignalRConnectionString(`http://127.0.0.1:${servicePort}`);
    if (webPubSub) {
      // The service's own name for itself (its `endpoint`, `http://localhost:<port>`): its abuse-protection
      // handshake names that host, and the app allows only its Web PubSub service's host.
      env.WebPubSubConnectionString = devWebPubSubConnectionString(`http://localhost:${servicePort}`);
      process.env.WebPubSubConnectionString = env.WebPubSubConnectionString;
    }
    // The host applied `env` when it started; the chat reads settings per request, so update the live value.
    process.env.AzureSignalRConnectionString = env.AzureSignalRConnectionString;
    resetChatServices();

    const functionsUrl = functions.url;
    let stopped = false;
    return {
      homeUrl: `${functionsUrl}/api/home`,
      functionsUrl,
      serviceUrl: service.url,
      get blob() {
        return blob;
      },
      env,
      identity,
      logs,
      instances: undefined,
      async restartFunctions(downMs = 0) {
        await functions?.close();
        functions = undefined;
        resetChatServices();
        await sleep(downMs);
        functions = await startHost(functionsPort);
      },
      async stopFunctions() {
        await functions?.close();
        functions = undefined;
        resetChatServices();
      },
      async startFunctions() {
        functions ??= await startHost(functionsPort);
      },
      async restartService(downMs = 0) {
        await service?.close();
        service = undefined;
        service = await startAfter(downMs, () => startSvc(servicePort));
      },
      async restartBlob(downMs = 0) {
        blob = await restartAzurite(blob, blobOptions, downMs);
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        await service?.close();
        await functions?.close();
        await blob.stop();
        resetChatServices();
      },
    };
  } catch (error) {
    await service?.close().catch(() => undefined);
    await functions?.close().catch(() => undefined);
    await blob.stop();
    throw error;
  }
}

/**
 * The stack with `options.instances` Function instances: Azurite, the front end (started first, so the service's
 * upstream can name it), the service, then the hosts, each a process of its own with the service's connection
 * string. `restartFunctions` restarts every host; `stopFunctions`/`startFunctions` stop and start them all.
 */
async function startScaledStack(options: StackOptions): Promise<RunningStack> {
  const logs: string[] = [];
  const record = (line: string) => {
    logs.push(line);
    if (options.verbose) console.log(line);
  };
  const identity = options.identity ? await sharedIdentityEndpoint() : undefined;
  const blobOptions = options.blobLocation === undefined ? {} : { location: options.blobLocation };
  let blob = await startAzurite(blobOptions);
  const hostScript = await compiledCommand(['src/local/functions-host/process.ts'], ['src']);
  const frontEnd = await startFrontEnd({ port: 0, log: record });
  const upstream = `${(await options.upstreamVia?.(frontEnd.url)) ?? frontEnd.url}/api/messages?event={event}`;
  let service: RunningService | undefined;
  let instances: RunningInstances | undefined;
  try {
    const startSvc = (port: number) =>
      startService({
        ...options.serviceOptions,
        port,
        ...(identity ? identityServiceOptions(identity, upstream) : { upstream }),
        log: (level, message, fields) =>
          record(`[signalr] ${level}: ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`),
      });
    service = await startSvc(0);
    const servicePort = service.port;
    const env: Record<string, string> = {
      CHAT_HISTORY_STORAGE: blob.connectionString,
      AzureWebJobsStorage: blob.connectionString,
      CHAT_DIALECTS: 'signalr',
      REALTIME_SERVICE: 'signalr',
      AzureSignalRConnectionString: identity
        ? identityConnectionString(`http://127.0.0.1:${servicePort}`)
        : devSignalRConnectionString(`http://127.0.0.1:${servicePort}`),
      ...(identity ? identityAppSettings(identity) : {}),
      ...(options.segmentBlockLimit !== undefined
        ? { CHAT_HISTORY_SEGMENT_BLOCK_LIMIT: String(options.segmentBlockLimit) }
        : {}),
      ...options.env,
    };
    const count = options.instances ?? 1;
    const running = await startInstances({
      count,
      frontEnd,
      hostScript,
      env,
      log: record,
      verbose: options.verbose ?? false,
    });
    instances = running;
    const all = (fn: (i: number) => Promise<void>) =>
      Promise.all(Array.from({ length: count }, (_, i) => fn(i))).then(() => undefined);
    let stopped = false;
    return {
      homeUrl: `${frontEnd.url}/api/home`,
      functionsUrl: frontEnd.url,
      serviceUrl: service.url,
      get blob() {
        return blob;
      },
      env,
      identity,
      logs,
      instances: running,
      async restartFunctions(downMs = 0) {
        await all((i) => running.stop(i));
        await sleep(downMs);
        await all((i) => running.start(i));
      },
      stopFunctions: () => all((i) => running.stop(i)),
      startFunctions: () => all((i) => running.start(i)),
      async restartService(downMs = 0) {
        await service?.close();
        service = undefined;
        service = await startAfter(downMs, () => startSvc(servicePort));
      },
      async restartBlob(downMs = 0) {
        blob = await restartAzurite(blob, blobOptions, downMs);
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        await service?.close();
        await running.close();
        await blob.stop();
      },
    };
  } catch (error) {
    await service?.close().catch(() => undefined);
    await instances?.close().catch(() => undefined);
    await frontEnd.close().catch(() => undefined);
    await blob.stop();
    throw error;
  }
}
