/**
 * The local service (SignalR Serverless and Web PubSub wings) in a process of its own, so its CPU time and
 * resident memory are its own. Argument: JSON `{ upstream: urlTemplate | null, accessKey, webPubSub }`:
 * `upstream` is the SignalR wing's, `webPubSub` (optional) the Web PubSub event handler of every hub (URL
 * template and the system events it gets; user events all go there). Answers the `memory` and `cpu` probes;
 * exits on `stop` or when the orchestrator goes away.
 */
import { startService } from '../../src/local/service/index.js';
import { probe, serve, tell } from '../ipc.js';

/** Warnings and errors printed before the rest are dropped. */
const MAX_LOG_LINES = 20;
let shown = 0;

/** The Web PubSub event handler of every hub. */
export interface BenchWebPubSubHandler {
  urlTemplate: string;
  systemEvents: Array<'connect' | 'connected' | 'disconnected'>;
}

const config = JSON.parse(process.argv[2] ?? '{}') as {
  upstream: string | null;
  accessKey: string;
  webPubSub?: BenchWebPubSubHandler;
};

const service = await startService({
  port: 0,
  host: '127.0.0.1',
  accessKeys: [config.accessKey],
  ...(config.upstream ? { upstream: config.upstream } : {}),
  ...(config.webPubSub
    ? {
        webPubSubHubs: {
          '*': {
            eventHandlers: [
              {
                urlTemplate: config.webPubSub.urlTemplate,
                userEventPattern: '*',
                systemEvents: config.webPubSub.systemEvents,
                auth: { type: 'None' } as const,
              },
            ],
          },
        },
      }
    : {}),
  // Every bench client connects from 127.0.0.1, thousands within seconds: the per-address connect and socket
  // limits are for abuse, not for measuring, so they are lifted here (per-user limits stay: bench users are
  // distinct; maxSockets stays, at 10 000 above any bench's clients).
  connectBurstPerAddress: 1_000_000,
  connectsPerSecondPerAddress: 1_000_000,
  maxSocketsPerAddress: 1_000_000,
  // Info lines (one per connection) would make the bench measure the console. Warnings and errors show,
  // capped so that 5 000 failing clients do not flood the terminal.
  log: (level, message, fields) => {
    if (level === 'info' || shown >= MAX_LOG_LINES) return;
    shown += 1;
    console.error(`[service] ${level}: ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`);
  },
});

serve(
  async (message) => probe(message),
  () => service.close(),
);
tell({ type: 'ready', url: service.url, port: service.port });
