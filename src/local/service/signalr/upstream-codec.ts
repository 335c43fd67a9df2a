/**
 * The SignalR wing's upstream codec: Azure SignalR's `X-ASRS-*` headers, a connection's upstream life ending
 * with its `disconnected` notification, and which invocation targets can travel upstream as event names
 * (docs/local-service.md, "Upstream calls" and "Invocation targets as event names").
 */
import { SIGNALR_EVENTS, UPSTREAM_CATEGORIES } from '../../../lib/signalr/upstream-contract.js';
import { asrsCallHeaders, asrsConnectionHeaders } from '../upstream/asrs-headers.js';
import type { UpstreamCodec } from '../upstream/call.js';

export const SIGNALR_UPSTREAM: UpstreamCodec = {
  connectionHeaders: asrsConnectionHeaders,
  callHeaders: asrsCallHeaders,
  isLastCall: (call) =>
    call.category === UPSTREAM_CATEGORIES.connections && call.event === SIGNALR_EVENTS.disconnected,
  // `connected` is a notification, sent after the handshake: no call of this wing can refuse a connection.
  isOpeningCall: () => false,
};

/** Visible ASCII and the space: what a header value can hold unchanged (tabs are refused too, for clarity). */
const HEADER_SAFE = /^[\x20-\x7e]+$/;

/** Why `name` cannot be an upstream event name, or `undefined` when it can. */
export function eventNameProblem(name: string): string | undefined {
  if (name === '') return 'the target is empty';
  if (!HEADER_SAFE.test(name)) {
    return 'the target must be printable ASCII (no control characters such as CR, LF or NUL, nor non-ASCII letters), because it travels in the X-ASRS-Event header';
  }
  if (name !== name.trim()) return 'the target must not start or end with a space';
  if (name === '.' || name === '..') return `the target '${name}' is a URL dot segment`;
  return undefined;
}

/** A target as a log or error message may show it: JSON-quoted (control characters escaped), at most 64 characters. */
export function quoteTarget(name: string): string {
  const shown = name.length > 64 ? `${name.slice(0, 64)}…` : name;
  return JSON.stringify(shown);
}
