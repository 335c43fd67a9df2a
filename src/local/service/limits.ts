/**
 * The limits of the local service, declared once: each with its default, unit, range and what it bounds. The
 * option types, the defaults, the validation, the command-line flags and the table in docs/local-service.md,
 * "Limits" are all derived from {@link LIMITS}.
 */

import { DEFAULT_MAX_MESSAGEPACK_DEPTH } from '../../lib/signalr/messagepack.js';
import {
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_HTTP_KEEP_ALIVE_TIMEOUT_MS,
  DEFAULT_MAX_SOCKETS,
  DEFAULT_MAX_SOCKETS_PER_ADDRESS,
  DEFAULT_REQUEST_TIMEOUT_MS,
} from '../socket-guard.js';
import { DEFAULT_MAX_CONCURRENT_SENDS_PER_ADDRESS } from './transports/send-slots.js';

/**
 * Ack ids a Web PubSub connection remembers to answer a message sent again with `Duplicate` (the oldest are
 * forgotten first): the option `webPubSubMaxRememberedAckIds`. Each is a few dozen bytes of one connection's
 * memory; a client resends within seconds, so a thousand covers any resend it makes in time.
 */
export const DEFAULT_WEBPUBSUB_MAX_REMEMBERED_ACK_IDS = 1_024;

/** What the number of a limit counts. */
export type LimitUnit = 'bytes' | 'count' | 'ms' | 'per second';

/** One limit of the local service. */
export interface LimitSpec {
  /** The value when the option is unset. */
  readonly default: number;
  readonly unit: LimitUnit;
  /** Whole numbers only. Every limit is above 0, and a duration (`ms`) at most {@link MAX_DURATION_MS}. */
  readonly integer: boolean;
  /** Another limit this one may not exceed. */
  readonly atMost?: string;
  /** The flag of `npm run service` that sets it, when it has one. */
  readonly flag?: string;
  /** What it bounds, and the close code or status a client gets past it. One line. */
  readonly doc: string;
  /** Whether Azure SignalR Service enforces a limit of this kind itself. */
  readonly azure: string;
}

/**
 * The longest duration a limit in `ms` may have: Node's timers wait at most 2^31 − 1 ms (about 24.8 days), and
 * a longer delay fires after 1 ms instead, which would turn a long timeout into none.
 */
export const MAX_DURATION_MS = 2 ** 31 - 1;

const KiB = 1024;
const MiB = 1024 * KiB;

