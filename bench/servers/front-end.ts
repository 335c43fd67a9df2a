/**
 * The front end of several Functions hosts (src/local/functions-host/front-end.ts, what `npm start -- --instances N` runs) in
 * a process of its own: it stands in for the platform's load balancer, so its CPU time is kept apart from the
 * app's. Argument: JSON `{ backends: string[] }`, the hosts' base URLs (they may start after it).
 */
import { startFrontEnd } from '../../src/local/functions-host/front-end.js';
import { probe, serve, tell } from '../ipc.js';

const config = JSON.parse(process.argv[2] ?? '{}') as { backends: string[] };

const frontEnd = await startFrontEnd({
  port: 0,
  backends: config.backends,
  // A refused host is reported; a line per request would make the bench measure its own console.
  log: (line) => console.error(line),
});

serve(
  async (message) => probe(message),
  () => frontEnd.close(),
);
tell({ type: 'ready', url: frontEnd.url, port: frontEnd.port });
