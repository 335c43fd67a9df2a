/**
 * One built-in Functions host in a process of its own: one Function instance of a scaled-out app, with its own
 * memory (caches, batches, limits), as each instance on Azure has (docs/architecture.md, "Many Function
 * instances"). App settings come from the environment; the port from `FUNCTIONS_HOST_PORT` (0 picks one).
 * When ready it prints `Functions host listening on http://127.0.0.1:<port>`; SIGTERM stops it gracefully.
 */
import { startTelemetry } from '../../app/telemetry.js';
import { startFunctionsHost } from './host.js';

/** How often the host checks that the process that started it is still there. */
const PARENT_CHECK_INTERVAL_MS = 1_000;

async function main(): Promise<void> {
  const port = Number(process.env.FUNCTIONS_HOST_PORT ?? 0);
  const label = process.env.FUNCTIONS_HOST_LABEL ?? 'host';
  const quiet = process.env.FUNCTIONS_HOST_QUIET === '1';
  const telemetry = await startTelemetry(process.env);
  const host = await startFunctionsHost({
    port,
    // The parent already put local.settings.json's values into this process's environment.
    settingsFile: false,
    log: (level, line) => {
      if (level === 'error') console.error(`[${label}] ${line}`);
      else if (!quiet) console.log(`[${label}] ${line}`);
    },
  });
  console.log(`Functions host listening on ${host.url}`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void host
      .close()
      .then(() => telemetry.shutdown())
      .finally(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // Started by `npm start` or a test: when that process is gone (we were re-parented), stop too.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) stop();
  }, PARENT_CHECK_INTERVAL_MS).unref();
}

main().catch((error: unknown) => {
  console.error(`functions-host: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
