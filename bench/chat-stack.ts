/**
 * The whole chat for the end-to-end scenario, each server in a process of its own: Azurite (in memory) behind
 * the Blob counter (bench/blob-counter.ts), the local service and one or more built-in Functions hosts; with
 * several hosts, the front end of `npm start -- --instances N` (src/local/functions-host/front-end.ts) between the service's
 * upstream and the hosts, as the platform's load balancer is on Azure. The app runs with SignalR
 * (REALTIME_SERVICE=signalr) or Web PubSub (REALTIME_SERVICE=webpubsub, the service's Web PubSub wing calling
 * the app's `/api/messages` for every hub and event, as `npm start` wires it).
 */
import { type BlobCounter, startBlobCounter } from './blob-counter.js';
import type { BenchChild } from './processes.js';
import {
  connectionString,
  cpuProfileFlags,
  freePort,
  startAzurite,
  startFrontEndProcess,
  startFunctionsProcess,
  startServiceProcess,
} from './stack.js';

/** The app's negotiate limit per address for the bench, whose clients all share one address. */
export const BENCH_NEGOTIATES_PER_MINUTE = 1_000_000;

export interface ChatStackOptions {
  service: 'signalr' | 'webpubsub';
  /** Functions hosts; above 1 they sit behind the front end. */
  instances: number;
  /** Write CPU profiles named `chat-<profileName>-…` into `profileDir`. */
  profile?: { dir: URL; name: string };
}

/**
 * A server process whose CPU time the scenario reads (through `child`'s probe when it is a bench child, else
 * from /proc); `own` marks the app's and the service's, `load` the clients' (to tell a step the clients could not
 * keep up with from one the stack could not).
 */
export interface MeasuredProcess {
  name: string;
  pid: number;
  role: 'own' | 'azurite' | 'front end' | 'load';
  child?: BenchChild;
}

export interface ChatStack {
  /** Where clients negotiate (`POST …?name=<user>`). */
  negotiateUrl: string;
  processes: MeasuredProcess[];
  /** The Functions hosts (they count their REST calls to the service). */
  hosts: BenchChild[];
  blobs: BlobCounter;
  stop(): Promise<void>;
}

/** Starts the chat's servers for `options`; on a failure, stops what had started and rethrows. */
export async function startChatStack(options: ChatStackOptions): Promise<ChatStack> {
  // Stopped in this order: the service first, so the others see no more traffic (its shutdown sends every
  // disconnect upstream), then the hosts, the front end, the Blob counter and Azurite.
  const slots: Record<'service' | 'hosts' | 'frontEnd' | 'blobs' | 'azurite', Array<() => Promise<void>>> = {
    service: [],
    hosts: [],
    frontEnd: [],
    blobs: [],
    azurite: [],
  };
  const stop = async () => {
    for (const slot of Object.values(slots))
      for (const step of slot.splice(0)) await step().catch(() => undefined);
  };
  const profiled = (part: string) =>
    options.profile ? cpuProfileFlags(options.profile.dir, `chat-${options.profile.name}-${part}`) : [];
  // A profiled process needs time to write its profile on the way out.
  const grace = (ms: number) => (options.profile ? ms : undefined);
  try {
    const azurite = await startAzurite();
    slots.azurite.push(() => azurite.stop());
    const blobs = await startBlobCounter(azurite.connectionString);
    slots.blobs.push(() => blobs.close());
    const hostPorts = await Promise.all(Array.from({ length: options.instances }, () => freePort()));
    const hostUrls = hostPorts.map((port) => `http://127.0.0.1:${port}`);
    let appUrl = hostUrls[0] ?? '';
    const frontEnd =
      options.instances > 1 ? await startFrontEndProcess(hostUrls, profiled('front-end')) : undefined;
    if (frontEnd) {
      slots.frontEnd.push(() => frontEnd.stop(grace(60_000)));
      appUrl = frontEnd.url;
    }
    const upstream = `${appUrl}/api/messages?event={event}`;
    const service = await startServiceProcess({
      upstream,
      ...(options.service === 'webpubsub'
        ? { webPubSub: { urlTemplate: upstream, systemEvents: ['connect', 'connected', 'disconnected'] } }
        : {}),
      execArgv: profiled('service'),
    });
    slots.service.push(() => service.stop(grace(120_000)));
    const settings: Record<string, string> = {
      CHAT_HISTORY_STORAGE: blobs.connectionString,
      REALTIME_SERVICE: options.service,
      // As infra/modules/function-app.bicep deploys each: with Web PubSub there is no SignalR service, and
      // the chat's frames go out through Web PubSub's REST API (the raw-frame channel).
      ...(options.service === 'webpubsub'
        ? {
            WebPubSubConnectionString: connectionString(service.url, 'webpubsub'),
            CHAT_DIALECTS: 'websocket',
          }
        : { AzureSignalRConnectionString: connectionString(service.url) }),
      // Every bench client negotiates from the one loopback address.
      CHAT_NEGOTIATE_PER_MINUTE_PER_ADDRESS: String(BENCH_NEGOTIATES_PER_MINUTE),
    };
    const several = options.instances > 1;
    const hosts = await Promise.all(
      hostPorts.map(async (port, i) => {
        const host = await startFunctionsProcess(
          { ...settings, BENCH_FUNCTIONS_PORT: String(port) },
          profiled(several ? `functions-${i + 1}` : 'functions'),
        );
        slots.hosts.push(() => host.stop(grace(60_000)));
        return host;
      }),
    );
    const processes: MeasuredProcess[] = [
      { name: 'service', pid: service.pid, role: 'own', child: service.child },
      ...hosts.map((host, i) => ({
        name: several ? `functions ${i + 1}` : 'functions',
        pid: host.pid,
        role: 'own' as const,
        child: host.child,
      })),
      ...(frontEnd
        ? [{ name: 'front end', pid: frontEnd.pid, role: 'front end' as const, child: frontEnd.child }]
        : []),
      { name: 'azurite', pid: azurite.pid, role: 'azurite' },
    ];
    const negotiate = new URL('/api/negotiate', appUrl);
    if (options.service === 'webpubsub') negotiate.searchParams.set('service', 'webpubsub');
    return {
      negotiateUrl: negotiate.toString(),
      processes,
      hosts: hosts.map((host) => host.child),
      blobs,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
