/**
 * Which of a hub's event handlers an event goes to, and the abuse-protection handshake the service makes
 * before its first delivery to a host (docs/local-service.md, "The Web PubSub wing").
 */
import { setBounded } from '../../../lib/bounded-map.js';
import { CLOUD_EVENTS_HEADERS, WEBHOOK_HEADERS } from '../../../lib/webpubsub/protocol.js';
import type { ServiceLog, UpstreamTemplate } from '../options.js';
import { expandUrl, patternMatches } from '../upstream/templates.js';
import type {
  WebPubSubEventHandler,
  WebPubSubHubSettings,
  WebPubSubSystemEvent,
} from './event-handler-options.js';

/** An event as the handler settings see it: one of the system events, or a user event by its name. */
export type HandlerEvent = { readonly system: WebPubSubSystemEvent } | { readonly user: string };

/** The first handler of the hub (or of `*`) that takes the event, in Azure's order; undefined for none. */
export function handlerFor(
  hubs: WebPubSubHubSettings,
  hub: string,
  event: HandlerEvent,
): WebPubSubEventHandler | undefined {
  const handlers = (hubs[hub.toLowerCase()] ?? hubs['*'])?.eventHandlers ?? [];
  return handlers.find((handler) =>
    'system' in event
      ? (handler.systemEvents ?? []).includes(event.system)
      : handler.userEventPattern !== undefined &&
        handler.userEventPattern.trim() !== '' &&
        patternMatches(handler.userEventPattern, event.user),
  );
}

/** A handler as the shared upstream caller's template. */
export function templateOf(handler: WebPubSubEventHandler): UpstreamTemplate {
  return {
    urlTemplate: handler.urlTemplate,
    auth:
      handler.auth?.type === 'ManagedIdentity'
        ? { type: 'ManagedIdentity', managedIdentity: { resource: handler.auth.resource } }
        : { type: 'None' },
  };
}

/**
 * Hub and event pairs whose handler is remembered (user event names are the client's: the oldest are forgotten
 * beyond this, and a forgotten one is only looked up again).
 */
export const MAX_CACHED_HANDLER_ROUTES = 4_096;

/** User event names up to this length are remembered; a longer one is looked up every time (memory stays small). */
export const MAX_CACHED_EVENT_NAME_LENGTH = 256;

/**
 * Which template each event of a hub goes to, looked up once per hub and event rather than once per message:
 * the handler settings are fixed while the service runs. Each handler has one template object, so the upstream
 * caller can keep the URLs it gives.
 */
export class HandlerRoutes {
  readonly #templates = new WeakMap<WebPubSubEventHandler, UpstreamTemplate>();
  readonly #routes = new Map<string, UpstreamTemplate | null>();

  constructor(private readonly hubs: WebPubSubHubSettings) {}

  /** The template of the hub's first handler that takes the event; `null` when none does. */
  templateFor(hub: string, event: HandlerEvent): UpstreamTemplate | null {
    const remembered = 'system' in event || event.user.length <= MAX_CACHED_EVENT_NAME_LENGTH;
    const key = 'system' in event ? `${hub}\n\n${event.system}` : `${hub}\nuser\n${event.user}`;
    let template = remembered ? this.#routes.get(key) : undefined;
    if (template === undefined) {
      const handler = handlerFor(this.hubs, hub, event);
      template = handler ? this.#templateOf(handler) : null;
      if (remembered) setBounded(this.#routes, key, template, MAX_CACHED_HANDLER_ROUTES);
    }
    return template;
  }

  #templateOf(handler: WebPubSubEventHandler): UpstreamTemplate {
    let template = this.#templates.get(handler);
    if (template === undefined) {
      template = templateOf(handler);
      this.#templates.set(handler, template);
    }
    return template;
  }
}

/**
 * The abuse-protection handshake (CloudEvents HTTP webhook, section 4, as Web PubSub sends it): an `OPTIONS`
 * request with `WebHook-Request-Origin: <service host>`; the host may be delivered to when it answers 2xx with
 * `WebHook-Allowed-Origin` `*` or a list naming the service host. The outcome is kept per host, as Azure
 * validates a host once; a refused host gets no delivery, and the refusal is logged once.
 */
export class AbuseProtection {
  readonly #outcomes = new Map<string, Promise<boolean>>();
  /** Hosts whose handshake succeeded: answered at once, without a promise. */
  readonly #admitted = new Set<string>();

  constructor(
    private readonly origin: () => string,
    private readonly timeoutMs: number,
    private readonly log: ServiceLog,
  ) {}

  /**
   * Whether events may be delivered to the host of `url` (the handshake is made on its first use); `true` itself
   * once the host has accepted.
   */
  allowed(url: URL): Promise<boolean> | true {
    if (this.#admitted.has(url.host)) return true;
    let outcome = this.#outcomes.get(url.host);
    if (!outcome) {
      outcome = this.#handshake(url);
      this.#outcomes.set(url.host, outcome);
    }
    return outcome;
  }

  async #handshake(url: URL): Promise<boolean> {
    const origin = this.origin();
    try {
      const response = await fetch(url, {
        method: 'OPTIONS',
        headers: { [WEBHOOK_HEADERS.requestOrigin]: origin, [CLOUD_EVENTS_HEADERS.awpsVersion]: '1.0' },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await response.arrayBuffer().catch(() => undefined);
      const allowed = (response.headers.get(WEBHOOK_HEADERS.allowedOrigin) ?? '')
        .split(',')
        .map((value) => value.trim().toLowerCase());
      if (response.ok && (allowed.includes('*') || allowed.includes(origin.toLowerCase()))) {
        this.#admitted.add(url.host);
        return true;
      }
      this.log('error', 'The event handler refused the abuse-protection handshake: no event goes there', {
        host: url.host,
        status: response.status,
        allowedOrigin: allowed.join(','),
        expected: origin,
      });
    } catch (error) {
      this.log('error', 'The abuse-protection handshake failed: no event goes to the event handler', {
        host: url.host,
        error: error instanceof Error ? error.message : String(error),
      });
      // A host that could not be reached is tried again on its next event, not refused for good.
      this.#outcomes.delete(url.host);
    }
    return false;
  }
}

/** The URL a handler gives an event (for the handshake, which is per host). */
export function handlerUrl(handler: WebPubSubEventHandler, hub: string, event: string): URL {
  return new URL(expandUrl(handler.urlTemplate, hub, '', event));
}
