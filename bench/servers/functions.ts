/**
 * The chat's built-in Functions host in a process of its own. App settings come from the environment the
 * orchestrator gives this process (AzureSignalRConnectionString, CHAT_HISTORY_STORAGE).
 */
import { probe, serve, tell } from '../ipc.js';

interface HostHandle {
  url: string;
  port: number;
  close(): Promise<void>;
}

const hostPath = '../../src/local/functions-host.js';
const { startFunctionsHost } = (await import(hostPath)) as {
  startFunctionsHost(options: Record<string, unknown>): Promise<HostHandle>;
};

// The port is chosen by the orchestrator: the service's upstream template must name it before this starts.
const host = await startFunctionsHost({
  port: Number(process.env.BENCH_FUNCTIONS_PORT ?? 0),
  env: process.env,
});

serve(
  async (message) => probe(message),
  () => host.close(),
);
tell({ type: 'ready', url: host.url.replace('localhost', '127.0.0.1'), port: host.port });
