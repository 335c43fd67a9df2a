/**
 * The Web PubSub wing's upstream codec: event handler calls in CloudEvents binary mode, as Azure Web PubSub
 * sends them (the `ce-*` attributes of `src/lib/webpubsub/protocol.ts` as headers, the event data as the body)
 * (docs/local-service.md, "The Web PubSub wing").
 */
import { randomUUID } from 'node:crypto';
import { UPSTREAM_CATEGORIES } from '../../../lib/signalr/upstream-contract.js';
import {
  CLOUD_EVENT_TYPES,
  CLOUD_EVENTS_HEADERS,
  CLOUD_EVENTS_SPEC_VERSION,
  WEBHOOK_HEADERS,
} from '../../../lib/webpubsub/protocol.js';
import type { UpstreamCall, UpstreamCodec } from '../upstream/call.js';

/** The system events by the names the wing's calls carry in `event` (category `connections`). */
export const SYSTEM_EVENT_NAMES = {
  connect: 'connect',
  connected: 'connected',
  disconnected: 'disconnected',
} as const;

/** The version of Web PubSub's CloudEvents extension Azure sends (`ce-awpsversion`). */
export const AWPS_VERSION = '1.0';

/** The `ce-type` of a call: a system event in category `connections`, a user event in `messages`. */
export function cloudEventType(call: Pick<UpstreamCall, 'category' | 'event'>): string {
  if (call.category === UPSTREAM_CATEGORIES.messages) return `${CLOUD_EVENT_TYPES.userPrefix}${call.event}`;
  switch (call.event) {
    case SYSTEM_EVENT_NAMES.connect:
      return CLOUD_EVENT_TYPES.connect;
    case SYSTEM_EVENT_NAMES.connected:
      return CLOUD_EVENT_TYPES.connected;
    default:
      return CLOUD_EVENT_TYPES.disconnected;
  }
}

/**
 * The codec, for a service whose host (`WebHook-Request-Origin`) is `origin()`; `admits` is the
 * abuse-protection handshake (event-handlers.ts).
 */
export function webPubSubUpstream(
  origin: () => string,
  admits: (url: URL) => Promise<boolean> | true,
  signingKeys: readonly string[],
): UpstreamCodec {
  return {
    admits,
    signingKeys,
    connectionHeaders: (call, signature) => {
      const headers: Record<string, string> = {
        [CLOUD_EVENTS_HEADERS.specversion]: CLOUD_EVENTS_SPEC_VERSION,
        [CLOUD_EVENTS_HEADERS.awpsVersion]: AWPS_VERSION,
        [CLOUD_EVENTS_HEADERS.source]: `/hubs/${call.hub}/client/${call.connectionId}`,
        [CLOUD_EVENTS_HEADERS.hub]: call.hub,
        [CLOUD_EVENTS_HEADERS.connectionId]: call.connectionId,
        [WEBHOOK_HEADERS.requestOrigin]: origin(),
      };
      if (call.userId !== undefined) headers[CLOUD_EVENTS_HEADERS.userId] = call.userId;
      if (signature !== undefined) headers[CLOUD_EVENTS_HEADERS.signature] = signature;
      return headers;
    },
    callHeaders: (call) => ({
      [CLOUD_EVENTS_HEADERS.type]: cloudEventType(call),
      [CLOUD_EVENTS_HEADERS.id]: randomUUID(),
      [CLOUD_EVENTS_HEADERS.time]: new Date().toISOString(),
      [CLOUD_EVENTS_HEADERS.eventName]: call.event,
      ...(call.contentType ? { 'Content-Type': call.contentType } : {}),
      ...call.headers,
    }),
    isLastCall: (call) =>
      call.category === UPSTREAM_CATEGORIES.connections && call.event === SYSTEM_EVENT_NAMES.disconnected,
    isOpeningCall: (call) =>
      call.category === UPSTREAM_CATEGORIES.connections && call.event === SYSTEM_EVENT_NAMES.connect,
  };
}
