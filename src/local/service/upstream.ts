/**
 * Upstream calls: template matching, the `X-ASRS-*` headers and signature, a timeout per call, bounded
 * retries with backoff for notifications, and a per-connection queue that keeps one call in flight per
 * connection (so a connection's messages reach the app in order while different connections run in parallel).
 */
import { validateHeaderValue } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { setBounded } from '../../lib/bounded-map.js';
import { signatureHeader } from '../../lib/signalr/signature.js';
import {
  SIGNALR_EVENTS,
  UPSTREAM_CATEGORIES,
  UPSTREAM_HEADERS,
  type UpstreamCategory,
  WEBSOCKET_EVENTS,
} from '../../lib/signalr/upstream-contract.js';
import { ManagedIdentityTokens } from '../identity/client.js';
import { FairScheduler, SHED } from './fair-scheduler.js';
import type { ResolvedServiceOptions, ServiceLog, UpstreamTemplate } from './options.js';
import { type ResponseHeaders, UpstreamTransport } from './upstream-transport.js';

/** One upstream call, described independently of the dialect. */
export interface UpstreamCall {
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

/** Whether `name` matches a pattern: unset or `*` matches all; otherwise a comma list, case-insensitively. */
export function patternMatches(pattern: string | undefined, name: string): boolean {
  if (pattern === undefined) return true;
  const wanted = name.toLowerCase();
  return pattern
    .split(',')
    .map((part) => part.trim().toLowerCase())
    .some((part) => part === '*' || part === wanted);
}

/** The first template that matches, if any. */
export function findTemplate(
  templates: readonly UpstreamTemplate[],
  hub: string,
  category: string,
  event: string,
): UpstreamTemplate | undefined {
  return templates.find(
    (t) =>
      patternMatches(t.hubPattern, hub) &&
      patternMatches(t.categoryPattern, category) &&
      patternMatches(t.eventPattern, event),
  );
}

/** Substitutes `{hub}`, `{category}`, `{event}` (URL-encoded) into a template. */
export function expandUrl(urlTemplate: string, hub: string, category: string, event: string): string {
  const values: Record<string, string> = { hub, category, event };
  return urlTemplate.replace(/\{(hub|category|event)\}/gi, (_, name: string) =>
    encodeURIComponent(values[name.toLowerCase()] ?? ''),
  );
}

/**
 * Upstream signatures remembered, one per connection between its first call and its last (the oldest are
 * forgotten first beyond this; a forgotten one is only computed again).
 */
export const MAX_CACHED_SIGNATURES = 65_536;

/**
 * The request headers of a call. `X-ASRS-Signature` is sent when the service has access keys (key mode); with
 * local auth disabled there are none to sign with, so identity mode sends none. `signature` is the
 * connection's signature when already computed.
 */
export function upstreamHeaders(
  call: UpstreamCall,
  accessKeys: readonly string[],
  signature?: string,
): Record<string, string> {
  const headers: Record<string, string> = {
    [UPSTREAM_HEADERS.hub]: call.hub,
    [UPSTREAM_HEADERS.category]: call.category,
    [UPSTREAM_HEADERS.event]: call.event,
    [UPSTREAM_HEADERS.connectionId]: call.connectionId,
  };
  if (accessKeys.length > 0)
    headers[UPSTREAM_HEADERS.signature] = signature ?? signatureHeader(accessKeys, call.connectionId);
  addIdentityHeaders(headers, call);
  addCallHeaders(headers, call);
  return headers;
}

/** The user, claims and client query headers: the same on every call of a connection. */
function addIdentityHeaders(headers: Record<string, string>, call: UpstreamCall): void {
  if (call.userId !== undefined) headers[UPSTREAM_HEADERS.userId] = call.userId;
  if (call.claims && call.claims.length > 0) {
    headers[UPSTREAM_HEADERS.userClaims] = call.claims.map(([type, value]) => `${type}: ${value}`).join(', ');
  }
  if (call.clientQuery) headers[UPSTREAM_HEADERS.clientQuery] = call.clientQuery;
}

/** The headers that describe one call's request rather than its connection. */
const CALL_HEADER_NAMES = ['Sec-WebSocket-Protocol', 'Content-Type'] as const;

function addCallHeaders(headers: Record<string, string>, call: UpstreamCall): void {
  if (call.subprotocols && call.subprotocols.length > 0) {
    headers['Sec-WebSocket-Protocol'] = call.subprotocols.join(', ');
  }
  if (call.contentType) headers['Content-Type'] = call.contentType;
}

/** The first of `names` (default: all) whose value Node would refuse to send, if any. */
function invalidHeader(
  headers: Readonly<Record<string, string>>,
  ...names: readonly string[]
): string | undefined {
  for (const name of names.length > 0 ? names : Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined) continue;
    try {
      validateHeaderValue(name, value);
    } catch {
      return name;
    }
  }
  return undefined;
}

