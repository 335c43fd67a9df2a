/**
 * The chat's built-in Functions host in a process of its own. App settings come from the environment the
 * orchestrator gives this process (AzureSignalRConnectionString, CHAT_HISTORY_STORAGE); the port is chosen
 * by the orchestrator (BENCH_FUNCTIONS_PORT), because the service's upstream template must name it before
 * this host starts.
 */
import { subscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import { startFunctionsHost } from '../../src/local/functions-host/host.js';
import { probe, serve, tell } from '../ipc.js';

/**
 * REST calls the app makes to the service (the REST client uses `node:http`), counted by method and path with
 * ids replaced, so a scenario can say how many calls a join or a message costs. Blob requests (also
 * `node:http`) are left out by their path: only the hub API's have `/hubs/`. Reset by each `calls` probe.
 */
const calls = new Map<string, number>();
subscribe('http.client.request.start', (message) => {
  const { request } = message as { request: ClientRequest };
  const path = request.path.split('?')[0] ?? '';
  if (!path.includes('/hubs/')) return;
  const key = `${request.method} ${path.replace(/\/(users|connections|groups)\/[^/]+/g, '/$1/{id}')}`;
  calls.set(key, (calls.get(key) ?? 0) + 1);
});

const host = await startFunctionsHost({
  port: Number(process.env.BENCH_FUNCTIONS_PORT ?? 0),
  settingsFile: false,
  // The bench's clients and the service's upstream calls all come from 127.0.0.1: the per-address socket cap
  // is for abuse, not for measuring (maxSockets stays).
  maxSocketsPerAddress: 1_000_000,
  // One line per request would make the bench measure its own console; errors still show.
  log: (level, line) => {
    if (level === 'error') console.error(line);
  },
});

serve(
  async (message) => {
    if (message.type !== 'calls') return probe(message);
    const counted = Object.fromEntries([...calls.entries()].sort((a, b) => b[1] - a[1]));
    calls.clear();
    return { type: 'calls', calls: counted };
  },
  () => host.close(),
);
tell({ type: 'ready', url: host.url, port: host.port });
