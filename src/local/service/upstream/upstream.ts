/**
 * The upstream caller of every wing: template routes, a timeout per call, retries with backoff for
 * notifications, the signature, and the fair scheduler (docs/local-service.md, "Upstream calls").
 */
import { validateHeaderValue } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { setBounded } from '../../../lib/bounded-map.js';
import { signatureHeader } from '../../../lib/signalr/signature.js';
import { ManagedIdentityTokens } from '../../identity/client.js';
import type { ResolvedServiceOptions, ServiceLog, UpstreamTemplate } from '../options.js';
import {
  type CallOptions,
  describeFailure,
  succeeded,
  type UpstreamCall,
  type UpstreamOutcome,
} from './call.js';
import { FairScheduler, SHED } from './fair-scheduler.js';
import { expandUrl, findTemplate } from './templates.js';
import { UpstreamTransport } from './upstream-transport.js';
import { UserBacklog } from './user-backlog.js';

/**
 * Upstream signatures remembered, one per connection between its first call and its last (the oldest are
 * forgotten first beyond this; a forgotten one is only computed again).
 */
export const MAX_CACHED_SIGNATURES = 65_536;

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
  /** The same as a list of names and values, as the transport takes them. */
  readonly list: readonly string[];
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

/** The longest hub, category and event (together) whose route a wing's template remembers. */
export const MAX_CACHED_ROUTE_KEY_LENGTH = 512;

/** What the caller reads of the service options. */
type UpstreamOptions = Pick<
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
  | 'maxQueuedUpstreamCallsPerUser'
  | 'maxQueuedUpstreamCallsTotal'
  | 'maxConcurrentUpstreamCallsPerUser'
> &
  Partial<Pick<ResolvedServiceOptions, 'auth' | 'managedIdentity'>> & {
    readonly upstream: readonly UpstreamTemplate[];
    readonly log: ServiceLog;
  };

/** Makes upstream calls with the service's templates, keys and limits. */
export class Upstream {
  readonly #templates: readonly UpstreamTemplate[];

  readonly #options: UpstreamOptions;

  constructor(options: UpstreamOptions) {
    this.#options = options;
    this.#templates = options.upstream;
    this.#transport = new UpstreamTransport({ maxSockets: options.upstreamMaxSockets });
    this.scheduler = new FairScheduler(
      options.maxConcurrentUpstreamCalls,
      options.maxConcurrentUpstreamCallsPerUser,
    );
    this.backlog = new UserBacklog({
      perUser: options.maxQueuedUpstreamCallsPerUser,
      total: options.maxQueuedUpstreamCallsTotal,
    });
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
    const keys = this.#signingKeys.length === 0 ? [] : (call.codec.signingKeys ?? this.#signingKeys);
    const signature =
      keys.length === 0 ? undefined : (cached?.signature ?? signatureHeader(keys, call.connectionId));
    const headers = call.codec.connectionHeaders(call, signature);
    const entry: ConnectionHeaders = {
      hub: call.hub,
      userId: call.userId,
      claims: call.claims,
      clientQuery: call.clientQuery,
      signature,
      headers,
      list: Object.entries(headers).flat(),
      invalid: invalidHeader(headers),
    };
    setBounded(this.#connections, call.connectionId, entry, MAX_CACHED_SIGNATURES);
    return entry;
  }

  /** Where each hub, category and event goes: the matching template and its URL (undefined: none matches). */
  readonly #routes = new Map<string, Route | undefined>();

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
  /**
   * The URLs a wing's own templates give each hub, category and event, per template object (a wing keeps one
   * object per template while the service runs, Web PubSub's event-handlers.ts).
   */
  readonly #templateRoutes = new WeakMap<UpstreamTemplate, Map<string, Route>>();

  #templateRoute(template: UpstreamTemplate, call: UpstreamCall): Route {
    let routes = this.#templateRoutes.get(template);
    if (routes === undefined) {
      routes = new Map();
      this.#templateRoutes.set(template, routes);
    }
    const key = `${call.hub}\n${call.category}\n${call.event}`;
    let route = routes.get(key);
    if (route === undefined) {
      route = {
        template,
        url: new URL(expandUrl(template.urlTemplate, call.hub, call.category, call.event)),
      };
      // A long client-chosen event name is not remembered: 4 096 of them could hold a lot of memory.
      if (key.length <= MAX_CACHED_ROUTE_KEY_LENGTH) setBounded(routes, key, route, MAX_CACHED_ROUTES);
    }
    return route;
  }

