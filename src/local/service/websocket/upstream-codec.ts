/**
 * The raw-WebSocket wing's upstream codec: Azure SignalR's `X-ASRS-*` headers; a refused `connect` ends a
 * connection before it began and `disconnect` ends it; an answer body is a frame for the client
 * (docs/local-service.md, "Upstream calls").
 */
import { UPSTREAM_CATEGORIES, WEBSOCKET_EVENTS } from '../../../lib/signalr/upstream-contract.js';
import type { OutboundMessage } from '../connections.js';
import { asrsCallHeaders, asrsConnectionHeaders } from '../upstream/asrs-headers.js';
import type { UpstreamCodec } from '../upstream/call.js';

export const WEBSOCKET_UPSTREAM: UpstreamCodec = {
  connectionHeaders: asrsConnectionHeaders,
  callHeaders: asrsCallHeaders,
  isLastCall: (call) =>
    call.category === UPSTREAM_CATEGORIES.connections && call.event === WEBSOCKET_EVENTS.disconnect,
  isOpeningCall: (call) =>
    call.category === UPSTREAM_CATEGORIES.connections && call.event === WEBSOCKET_EVENTS.connect,
};

/** An upstream answer body as a frame: `application/octet-stream` is binary, anything else text. */
export function frameOf(body: Buffer, contentType: string | null): OutboundMessage {
  return contentType?.toLowerCase().startsWith('application/octet-stream')
    ? { kind: 'binary', data: body }
    : { kind: 'text', text: body.toString('utf8') };
}