/** What a connection sends on every call, built once (see {@link Upstream}). */
interface ConnectionHeaders {
  readonly hub: string;
  readonly userId: string | undefined;
  readonly claims: UpstreamCall['claims'];
  readonly clientQuery: string | undefined;
  readonly signature: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  /** The first of these headers Node would refuse to send, if any. */
  readonly invalid: string | undefined;
}

/** A template that matches a hub, category and event, with the URL it gives them. */
interface Route {
  readonly template: UpstreamTemplate;
  readonly url: URL;
}

/** Routes remembered (hub, category and event to template and URL; the oldest are forgotten first beyond this). */
export const MAX_CACHED_ROUTES = 4_096;

/** Makes upstream calls with the service's templates, keys and limits. */
export class Upstream {
  #templates: readonly UpstreamTemplate[];

  constructor(
    private readonly options: Pick<
      ResolvedServiceOptions,
      | 'accessKeys'
      | 'upstreamTimeoutMs'
      | 'notificationAttempts'
      | 'retryBaseDelayMs'
      | 'retryMaxDelayMs'
      | 'maxMessageBytes'
      | 'upstreamMaxSockets'
      | 'maxPendingRetries'
      | 'maxConcurrentUpstreamCalls'
    > &
      Partial<Pick<ResolvedServiceOptions, 'auth' | 'managedIdentity'>> & {
        readonly upstream: readonly UpstreamTemplate[];
        readonly log: ServiceLog;
      },
  ) {
    this.#templates = options.upstream;
    this.#transport = new UpstreamTransport({ maxSockets: options.upstreamMaxSockets });
    this.scheduler = new FairScheduler(options.maxConcurrentUpstreamCalls);
    this.#signingKeys = options.auth === 'identity' ? [] : options.accessKeys;
    this.#identity = options.managedIdentity ? new ManagedIdentityTokens(options.managedIdentity) : undefined;
  }

  /** The keys upstream calls are signed with: none in identity mode (its one key only signs client tokens). */
  readonly #signingKeys: readonly string[];
  /** The service's own managed identity (ManagedIdentity upstream auth). */
  readonly #identity: ManagedIdentityTokens | undefined;

  readonly #transport: UpstreamTransport;
  /**
   * The headers of a connection that are the same on every call (hub, id, signature, user, claims, client
   * query), built and checked at its first call and kept until its last (a disconnect, or a refused connect),
   * not once per message. The signature is the HMAC of the id under every key.
   */
  readonly #connections = new Map<string, ConnectionHeaders>();

  /** How many connections' headers (and signatures) are remembered (for tests: none once every connection has ended). */
  get cachedSignatures(): number {
    return this.#connections.size;
  }

