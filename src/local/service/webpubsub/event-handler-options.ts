/**
 * The Web PubSub wing's event handler settings, in Azure's shape (a hub's `eventHandlers`, ordered): which
 * URL each event goes to and how the service authenticates there (docs/local-service.md, "The Web PubSub wing").
 */
/** Azure's system events a handler may subscribe to (`connect` blocks the client; the others notify). */
export type WebPubSubSystemEvent = 'connect' | 'connected' | 'disconnected';

const SYSTEM_EVENTS: readonly WebPubSubSystemEvent[] = ['connect', 'connected', 'disconnected'];

/** How the service authenticates to a handler: nothing, or a token of its managed identity for `resource`. */
export type WebPubSubHandlerAuth =
  | { readonly type: 'None' }
  | { readonly type: 'ManagedIdentity'; readonly resource: string };

/** One event handler of a hub, as Azure's `eventHandlers` setting holds it. */
export interface WebPubSubEventHandler {
  /** The URL of the handler; `{event}` and `{hub}` are substituted (URL-encoded). */
  readonly urlTemplate: string;
  /** User events sent here: `*`, a comma list, or unset for none. */
  readonly userEventPattern?: string;
  /** System events sent here. Default none. */
  readonly systemEvents?: readonly WebPubSubSystemEvent[];
  /** Default `{type: 'None'}`. */
  readonly auth?: WebPubSubHandlerAuth;
}

/** Event handlers per hub; the key `*` applies to every hub that has no entry of its own. */
export type WebPubSubHubSettings = Readonly<
  Record<string, { readonly eventHandlers: readonly WebPubSubEventHandler[] }>
>;

/** The handler `npm start` configures for every hub: all events to the app's `/api/messages`. */
export function defaultEventHandler(urlTemplate: string): WebPubSubEventHandler {
  return {
    urlTemplate,
    userEventPattern: '*',
    systemEvents: ['connect', 'connected', 'disconnected'],
    auth: { type: 'None' },
  };
}

/** Validates the `webPubSubHubs` option (default: no handler, so no upstream calls and every connect accepted). */
export function normalizeWebPubSubHubs(
  value: unknown,
  invalid: (message: string) => Error,
): WebPubSubHubSettings {
  if (value === undefined || value === null) return {};
  const hint =
    "webPubSubHubs must map hub names (or '*') to {eventHandlers: [{urlTemplate, userEventPattern?, systemEvents?, auth?}]}";
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid(hint);
  const hubs: Record<string, { eventHandlers: WebPubSubEventHandler[] }> = {};
  for (const [hub, settings] of Object.entries(value as Record<string, unknown>)) {
    const handlers = (settings as { eventHandlers?: unknown } | null)?.eventHandlers;
    if (!Array.isArray(handlers)) throw invalid(`${hint} (hub '${hub}')`);
    hubs[hub.toLowerCase()] = {
      eventHandlers: handlers.map((h, i) => checkHandler(h, `${hub}[${i}]`, invalid)),
    };
  }
  return hubs;
}

function checkHandler(
  value: unknown,
  where: string,
  invalid: (message: string) => Error,
): WebPubSubEventHandler {
  const handler = value as Partial<Record<keyof WebPubSubEventHandler, unknown>> | null;
  const url = handler?.urlTemplate;
  if (typeof url !== 'string' || !/^https?:\/\//i.test(url)) {
    throw invalid(`Web PubSub event handler ${where}: urlTemplate must be an http(s) URL`);
  }
  const pattern = handler?.userEventPattern;
  if (pattern !== undefined && typeof pattern !== 'string') {
    throw invalid(`Web PubSub event handler ${where}: userEventPattern must be a string`);
  }
  const events = handler?.systemEvents ?? [];
  if (!Array.isArray(events) || events.some((e) => !SYSTEM_EVENTS.includes(e))) {
    throw invalid(
      `Web PubSub event handler ${where}: systemEvents may hold only ${SYSTEM_EVENTS.join(', ')}`,
    );
  }
  const auth = (handler?.auth ?? { type: 'None' }) as { type?: unknown; resource?: unknown };
  if (auth.type === 'ManagedIdentity') {
    if (typeof auth.resource !== 'string' || auth.resource === '') {
      throw invalid(`Web PubSub event handler ${where}: ManagedIdentity auth needs a resource`);
    }
  } else if (auth.type !== 'None') {
    throw invalid(`Web PubSub event handler ${where}: auth.type must be None or ManagedIdentity`);
  }
  return {
    urlTemplate: url,
    ...(pattern !== undefined ? { userEventPattern: pattern } : {}),
    systemEvents: events as WebPubSubSystemEvent[],
    auth:
      auth.type === 'ManagedIdentity'
        ? { type: 'ManagedIdentity', resource: auth.resource as string }
        : { type: 'None' },
  };
}
