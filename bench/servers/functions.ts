/**
 * The chat's built-in Functions host in a process of its own. App settings come from the environment the
 * orchestrator gives this process (AzureSignalRConnectionString, CHAT_HISTORY_STORAGE); the port is chosen
 * by the orchestrator (BENCH_FUNCTIONS_PORT), because the service's upstream template must name it before
 * this host starts.
 */
import { startFunctionsHost } from '../../src/local/functions-host.js';
import { probe, serve, tell } from '../ipc.js';

const host = await startFunctionsHost({
  port: Number(process.env.BENCH_FUNCTIONS_PORT ?? 0),
  settingsFile: false,
  // One line per request would make the bench measure its own console; errors still show.
  log: (level, line) => {
    if (level === 'error') console.error(line);
  },
});

serve(
  async (message) => probe(message),
  () => host.close(),
);
tell({ type: 'ready', url: host.url, port: host.port });