/** Every limit, in the order of the table in docs/local-service.md, "Limits". */
export const LIMITS = {
  maxMessageBytes: {
    default: MiB,
    unit: 'bytes',
    integer: false,
    flag: 'max-message-bytes',
    doc: 'a client message (→ 1009), a REST body (→ 413), an upstream response',
    azure: 'yes: 1 MB per message',
  },
  // Each fragment costs bookkeeping however small it is.
  maxMessageFragments: {
    default: 16_384,
    unit: 'count',
    integer: true,
    doc: 'frames one WebSocket message may be split into (→ 1008)',
    azure: 'not documented',
  },
  // MessagePack-CSharp's MessagePackSecurity.UntrustedData.MaximumObjectGraphDepth, which ASP.NET Core SignalR
  // reads a client's MessagePack with; src/lib/signalr/messagepack-bounds.ts says how it is counted.
  maxMessagePackDepth: {
    default: DEFAULT_MAX_MESSAGEPACK_DEPTH,
    unit: 'count',
    integer: true,
    doc: 'arrays and maps nested in one argument of a MessagePack hub message (→ Close message, 1002)',
    azure: 'yes: 500 (MessagePack-CSharp `MessagePackSecurity.UntrustedData`, read by ASP.NET Core SignalR)',
  },
  // ASP.NET Core SignalR joins what its pipe holds (ApplicationMaxBufferSize, 64 KB); a larger message goes alone.
  // Unset, it is also capped at maxMessageBytes.
  maxCoalescedBytes: {
    default: 64 * KiB,
    unit: 'bytes',
    integer: true,
    atMost: 'maxMessageBytes',
    doc: 'what one WebSocket client is sent in one event-loop turn, joined into one message',
    azure: 'not documented; ASP.NET Core joins what its pipe holds (`ApplicationMaxBufferSize`, 64 KB)',
  },
  maxOutboundMessages: {
    default: 1_000,
    unit: 'count',
    integer: false,
    doc: 'messages waiting for a slow client before it is closed (1008)',
    azure: 'no (ours)',
  },
  maxOutboundBytes: {
    default: 16 * MiB,
    unit: 'bytes',
    integer: false,
    doc: 'bytes waiting for a slow client before it is closed (1008)',
    azure: 'no (ours)',
  },
  connectBurstPerAddress: {
    default: 200,
    unit: 'count',
    integer: true,
    doc: 'connects (negotiates, un-negotiated WebSockets, Web PubSub connects and recoveries) one address makes at once',
    azure: 'no (ours): 429 with `Retry-After`',
  },
  // Every transport's connect is counted, with a token used again and again too; 10 a second is what the app's
  // negotiate allows one address (CHAT_NEGOTIATE_PER_MINUTE_PER_ADDRESS, 600 a minute), and what one address
  // can make the app welcome (docs/local-service.md, "Connections").
  connectsPerSecondPerAddress: {
    default: 10,
    unit: 'per second',
    integer: false,
    doc: 'sustained connects per address',
    azure: 'no (ours)',
  },
  // Charged only after the token checks, so nobody spends another user's connects with a forged token.
  connectBurstPerUser: {
    default: 20,
    unit: 'count',
    integer: true,
    doc: 'connects one user (`nameid`) makes at once, counted after the token checks',
    azure: 'no (ours): 429 with `Retry-After`',
  },
  connectsPerSecondPerUser: {
    default: 2,
    unit: 'per second',
    integer: false,
    doc: 'sustained connects per user',
    azure: 'no (ours)',
  },
  // The TCP connection bounds (../socket-guard.ts): one address that opens sockets and drips a header now and
  // then must not hold every file descriptor of the service.
  headersTimeoutMs: {
    default: DEFAULT_HEADERS_TIMEOUT_MS,
    unit: 'ms',
    integer: false,
    atMost: 'requestTimeoutMs',
    doc: "time a client has to send a request's headers after its connection opens or its last request ended (→ 408, closed)",
    azure:
      'not published; Kestrel, which ASP.NET Core SignalR runs on, allows 30 s (`RequestHeadersTimeout`)',
  },
  requestTimeoutMs: {
    default: DEFAULT_REQUEST_TIMEOUT_MS,
    unit: 'ms',
    integer: false,
    doc: 'time a client has to send a whole request, body included (→ 408, closed); not the answer, nor a WebSocket',
    azure:
      'not published; Kestrel has no total, only a minimum of 240 bytes/s after 5 s (`MinRequestBodyDataRate`)',
  },
  // Above the 4 s after which the app's REST client drops an idle pooled connection.
  httpKeepAliveTimeoutMs: {
    default: DEFAULT_HTTP_KEEP_ALIVE_TIMEOUT_MS,
    unit: 'ms',
    integer: false,
    doc: 'how long an idle HTTP connection stays open for its next request',
    azure: 'not published; Kestrel keeps one 130 s (`KeepAliveTimeout`)',
  },
  maxSocketsPerAddress: {
    default: DEFAULT_MAX_SOCKETS_PER_ADDRESS,
    unit: 'count',
    integer: true,
    doc: 'TCP connections one client address holds open at once, WebSockets included; more are closed at once (logged)',
    azure: 'not published',
  },
  maxSockets: {
    default: DEFAULT_MAX_SOCKETS,
    unit: 'count',
    integer: true,
    doc: "TCP connections open at once from all addresses; more are closed at once (logged). Keep it under the process's file limit",
    azure: 'connections per unit: 1 000 on Standard and Premium, 20 on Free',
  },
  // Besides, one connection has one POST in flight at most (a second is 409), as ASP.NET Core reads them one at a
  // time (`HttpConnectionDispatcher`, under its `WriteLock`).
  maxConcurrentSendsPerAddress: {
    default: DEFAULT_MAX_CONCURRENT_SENDS_PER_ADDRESS,
    unit: 'count',
    integer: true,
    doc: 'Server-Sent Events and Long Polling POST bodies one address has in flight (→ 429); one per connection (→ 409)',
    azure: "not published; ASP.NET Core reads one connection's POSTs one at a time",
  },
  maxPendingNegotiations: {
    default: 10_000,
    unit: 'count',
    integer: false,
    doc: 'negotiated connections waiting for their WebSocket (oldest forgotten first)',
    azure: 'no (ours)',
  },
  negotiateTtlMs: {
    default: 120_000,
    unit: 'ms',
    integer: false,
    doc: 'how long a negotiated connection token stays valid',
    azure: 'no (ours)',
  },
  // Waiting calls queue in one lane per user and are taken in turn: one user's storm queues behind that user.
  maxConcurrentUpstreamCalls: {
    default: 64,
    unit: 'count',
    integer: true,
    doc: 'upstream calls in flight; waiting ones queue in one lane per user, in turn',
    azure: "no (ours): Azure's own scheduling is not documented",
  },
  // One user's share of the calls in flight: a flood from many sockets never holds the upstream's capacity.
  maxConcurrentUpstreamCallsPerUser: {
    default: 8,
    unit: 'count',
    integer: true,
    doc: "one user's upstream calls in flight, across their connections; more wait in the user's lane",
    azure: "no (ours): Azure's own scheduling is not documented",
  },
  maxQueuedUpstreamCalls: {
    default: 64,
    unit: 'count',
    integer: false,
    doc: 'calls waiting for one connection before its socket is no longer read',
    azure: 'no (ours)',
  },
  // Counted across all of a user's connections: 40 sockets of one user share one bound, not 40.
  maxQueuedUpstreamCallsPerUser: {
    default: 256,
    unit: 'count',
    integer: true,
    doc: "one user's client messages waiting for or in an upstream call, across their connections; more are refused at once",
    azure: 'not documented: invocations get a Completion error, sends are dropped and logged',
  },
  // Names cost nothing without sign-in: this bounds what many users queue together. A user with nothing
  // waiting still gets one message in, so the others' floods never starve them.
  maxQueuedUpstreamCallsTotal: {
    default: 1024,
    unit: 'count',
    integer: true,
    doc: 'client messages of all users waiting for or in an upstream call; past it only a user with none gets one in',
    azure: 'not documented; a unit bounds connections (1 000 on Standard)',
  },
  upstreamTimeoutMs: {
    default: 20_000,
    unit: 'ms',
    integer: false,
    flag: 'upstream-timeout',
    doc: 'one upstream call',
    azure: 'yes, a timeout of its own',
  },
  clientInvocationTimeoutMs: {
    default: 60_000,
    unit: 'ms',
    integer: false,
    doc: 'a client invocation of the REST API (`:invoke`) waiting for its Completion; 504 past it',
    azure: 'yes, a timeout of its own',
  },
  upstreamMaxSockets: {
    default: 256,
    unit: 'count',
    integer: true,
    doc: 'open connections to one upstream origin (kept alive between calls)',
    azure: 'no (ours)',
  },
  // A call that timed out three times meets an app that is down or overloaded, where more attempts add load.
  notificationAttempts: {
    default: 3,
    unit: 'count',
    integer: true,
    doc: 'attempts of `connected` / `disconnect(ed)` (retried on network errors, timeouts, 429, 5xx)',
    azure: 'Azure retries notifications; how often is not documented',
  },
  retryBaseDelayMs: {
    default: 250,
    unit: 'ms',
    integer: false,
    doc: 'first delay between notification attempts, doubled per attempt',
    azure: '—',
  },
  retryMaxDelayMs: {
    default: 5_000,
    unit: 'ms',
    integer: false,
    doc: 'largest delay between notification attempts',
    azure: '—',
  },
  // So that retries cannot outlive the overload they add to.
  maxPendingRetries: {
    default: 32,
    unit: 'count',
    integer: true,
    doc: 'notifications waiting to be retried at once; past it a failure is final (logged)',
    azure: 'no (ours)',
  },
  handshakeTimeoutMs: {
    default: 15_000,
    unit: 'ms',
    integer: false,
    doc: 'time a SignalR client has to send its handshake after the WebSocket opens',
    azure: 'yes, a timeout of its own',
  },
  keepAliveIntervalMs: {
    default: 15_000,
    unit: 'ms',
    integer: false,
    flag: 'keepalive',
    doc: 'WebSocket pings (dead peers are closed) and SignalR Ping messages',
    azure: 'yes, pings of its own',
  },
  // Long Polling clients prove themselves by polling and are exempt.
  clientTimeoutMs: {
    default: 30_000,
    unit: 'ms',
    integer: false,
    doc: 'silence (Pings included) after which a SignalR client on WebSockets or Server-Sent Events is closed',
    azure: "ASP.NET Core's `ClientTimeoutInterval` is the same 30 s",
  },
  longPollingTimeoutMs: {
    default: 90_000,
    unit: 'ms',
    integer: false,
    doc: 'how long a long poll waits for messages before answering 200 empty',
    azure: "ASP.NET Core's `PollTimeout` is the same 90 s",
  },
  longPollingDisconnectTimeoutMs: {
    default: 15_000,
    unit: 'ms',
    integer: false,
    doc: 'how long a Long Polling connection lives with no poll waiting',
    azure: "ASP.NET Core's `DisconnectTimeout` is the same 15 s",
  },
  statefulReconnectBufferBytes: {
    default: 100_000,
    unit: 'bytes',
    integer: false,
    doc: 'messages kept for a stateful-reconnect client until it acknowledges them; more closes it (1008)',
    azure: '—',
  },
  statefulReconnectWindowMs: {
    default: 15_000,
    unit: 'ms',
    integer: false,
    doc: 'how long a stateful-reconnect connection waits for its client after its WebSocket dropped',
    azure: '—',
  },
  // Learn's "Create reliable WebSocket clients": a client retries its recovery for up to 1 minute.
  webPubSubReconnectWindowMs: {
    default: 60_000,
    unit: 'ms',
    integer: false,
    doc: 'how long a reliable Web PubSub connection waits for its client to recover after its WebSocket dropped',
    azure: 'the connection is kept for the client to recover (1 minute of retries)',
  },
  webPubSubReliableBufferBytes: {
    default: 1_048_576,
    unit: 'bytes',
    integer: false,
    doc: 'messages kept for a reliable Web PubSub client until its sequenceAck; more closes it (1008)',
    azure: 'yes: unacknowledged messages are held "with limit" (size not documented)',
  },
  webPubSubMaxRememberedAckIds: {
    default: DEFAULT_WEBPUBSUB_MAX_REMEMBERED_ACK_IDS,
    unit: 'count',
    integer: true,
    doc: 'ack ids one Web PubSub connection remembers to answer a resent message `Duplicate` (the oldest are forgotten)',
    azure: 'not documented: a repeated ackId is answered `Duplicate`, for how many ids is not published',
  },
  shutdownGraceMs: {
    default: 5_000,
    unit: 'ms',
    integer: false,
    doc: 'how long shutdown waits for clients to acknowledge the 1001 close before cutting them',
    azure: 'no (ours)',
  },
} as const satisfies Record<string, LimitSpec>;

