/**
 * What an upstream call is, what became of it, and the seam each wing fills: its {@link UpstreamCodec}
 * (docs/local-service.md, "Upstream calls").
 */
import type { UpstreamCategory } from '../../../lib/signalr/upstream-contract.js';
import type { UpstreamTemplate } from '../options.js';
import type { ResponseHeaders } from './upstream-transport.js';

/** One upstream call, described independently of the wing that makes it. */
export interface UpstreamCall {
  /** How the call is written as HTTP: the wing's codec. */
  readonly codec: UpstreamCodec;
  readonly hub: string;
  readonly category: UpstreamCategory;
  readonly event: string;
  readonly connectionId: string;
  readonly userId?: string;
  /** Claims as `[type, value]` pairs, sent as `X-ASRS-User-Claims: type: value, type: value`. */
  readonly claims?: ReadonlyArray<readonly [string, string]>;
  /** The client's query string without `access_token`, with its leading `?` (empty when none). */
  readonly clientQuery?: string;
  /** For connect: the subprotocols the client offered. */
  readonly subprotocols?: readonly string[];
  readonly body?: Buffer | string;
  readonly contentType?: string;
  /**
   * The fair-share lane the call waits in when the upstream is busy (see fair-scheduler.ts). Default the user,
   * else the connection.
   */
  readonly lane?: string;
  /**
   * The template the call goes to, when the wing routes its own calls (Web PubSub's event handlers are set per
   * hub); `null` when none takes the event (the outcome is `no-template`); unset, the service's `upstream`
   * templates decide.
   */
  readonly template?: UpstreamTemplate | null;
  /** Headers of this one call the wing's codec writes (Web PubSub: `ce-connectionState`). */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * How a wing writes its calls as HTTP and which of them bound a connection's life. The shared caller
 * (upstream.ts) keeps a connection's headers and signature from its first call to its last.
 */
export interface UpstreamCodec {
  /** The headers that name the connection, the same on every call of it (`signature`: when the service signs). */
  connectionHeaders(call: UpstreamCall, signature: string | undefined): Record<string, string>;
  /** The headers of one call: its category and event, and what describes its request (none of them a connection header). */
  callHeaders(call: UpstreamCall): Record<string, string>;
  /** A notification after which nothing about its connection follows (its disconnect). */
  isLastCall(call: UpstreamCall): boolean;
  /** A blocking call whose refusal ends its connection before it began (a connect). */
  isOpeningCall(call: UpstreamCall): boolean;
  /**
   * Whether calls may go to the URL at all (Web PubSub's abuse-protection handshake, made once per host);
   * refused, the call is not sent and its outcome is `invalid-call`. Unset: every URL. `true` itself when it is
   * already known, so an admitted call does not wait a turn for it.
   */
  admits?(url: URL): Promise<boolean> | true;
  /**
   * The keys this wing's calls are signed with, when they are not the service's `accessKeys` (Web PubSub has a
   * key set of its own, as a second Azure resource does). Identity mode signs nothing either way.
   */
  readonly signingKeys?: readonly string[];
}

/** How a call may be skipped: `wanted` is asked before each attempt (false: the connection is gone). */
export interface CallOptions {
  readonly wanted?: () => boolean;
}

/** What became of a call. Failures are values, not exceptions: every caller must decide what the client sees. */
export type UpstreamOutcome =
  | {
      readonly kind: 'response';
      readonly status: number;
      readonly headers: ResponseHeaders;
      readonly body: Buffer;
    }
  | { readonly kind: 'no-template' }
  | { readonly kind: 'unreachable'; readonly message: string }
  | { readonly kind: 'timeout'; readonly message: string }
  | { readonly kind: 'too-large'; readonly message: string }
  /** The call cannot be sent as HTTP (a header value or URL it would need is not valid); nothing was sent. */
  | { readonly kind: 'invalid-call'; readonly message: string }
  /**
   * The call was not attempted (`attempted` false), or not attempted again, because its connection left while
   * it waited.
   */
  | { readonly kind: 'shed'; readonly message: string; readonly attempted: boolean };

/** True when the outcome is a 2xx response. */
export function succeeded(outcome: UpstreamOutcome): boolean {
  return outcome.kind === 'response' && outcome.status >= 200 && outcome.status < 300;
}

/** A one-line description of a failed outcome, safe to show to a client. */
export function describeFailure(outcome: UpstreamOutcome): string {
  switch (outcome.kind) {
    case 'response':
      return `the upstream answered ${outcome.status}`;
    case 'no-template':
      return 'no upstream template matches';
    default:
      return outcome.message;
  }
}
