/**
 * The local SignalR Serverless service in a process of its own, so its CPU time and resident memory are
 * its own. Argument: JSON `{ upstream: urlTemplate | null, accessKey }`. Answers the `memory` and `cpu`
 * probes; exits on `stop` or when the orchestrator goes away.
 */
import { probe, serve, tell } from '../ipc.js';

interface ServiceHandle {
  url: string;
  port: number;
  close(): Promise<void>;
}

const config = JSON.parse(process.argv[2] ?? '{}') as { upstream: string | null; accessKey: string };
// Loaded by path at run time so the rest of the bench builds and runs while the service is in progress.
const servicePath = '../../src/local/service/index.js';
const { startService } = (await import(servicePath)) as {
  startService(options: Record<string, unknown>): Promise<ServiceHandle>;
};

const service = await startService({
  port: 0,
  host: '127.0.0.1',
  accessKeys: [config.accessKey],
  upstream: config.upstream ? [{ urlTemplate: config.upstream }] : [],
});

serve(
  async (message) => probe(message),
  () => service.close(),
);
tell({ type: 'ready', url: service.url.replace('localhost', '127.0.0.1'), port: service.port });
