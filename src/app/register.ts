/**
 * How `src/functions/*.ts` register their entry of the route table with the Functions runtime. Importing this
 * module first turns on HTTP streams, so on Azure, as in the built-in host, a handler gets the request body as a
 * stream: the upstream endpoint checks the signature (or bearer token) before it reads a byte, instead of the host
 * reading a body of up to 100 MB first. Setup may run any number of times until the runtime has loaded every
 * function file; without a Functions host (tests, the built-in host) it changes nothing.
 * See docs/architecture.md, "Decisions".
 */
import azureFunctions from '@azure/functions';
import type { RouteDefinition } from './routes.js';
import { startTelemetry } from './telemetry.js';

const { app } = azureFunctions;

app.setup({ enableHttpStream: true });
// Traces and metrics from the app settings (docs/observability.md), before any function is registered; once
// per worker however many function files import this. Off, it loads nothing.
await startTelemetry();

/** `app.http(name, options)` for one entry of the route table. */
export function register(route: RouteDefinition): void {
  const { name, ...options } = route;
  app.http(name, options);
}
