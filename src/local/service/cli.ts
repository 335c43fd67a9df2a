/**
 * `npm run service -- [options]`: runs the local SignalR Serverless service until SIGINT/SIGTERM.
 *
 *   --port <n>                 TCP port (default 8080; 0 picks a free one)
 *   --host <addr>              interface (default 127.0.0.1)
 *   --access-key <key>         repeatable: primary, then secondary (default the documented dev key)
 *   --upstream <urlTemplate>   one template for every hub, category and event
 *   --settings <file.json>     ordered templates and limits (the keys of ServiceOptions)
 *   --upstream-timeout <ms>    timeout of one upstream call (default 20000)
 *   --max-message-bytes <n>    largest frame / REST body (default 1048576)
 *   --keepalive <ms>           ping interval (default 15000)
 *
 * Flags override the settings file. When ready it prints
 * `SignalR local service listening on http://127.0.0.1:<port>`.
 */
import { parseArgs } from 'node:util';
import { readSettingsFile, type ServiceOptions, ServiceOptionsError } from './options.js';
import { startService } from './service.js';

function number(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new ServiceOptionsError(`--${name} must be a number, not '${value}'`);
  return n;
}

/** Turns command-line arguments into service options. */
export function optionsFromArgs(args: readonly string[]): ServiceOptions {
  const { values } = parseArgs({
    args: [...args],
    strict: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'access-key': { type: 'string', multiple: true },
      upstream: { type: 'string' },
      settings: { type: 'string' },
      'upstream-timeout': { type: 'string' },
      'max-message-bytes': { type: 'string' },
      keepalive: { type: 'string' },
    },
  });
  const fromFile = values.settings ? readSettingsFile(values.settings) : {};
  const flags: Record<string, unknown> = {
    port: number('port', values.port),
    host: values.host,
    accessKeys: values['access-key'],
    upstream: values.upstream,
    upstreamTimeoutMs: number('upstream-timeout', values['upstream-timeout']),
    maxMessageBytes: number('max-message-bytes', values['max-message-bytes']),
    keepAliveIntervalMs: number('keepalive', values.keepalive),
  };
  const options: Record<string, unknown> = { ...fromFile };
  for (const [key, value] of Object.entries(flags)) if (value !== undefined) options[key] = value;
  return options as ServiceOptions;
}

async function main(): Promise<void> {
  let options: ServiceOptions;
  try {
    options = optionsFromArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`signalr-local: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 2;
    return;
  }
  const service = await startService(options);
  console.log(`SignalR local service listening on ${service.url}`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void service.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(`signalr-local: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
