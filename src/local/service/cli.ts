/**
 * `npm run service -- [options]`: runs the local SignalR Serverless service until SIGINT/SIGTERM.
 *
 *   --port <n>                 TCP port (default 8080; 0 picks a free one)
 *   --host <addr>              interface (default 127.0.0.1)
 *   --endpoint <origin>        public endpoint token audiences are bound to (default http://localhost:<port>)
 *   --access-key <key>         repeatable: primary, then secondary (default the documented dev key)
 *   --upstream <urlTemplate>   one template for every hub, category and event
 *   --settings <file.json>     ordered templates and limits (the keys of ServiceOptions)
 *   --upstream-timeout <ms>    timeout of one upstream call (default 20000)
 *   --max-message-bytes <n>    largest frame / REST body (default 1048576)
 *   --keepalive <ms>           ping interval (default 15000)
 *
 * Identity mode (local auth disabled: Entra tokens only, bearer tokens upstream) is set in the settings file:
 * `auth`, `entraOpenIdConfiguration`, `entraAudience`, `managedIdentity` and templates' `auth` (options.ts).
 *
 * Flags override the settings file. When ready it prints
 * `SignalR local service listening on http://127.0.0.1:<port>`.
 */
import { messageOf } from '../../lib/error-message.js';
import { optionsFromArgs } from './args.js';
import type { ServiceOptions } from './options.js';
import { startService } from './service.js';

async function main(): Promise<void> {
  let options: ServiceOptions;
  try {
    options = optionsFromArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`signalr-local: ${messageOf(error)}`);
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
  console.error(`signalr-local: ${messageOf(error)}`);
  process.exit(1);
});