  #connectionHeaders(call: UpstreamCall): ConnectionHeaders {
    const cached = this.#connections.get(call.connectionId);
    if (
      cached !== undefined &&
      cached.hub === call.hub &&
      cached.userId === call.userId &&
      cached.claims === call.claims &&
      cached.clientQuery === call.clientQuery
    ) {
      return cached;
    }
    // The same connection with other values (a connect answer that set the user): built again, same signature.
    const signature =
      this.#signingKeys.length === 0
        ? undefined
        : (cached?.signature ?? signatureHeader(this.#signingKeys, call.connectionId));
    const headers: Record<string, string> = {
      [UPSTREAM_HEADERS.hub]: call.hub,
      [UPSTREAM_HEADERS.connectionId]: call.connectionId,
    };
    if (signature !== undefined) headers[UPSTREAM_HEADERS.signature] = signature;
    addIdentityHeaders(headers, call);
    const entry: ConnectionHeaders = {
      hub: call.hub,
      userId: call.userId,
      claims: call.claims,
      clientQuery: call.clientQuery,
      signature,
      headers,
      invalid: invalidHeader(headers),
    };
    setBounded(this.#connections, call.connectionId, entry, MAX_CACHED_SIGNATURES);
    return entry;
  }

  /** Where each hub, category and event goes: the matching template and its URL (undefined: none matches). */
  #routes = new Map<string, Route | undefined>();

  #route(call: UpstreamCall): Route | undefined {
    const key = `${call.hub}\n${call.category}\n${call.event}`;
    if (this.#routes.has(key)) return this.#routes.get(key);
    const template = findTemplate(this.#templates, call.hub, call.category, call.event);
    const route = template && {
      template,
      url: new URL(expandUrl(template.urlTemplate, call.hub, call.category, call.event)),
    };
    setBounded(this.#routes, key, route, MAX_CACHED_ROUTES);
    return route;
  }
  /** Shares the upstream fairly between users (see fair-scheduler.ts). */
  readonly scheduler: FairScheduler;
  /** Notifications waiting for their next attempt. */
  #retrying = 0;

  /** Closes the pooled upstream connections (the service's `close()` calls this last). */
  close(): void {
    this.#transport.close();
  }

  /** The templates in use (the management endpoint reads and replaces them). */
  get templates(): readonly UpstreamTemplate[] {
    return this.#templates;
  }

  set templates(templates: readonly UpstreamTemplate[]) {
    this.#templates = [...templates];
    this.#routes = new Map();
  }

  /** A blocking call: one attempt; the caller turns a failure into what the client sees. */
  async call(call: UpstreamCall, options: CallOptions = {}): Promise<UpstreamOutcome> {
    const outcome = await this.#scheduled(call, options);
    if (outcome.kind !== 'no-template' && outcome.kind !== 'shed' && !succeeded(outcome)) {
      this.#logFailure(call, outcome, 1, true);
      // A refused connect is the connection's last call: no disconnect follows.
      if (call.event === WEBSOCKET_EVENTS.connect) this.#connections.delete(call.connectionId);
    }
    return outcome;
  }

  /**
   * A notification: retried with exponential backoff (bounded by `retryMaxDelayMs`, at most
   * `notificationAttempts` attempts) on network failures, timeouts, 429 and 5xx. Other 4xx are final. A retry
   * is given up when its connection is gone (`wanted`) or when `maxPendingRetries` notifications already wait
   * to be retried: under overload, retries would only add to it.
   */
  async notify(call: UpstreamCall, options: CallOptions = {}): Promise<UpstreamOutcome> {
    try {
      return await this.#notify(call, options);
    } finally {
      if (isLastCall(call)) this.#connections.delete(call.connectionId);
    }
  }

  async #notify(call: UpstreamCall, options: CallOptions): Promise<UpstreamOutcome> {
    const attempts = this.options.notificationAttempts;
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.#scheduled(call, options);
      if (outcome.kind === 'no-template' || outcome.kind === 'shed' || succeeded(outcome)) return outcome;
      const retryable =
        outcome.kind === 'response'
          ? outcome.status === 429 || outcome.status >= 500
          : outcome.kind !== 'invalid-call';
      const busy = this.#retrying >= this.options.maxPendingRetries;
      const final = !retryable || attempt >= attempts || busy;
      this.#logFailure(call, outcome, attempt, final, busy && retryable && attempt < attempts);
      if (final) return outcome;
      const backoff = Math.min(
        this.options.retryMaxDelayMs,
        this.options.retryBaseDelayMs * 2 ** (attempt - 1),
      );
      this.#retrying++;
      try {
        await delay(backoff);
      } finally {
        this.#retrying--;
      }
      if (options.wanted && !options.wanted()) {
        this.options.log('info', `Upstream ${call.event} call not retried: the connection is gone`, {
          hub: call.hub,
          event: call.event,
          connectionId: call.connectionId,
          attempt,
        });
        return {
          kind: 'shed',
          message: 'the connection left before the call could be retried',
          attempted: true,
        };
      }
    }
  }

  /** One attempt, when the fair scheduler gives the call's lane a turn. */
  async #scheduled(call: UpstreamCall, options: CallOptions): Promise<UpstreamOutcome> {
    const lane =
      call.lane ?? (call.userId !== undefined ? `user:${call.userId}` : `connection:${call.connectionId}`);
    const outcome = await this.scheduler.run(lane, () => this.#attempt(call), options.wanted);
    if (outcome !== SHED) return outcome;
    this.options.log('info', `Upstream ${call.event} call skipped: the connection left while it waited`, {
      hub: call.hub,
      event: call.event,
      connectionId: call.connectionId,
    });
    return { kind: 'shed', message: 'the connection left before the call was sent', attempted: false };
  }

  async #attempt(call: UpstreamCall): Promise<UpstreamOutcome> {
    const route = this.#route(call);
    if (!route) return { kind: 'no-template' };
    const { template, url } = route;
    const timeoutMs = this.options.upstreamTimeoutMs;
    const max = this.options.maxMessageBytes;
    const connection = this.#connectionHeaders(call);
    const headers: Record<string, string> = {
      ...connection.headers,
      [UPSTREAM_HEADERS.category]: call.category,
      [UPSTREAM_HEADERS.event]: call.event,
    };
    addCallHeaders(headers, call);
    // A value Node cannot put in a header (CR, LF, NUL, non-Latin-1) would throw inside the request; callers
    // check client-chosen names first (event-names.ts), this keeps any other value from failing the connection.
    // The connection's own headers were checked once, when they were built.
    const invalid =
      connection.invalid ??
      invalidHeader(headers, UPSTREAM_HEADERS.category, UPSTREAM_HEADERS.event, ...CALL_HEADER_NAMES);
    if (invalid !== undefined) {
      return {
        kind: 'invalid-call',
        message: `the call cannot be sent upstream: its ${invalid} header would not be valid HTTP`,
      };
    }
    if (template.auth?.type === 'ManagedIdentity') {
      const resource = template.auth.managedIdentity.resource;
      try {
        const token = await (this.#identity as ManagedIdentityTokens).token(resource);
        headers.Authorization = `Bearer ${token}`;
      } catch (error) {
        return {
          kind: 'unreachable',
          message: `no managed identity token for the upstream (${(error as Error).message})`,
        };
      }
    }
    // Without a type, a text body (or none) goes as text/plain and bytes untyped, as fetch sent them before.
    if (!call.contentType && !Buffer.isBuffer(call.body))
      headers['Content-Type'] = 'text/plain;charset=UTF-8';
    const result = await this.#transport.post(url, headers, call.body ?? '', timeoutMs, max);
    switch (result.kind) {
      case 'response':
        return result;
      case 'timeout':
        return {
          kind: 'timeout',
          message: `the upstream did not answer within ${timeoutMs} ms (upstreamTimeoutMs)`,
        };
      case 'too-large':
        return tooLarge(max);
      case 'unreachable':
        return {
          kind: 'unreachable',
          message: `the upstream is unreachable${result.code ? ` (${result.code})` : ''}`,
        };
    }
  }

  #logFailure(
    call: UpstreamCall,
    outcome: UpstreamOutcome,
    attempt: number,
    final: boolean,
    shedRetry = false,
  ): void {
    this.options.log(final ? 'error' : 'warn', `Upstream ${call.event} call failed`, {
      hub: call.hub,
      event: call.event,
      connectionId: call.connectionId,
      ...(outcome.kind === 'response' ? { status: outcome.status } : { error: describeFailure(outcome) }),
      attempt,
      ...(final ? {} : { retrying: true }),
      ...(shedRetry ? { notRetried: 'maxPendingRetries notifications already wait to be retried' } : {}),
    });
  }
}

/** A connection's disconnect notification, of either dialect: nothing about it follows. */
function isLastCall(call: UpstreamCall): boolean {
  return (
    call.category === UPSTREAM_CATEGORIES.connections &&
    (call.event === WEBSOCKET_EVENTS.disconnect || call.event === SIGNALR_EVENTS.disconnected)
  );
}

function tooLarge(max: number): UpstreamOutcome {
  return {
    kind: 'too-large',
    message: `the upstream response is larger than ${max} bytes (maxMessageBytes)`,
  };
}

/**
 * Runs tasks one at a time in submission order: the per-connection queue. `size` counts queued and running
 * tasks so the caller can apply backpressure to the client socket.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** Queues a task; its result (or rejection) is returned, and never blocks later tasks. */
  run<T>(task: () => Promise<T>): Promise<T> {
    this.#size++;
    const result = this.#tail.then(task);
    this.#tail = result.then(this.#settled, this.#settled);
    return result;
  }

  readonly #settled = (): void => {
    this.#size--;
  };
}
