/**
 * The one table of the app's HTTP functions. `src/functions/*.ts` register its entries with `app.http`, and the
 * built-in local host (`src/local/functions-host/host.ts`) serves the same entries, so the two cannot drift.
 * See docs/architecture.md, "Decisions".
 */
import type { HttpHandler, HttpMethod } from '@azure/functions';
import { assets } from './assets.js';
import { attachments, uploads } from './attachments.js';
import { home } from './home.js';
import { negotiate } from './negotiate.js';
import { messages } from './upstream-adapter.js';

/** One HTTP function: what `app.http(name, { methods, route, authLevel, handler })` takes. */
export interface RouteDefinition {
  /** The function name (unique in the app). */
  readonly name: string;
  readonly methods: HttpMethod[];
  /** The route template under the `api/` prefix, e.g. `assets/{*path}`. */
  readonly route: string;
  /** `anonymous`, or `function` (a function or host key is needed when the host has keys). */
  readonly authLevel: 'anonymous' | 'function' | 'admin';
  readonly handler: HttpHandler;
}

export const ROUTES = {
  /** The chat page with its configuration. */
  // HEAD too: link checkers and uptime probes ask with HEAD (the host sends the headers without the body).
  home: { name: 'home', methods: ['GET', 'HEAD'], route: 'home', authLevel: 'anonymous', handler: home },
  /** URL + token for the service; the identity is decided here. */
  negotiate: {
    name: 'negotiate',
    // GET too, for the 2020 sample's clients; @microsoft/signalr uses POST.
    methods: ['POST', 'GET'],
    route: 'negotiate',
    authLevel: 'anonymous',
    handler: negotiate,
  },
  /**
   * The upstream endpoint of both services: anonymous at the HTTP level because every call is checked by its
   * signature (X-ASRS-Signature, ce-signature) or bearer token; OPTIONS is Web PubSub's abuse-protection handshake.
   */
  messages: {
    name: 'messages',
    methods: ['POST', 'OPTIONS'],
    route: 'messages',
    authLevel: 'anonymous',
    handler: messages,
  },
  /** A create-only upload URL for one file (docs/architecture.md, "Attachments"). */
  uploads: { name: 'uploads', methods: ['POST'], route: 'uploads', authLevel: 'anonymous', handler: uploads },
  /** A redirect to a short-lived read URL of one file, after the membership check. */
  attachments: {
    name: 'attachments',
    methods: ['GET'],
    route: 'attachments',
    authLevel: 'anonymous',
    handler: attachments,
  },
  /** The page's static files and vendored browser builds. */
  assets: {
    name: 'assets',
    methods: ['GET'],
    route: 'assets/{*path}',
    authLevel: 'anonymous',
    handler: assets,
  },
} satisfies Record<string, RouteDefinition>;

/** Every route of the app, in the order the local host matches them. */
export const ROUTE_TABLE: readonly RouteDefinition[] = Object.values(ROUTES);