  /** Shares the upstream fairly between users (see fair-scheduler.ts). */
  readonly scheduler: FairScheduler;
  /** Client messages waiting per user, bounded (see user-backlog.ts). */
  readonly backlog: UserBacklog;
  /** Notifications waiting for their next attempt. */
  #retrying = 0;

  /** Closes the pooled upstream connections (the service's `close()` calls this last). */
  close(): void {
    this.#transport.close();
  }

  /** The templates in use. */
  get templates(): readonly UpstreamTemplate[] {
    return this.#templates;
  }

  /** A blocking call: one attempt; the caller turns a failure into what the client sees. */
  async call(call: UpstreamCall, options: CallOptions = {}): Promise<UpstreamOutcome> {
    const outcome = await this.#scheduled(call, options);
    if (outcome.kind !== 'no-template' && outcome.kind !== 'shed' && !succeeded(outcome)) {
      this.#logFailure(call, outcome, 1, true);
      // A refused connect is the connection's last call: no disconnect follows.
      if (call.codec.isOpeningCall(call)) this.#connections.delete(call.connectionId);
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
      if (call.codec.isLastCall(call)) this.#connections.delete(call.connectionId);
    }
  }

  async #notify(call: UpstreamCall, options: CallOptions): Promise<UpstreamOutcome> {
    const attempts = this.#options.notificationAttempts;
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.#scheduled(call, options);
      if (outcome.kind === 'no-template' || outcome.kind === 'shed' || succeeded(outcome)) return outcome;
      const retryable =
        outcome.kind === 'response'
          ? outcome.status === 429 || outcome.status >= 500
          : outcome.kind !== 'invalid-call';
      const busy = this.#retrying >= this.#options.maxPendingRetries;
      const final = !retryable || attempt >= attempts || busy;
      this.#logFailure(call, outcome, attempt, final, busy && retryable && attempt < attempts);
      if (final) return outcome;
      const backoff = Math.min(
        this.#options.retryMaxDelayMs,
        this.#options.retryBaseDelayMs * 2 ** (attempt - 1),
      );
      this.#retrying++;
      try {
        await delay(backoff);
      } finally {
        this.#retrying--;
      }
      if (options.wanted && !options.wanted()) {
        this.#options.log('info', `Upstream ${call.event} call not retried: the connection is gone`, {
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
    this.#options.log('info', `Upstream ${call.event} call skipped: the connection left while it waited`, {
      hub: call.hub,
      event: call.event,
      connectionId: call.connectionId,
    });
    return { kind: 'shed', message: 'the connection left before the call was sent', attempted: false };
  }

  async #attempt(call: UpstreamCall): Promise<UpstreamOutcome> {
    if (call.template === null) return { kind: 'no-template' };
    const route = call.template ? this.#templateRoute(call.template, call) : this.#route(call);
    if (!route) return { kind: 'no-template' };
    const { template, url } = route;
    const admitted = call.codec.admits?.(url) ?? true;
    if (admitted !== true && !(await admitted)) {
      return {
        kind: 'invalid-call',
        message: `the host ${url.host} did not accept the abuse-protection handshake (WebHook-Allowed-Origin)`,
      };
    }
    const timeoutMs = this.#options.upstreamTimeoutMs;
    const max = this.#options.maxMessageBytes;
    const connection = this.#connectionHeaders(call);
    const own = call.codec.callHeaders(call);
    // A list, not one object of both: the codec never names a header in both (call.ts), and a list is what
    // the transport gives Node.
    const headers = [...connection.list];
    for (const name of Object.keys(own)) headers.push(name, own[name] as string);
    // A value Node cannot put in a header (CR, LF, NUL, non-Latin-1) would throw inside the request; wings
    // check client-chosen names first (signalr/upstream-codec.ts), this keeps any other value from failing
    // the connection. The connection's own headers were checked once, when they were built.
    const invalid = connection.invalid ?? invalidHeader(own);
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
        headers.push('Authorization', `Bearer ${token}`);
      } catch (error) {
        return {
          kind: 'unreachable',
          message: `no managed identity token for the upstream (${(error as Error).message})`,
        };
      }
    }
    // Without a type, a text body (or none) goes as text/plain and bytes untyped, as fetch sent them before.
    if (!call.contentType && !Buffer.isBuffer(call.body))
      headers.push('Content-Type', 'text/plain;charset=UTF-8');
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
    this.#options.log(final ? 'error' : 'warn', `Upstream ${call.event} call failed`, {
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

function tooLarge(max: number): UpstreamOutcome {
  return {
    kind: 'too-large',
    message: `the upstream response is larger than ${max} bytes (maxMessageBytes)`,
  };
}