/** The name of a limit: an option of `startService` and a key of the settings file. */
export type LimitName = keyof typeof LIMITS;

/** The limits as options: each optional. */
export type LimitOptions = { readonly [K in LimitName]?: number };

/** The limits with every default applied. */
export type ResolvedLimits = { readonly [K in LimitName]: number };

/** Every limit's name, in table order. */
export const LIMIT_NAMES = Object.keys(LIMITS) as LimitName[];

/** Looks a limit up with the fields every entry may have. */
export function limitSpec(name: LimitName): LimitSpec {
  return LIMITS[name];
}

/** The default of every limit. */
export const LIMIT_DEFAULTS = Object.fromEntries(
  LIMIT_NAMES.map((name) => [name, LIMITS[name].default]),
) as ResolvedLimits;

/**
 * Applies the defaults to the limits and checks each: a finite number above 0, whole where the table says so,
 * a duration no longer than a timer can wait, and not above the limit it is bounded by. `fail` builds the error, which names the option and what it needs.
 */
export function resolveLimits(options: LimitOptions, fail: (message: string) => Error): ResolvedLimits {
  const limits = {} as Record<LimitName, number>;
  for (const name of LIMIT_NAMES) {
    const spec = limitSpec(name);
    const value: unknown = options[name] ?? spec.default;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw fail(`${name} must be a positive number (default ${spec.default}), not ${String(value)}`);
    }
    if (spec.integer && !Number.isInteger(value)) {
      throw fail(`${name} must be a whole number`);
    }
    if (spec.unit === 'ms' && value > MAX_DURATION_MS) {
      throw fail(
        `${name} must be at most ${MAX_DURATION_MS} ms (about 24.8 days, the longest a timer waits), not ${value}`,
      );
    }
    limits[name] = value;
  }
  for (const name of LIMIT_NAMES) {
    const spec = limitSpec(name);
    const bound = spec.atMost as LimitName | undefined;
    if (bound === undefined) continue;
    if (options[name] === undefined) {
      // An unset limit follows the one it is bounded by down (to a whole number if it must be one).
      const cap = spec.integer ? Math.floor(limits[bound]) : limits[bound];
      limits[name] = Math.min(limits[name], cap);
    } else if (limits[name] > limits[bound]) {
      throw fail(`${name} (${limits[name]}) must not exceed ${bound} (${limits[bound]})`);
    }
  }
  return limits;
}
