/**
 * Options of the local SignalR Serverless service. Every limit is a named option whose default is written
 * next to it in {@link DEFAULTS}; {@link resolveOptions} validates them and says which one is wrong.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DEV_ACCESS_KEY } from '../dev-constants.js';
import type { ManagedIdentitySource } from '../identity/client.js';
import type { RejectionCode } from './errors.js';

export { DEV_ACCESS_KEY };

/**
 * One upstream template. A pattern is `*`, a comma list (`connect,disconnect`) or one name, matched
 * case-insensitively; an unset pattern matches everything. `urlTemplate` may hold `{hub}`, `{category}` and
 * `{event}`, each URL-encoded when substituted.
 */
export interface UpstreamTemplate {
  readonly hubPattern?: string;
  readonly categoryPattern?: string;
  readonly eventPattern?: string;
  readonly urlTemplate: string;
  /**
   * Azure's upstream auth setting: `{type: 'ManagedIdentity', managedIdentity: {resource}}` puts
   * `Authorization: Bearer <token of the service's identity for resource>` on each call (needs the
   * `managedIdentity` option); unset or `{type: 'None'}` sends none.
   */
  readonly auth?: UpstreamAuth;
}

/** The auth of an upstream template, in Azure's shape. */
export type UpstreamAuth =
  | { readonly type: 'None' }
  | { readonly type: 'ManagedIdentity'; readonly managedIdentity: { readonly resource: string } };

/** How callers of the REST API authenticate: access-key tokens, or (local auth disabled) Entra tokens only. */
export type ServiceAuthMode = 'key' | 'identity';

export type LogLevel = 'info' | 'warn' | 'error';

/** Where the service reports what it does. Fields never hold tokens, keys or query strings. */
export type ServiceLog = (
  level: LogLevel,
  message: string,
  fields?: Readonly<Record<string, unknown>>,
) => void;

/** Options of {@link startService}; every one is optional. */
export interface ServiceOptions {
  /** TCP port; 0 picks a free one. Default 8080. */
  readonly port?: number;
  /** Interface to listen on. Default `127.0.0.1`. */
  readonly host?: string;
  /**
   * `key`: REST tokens are HS256 with an access key. `identity`: Azure with `disableLocalAuth: true` — REST and
   * `:generateToken` take only Entra RS256 tokens (issuer and keys from `entraOpenIdConfiguration`, `aud` =
   * `entraAudience`), access-key tokens are refused (401), upstream calls carry no X-ASRS-Signature, and client
   * tokens are signed with a key only the service knows. Default `key`.
   */
  readonly auth?: ServiceAuthMode;
  /** Identity mode: the OpenID metadata URL whose `issuer` and `jwks_uri` the REST API trusts. Required then. */
  readonly entraOpenIdConfiguration?: string;
  /** Identity mode: the `aud` REST tokens must carry. Default `https://signalr.azure.com`. */
  readonly entraAudience?: string;
  /** The service's own managed identity, for upstream templates with ManagedIdentity auth. Default none. */
  readonly managedIdentity?: ManagedIdentitySource;
  /**
   * The service's public endpoint, like an Azure resource's fixed hostname: client and REST tokens need an
   * `aud` under it (loopback names stand for one another, the port may be omitted). Scheme, host and port only.
   * Default `http://localhost:<port>`.
   */
  readonly endpoint?: string;
  /** Access keys (primary, secondary): tokens signed with any are accepted; upstream calls carry one signature per key. Default the dev key; none in identity mode. */
  readonly accessKeys?: readonly string[];
  /** One URL template for every hub, category and event, or ordered templates (first match wins). Default none: no upstream calls. */
  readonly upstream?: string | readonly UpstreamTemplate[];
  /** Timeout of one upstream call. Default 20 000 ms. */
  readonly upstreamTimeoutMs?: number;
  /** Connections open at once to one upstream origin (kept alive between calls); more calls wait. Default 256. */
  readonly upstreamMaxSockets?: number;
  /**
   * Attempts of a notification upstream call (`disconnect`, `connected`, `disconnected`). Default 3: a call that
   * timed out three times in a row meets an app that is down or overloaded, where more attempts add load.
   */
  readonly notificationAttempts?: number;
  /**
   * Notifications waiting to be retried at once, across all connections; a notification that fails while this
   * many wait is given up (logged), so retries cannot outlive the overload they add to. Default 32.
   */
  readonly maxPendingRetries?: number;
  /**
   * Upstream calls in flight at once; more wait in one lane per user and are taken from the lanes in turn, so
   * one user's storm of connects queues behind that user only. Default 64.
   */
  readonly maxConcurrentUpstreamCalls?: number;
  /** Sustained connects (negotiates, and WebSockets not negotiated first) per client address per second. Default 20. */
  readonly connectsPerSecondPerAddress?: number;
  /** Connects one client address may make at once before {@link connectsPerSecondPerAddress} applies. Default 200. */
  readonly connectBurstPerAddress?: number;
  /** Sustained connects per user (the token's `nameid`) per second. Default 2. */
  readonly connectsPerSecondPerUser?: number;
  /** Connects one user may make at once before {@link connectsPerSecondPerUser} applies. Default 20. */
  readonly connectBurstPerUser?: number;
  /** First retry delay of notifications, doubled per attempt. Default 250 ms. */
  readonly retryBaseDelayMs?: number;
  /** Largest retry delay of notifications. Default 5 000 ms. */
  readonly retryMaxDelayMs?: number;
  /** Largest client frame (→ close 1009), REST body (→ 413) and upstream response forwarded. Default 1 MiB. */
  readonly maxMessageBytes?: number;
  /**
   * Frames one WebSocket message may be split into (ws closes with 1008 beyond: each fragment costs bookkeeping
   * however small it is). Default 16 384.
   */
  readonly maxMessageFragments?: number;
  /** Interval of WebSocket pings (dead peers are closed) and SignalR Ping messages. Default 15 000 ms. */
  readonly keepAliveIntervalMs?: number;
  /** Time a SignalR client has to send its handshake after the WebSocket opens. Default 15 000 ms. */
  readonly handshakeTimeoutMs?: number;
  /**
   * How long a SignalR client may send nothing (its Pings included) before it is closed, on WebSockets and
   * Server-Sent Events; Long Polling clients prove themselves by polling. Default 30 000 ms (ClientTimeout).
   */
  readonly clientTimeoutMs?: number;
  /** How long a long poll waits for messages before answering 200 empty. Default 90 000 ms (ASP.NET Core's PollTimeout). */
  readonly longPollingTimeoutMs?: number;
  /** How long a Long Polling connection lives with no poll waiting. Default 15 000 ms (ASP.NET Core's DisconnectTimeout). */
  readonly longPollingDisconnectTimeoutMs?: number;
  /** Bytes of messages a stateful-reconnect connection keeps until the client acknowledges them; more closes it (1008). Default 100 000. */
  readonly statefulReconnectBufferBytes?: number;
  /** How long a stateful-reconnect connection waits for its client to come back after its WebSocket dropped. Default 15 000 ms. */
  readonly statefulReconnectWindowMs?: number;
  /** Messages queued to one client before it is closed as a slow consumer (1008). Default 1 000. */
  readonly maxOutboundMessages?: number;
  /** Bytes queued to one client before it is closed as a slow consumer (1008). Default 16 MiB. */
  readonly maxOutboundBytes?: number;
  /**
   * Bytes of what one WebSocket client is sent during one event-loop turn that leave together: SignalR records
   * joined into one WebSocket message (as ASP.NET Core SignalR sends them, whose pipe holds up to its
   * `ApplicationMaxBufferSize`, 64 KB), websocket-dialect messages written under one cork. A larger message
   * goes alone. At most {@link maxMessageBytes}. Default 64 KiB (or `maxMessageBytes` when that is smaller).
   */
  readonly maxCoalescedBytes?: number;
  /** Upstream calls waiting for one connection before the service stops reading its socket. Default 64. */
  readonly maxQueuedUpstreamCalls?: number;
  /** Negotiated SignalR connections waiting for their WebSocket. Default 10 000 (oldest forgotten first). */
  readonly maxPendingNegotiations?: number;
  /** How long a negotiated connection token stays valid. Default 120 000 ms. */
  readonly negotiateTtlMs?: number;
  /** How long shutdown waits for clients to acknowledge the 1001 close before cutting them. Default 5 000 ms. */
  readonly shutdownGraceMs?: number;
  /** Log sink. Default: one line per entry on the console. */
  readonly log?: ServiceLog;
  /** Makes connection ids. Default 16 random bytes, base64url. Tests pass fixed ids to check known answers. */
  readonly generateConnectionId?: () => string;
}

/** Options with every default applied. */
export interface ResolvedServiceOptions {
  readonly port: number;
  readonly host: string;
  readonly auth: ServiceAuthMode;
  readonly entraOpenIdConfiguration: string | undefined;
  readonly entraAudience: string;
  readonly managedIdentity: ManagedIdentitySource | undefined;
  /** Key mode: the access keys. Identity mode: one random key that signs and checks client tokens only. */
  /** `undefined` until the port is known: then `http://localhost:<port>`. */
  readonly endpoint: string | undefined;
  readonly accessKeys: readonly string[];
  readonly upstream: readonly UpstreamTemplate[];
  readonly upstreamTimeoutMs: number;
  readonly upstreamMaxSockets: number;
  readonly notificationAttempts: number;
  readonly maxPendingRetries: number;
  readonly maxConcurrentUpstreamCalls: number;
  readonly connectsPerSecondPerAddress: number;
  readonly connectBurstPerAddress: number;
  readonly connectsPerSecondPerUser: number;
  readonly connectBurstPerUser: number;
  readonly retryBaseDelayMs: number;
  readonly retryMaxDelayMs: number;
  readonly maxMessageBytes: number;
  readonly maxMessageFragments: number;
  readonly keepAliveIntervalMs: number;
  readonly handshakeTimeoutMs: number;
  readonly clientTimeoutMs: number;
  readonly longPollingTimeoutMs: number;
  readonly longPollingDisconnectTimeoutMs: number;
  readonly statefulReconnectBufferBytes: number;
  readonly statefulReconnectWindowMs: number;
  readonly maxOutboundMessages: number;
  readonly maxOutboundBytes: number;
  readonly maxCoalescedBytes: number;
  readonly maxQueuedUpstreamCalls: number;
  readonly maxPendingNegotiations: number;
  readonly negotiateTtlMs: number;
  readonly shutdownGraceMs: number;
  readonly log: ServiceLog;
  readonly generateConnectionId: () => string;
}

/** The defaults, in one place. */
export const DEFAULTS = {
  port: 8080,
  host: '127.0.0.1',
  auth: 'key' as ServiceAuthMode,
  entraAudience: 'https://signalr.azure.com',
  accessKeys: [DEV_ACCESS_KEY] as readonly string[],
  upstreamTimeoutMs: 20_000,
  upstreamMaxSockets: 256,
  notificationAttempts: 3,
  maxPendingRetries: 32,
  maxConcurrentUpstreamCalls: 64,
  connectsPerSecondPerAddress: 20,
  connectBurstPerAddress: 200,
  connectsPerSecondPerUser: 2,
  connectBurstPerUser: 20,
  retryBaseDelayMs: 250,
  retryMaxDelayMs: 5_000,
  maxMessageBytes: 1024 * 1024,
  maxMessageFragments: 16_384,
  keepAliveIntervalMs: 15_000,
  handshakeTimeoutMs: 15_000,
  clientTimeoutMs: 30_000,
  longPollingTimeoutMs: 90_000,
  longPollingDisconnectTimeoutMs: 15_000,
  statefulReconnectBufferBytes: 100_000,
  statefulReconnectWindowMs: 15_000,
  maxOutboundMessages: 1_000,
  maxOutboundBytes: 16 * 1024 * 1024,
  maxCoalescedBytes: 64 * 1024,
  maxQueuedUpstreamCalls: 64,
  maxPendingNegotiations: 10_000,
  negotiateTtlMs: 120_000,
  shutdownGraceMs: 5_000,
} as const;

/** A new connection id: 16 random bytes, URL-safe. */
export function randomConnectionId(): string {
  return randomBytes(16).toString('base64url');
}

/** An option that cannot be used; the message names it and says what is expected. */
export class ServiceOptionsError extends Error {
  override readonly name = 'ServiceOptionsError';
  readonly code = 'invalid-option' satisfies RejectionCode;
}

/** The default log: one line per entry; errors and warnings on stderr. */
export const consoleLog: ServiceLog = (level, message, fields) => {
  const line = `[signalr-local] ${level}: ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`;
  if (level === 'info') console.log(line);
  else console.error(line);
};

const LIMIT_NAMES = [
  'upstreamTimeoutMs',
  'upstreamMaxSockets',
  'notificationAttempts',
  'maxPendingRetries',
  'maxConcurrentUpstreamCalls',
  'connectsPerSecondPerAddress',
  'connectBurstPerAddress',
  'connectsPerSecondPerUser',
  'connectBurstPerUser',
  'retryBaseDelayMs',
  'retryMaxDelayMs',
  'maxMessageBytes',
  'maxMessageFragments',
  'keepAliveIntervalMs',
  'handshakeTimeoutMs',
  'clientTimeoutMs',
  'longPollingTimeoutMs',
  'longPollingDisconnectTimeoutMs',
  'statefulReconnectBufferBytes',
  'statefulReconnectWindowMs',
  'maxOutboundMessages',
  'maxOutboundBytes',
  'maxCoalescedBytes',
  'maxQueuedUpstreamCalls',
  'maxPendingNegotiations',
  'negotiateTtlMs',
  'shutdownGraceMs',
] as const;

/** Applies the defaults and validates every option. */
export function resolveOptions(options: ServiceOptions = {}): ResolvedServiceOptions {
  const port = options.port ?? DEFAULTS.port;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ServiceOptionsError(`port must be an integer 0–65535 (0 picks a free port), not ${port}`);
  }
  const host = options.host ?? DEFAULTS.host;
  if (typeof host !== 'string' || host === '')
    throw new ServiceOptionsError('host must be a non-empty string');
  const endpoint = options.endpoint === undefined ? undefined : checkEndpoint(options.endpoint);
  const auth = options.auth ?? DEFAULTS.auth;
  if (auth !== 'key' && auth !== 'identity') {
    throw new ServiceOptionsError(`auth must be "key" or "identity" (default key), not ${String(auth)}`);
  }
  const entraAudience = options.entraAudience ?? DEFAULTS.entraAudience;
  const entraOpenIdConfiguration = options.entraOpenIdConfiguration;
  if (auth === 'identity') {
    if (options.accessKeys !== undefined) {
      throw new ServiceOptionsError(
        'identity mode has no access keys (local auth is disabled): drop accessKeys',
      );
    }
    if (!entraOpenIdConfiguration || !URL.canParse(entraOpenIdConfiguration)) {
      throw new ServiceOptionsError(
        'identity mode needs entraOpenIdConfiguration: the OpenID metadata URL of the tenant whose tokens the REST API accepts',
      );
    }
  }
  // Identity mode: client tokens are still signed by the service, with a key nobody else has.
  const accessKeys =
    auth === 'identity' ? [randomBytes(32).toString('base64')] : (options.accessKeys ?? DEFAULTS.accessKeys);
  if (accessKeys.length === 0 || accessKeys.some((key) => typeof key !== 'string' || key === '')) {
    throw new ServiceOptionsError('accessKeys must hold one or two non-empty keys (primary, secondary)');
  }
  const managedIdentity = options.managedIdentity;
  if (managedIdentity !== undefined) {
    for (const name of ['endpoint', 'header', 'clientId'] as const) {
      if (typeof managedIdentity[name] !== 'string' || managedIdentity[name] === '') {
        throw new ServiceOptionsError(`managedIdentity.${name} must be a non-empty string`);
      }
    }
  }
  const limits = {} as Record<(typeof LIMIT_NAMES)[number], number>;
  for (const name of LIMIT_NAMES) {
    const value = options[name] ?? DEFAULTS[name];
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new ServiceOptionsError(
        `${name} must be a positive number (default ${DEFAULTS[name]}), not ${String(value)}`,
      );
    }
    limits[name] = value;
  }
  for (const name of [
    'notificationAttempts',
    'upstreamMaxSockets',
    'maxPendingRetries',
    'maxConcurrentUpstreamCalls',
    'connectBurstPerAddress',
    'connectBurstPerUser',
    'maxMessageFragments',
    'maxCoalescedBytes',
  ] as const) {
    if (!Number.isInteger(limits[name])) throw new ServiceOptionsError(`${name} must be a whole number`);
  }
  // A joined message is never larger than a message the service accepts at all.
  if (options.maxCoalescedBytes === undefined) {
    limits.maxCoalescedBytes = Math.min(limits.maxCoalescedBytes, Math.floor(limits.maxMessageBytes));
  } else if (limits.maxCoalescedBytes > limits.maxMessageBytes) {
    throw new ServiceOptionsError(
      `maxCoalescedBytes (${limits.maxCoalescedBytes}) must not exceed maxMessageBytes (${limits.maxMessageBytes})`,
    );
  }
  const upstream = normalizeUpstream(options.upstream);
  if (!managedIdentity && upstream.some((t) => t.auth?.type === 'ManagedIdentity')) {
    throw new ServiceOptionsError(
      'an upstream template has ManagedIdentity auth but the service has no managedIdentity (endpoint, header, clientId)',
    );
  }
  return {
    port,
    host,
    auth,
    entraOpenIdConfiguration,
    entraAudience,
    managedIdentity,
    endpoint,
    accessKeys: [...accessKeys],
    upstream,
    ...limits,
    log: options.log ?? consoleLog,
    generateConnectionId: options.generateConnectionId ?? randomConnectionId,
  };
}

/** Validates the `endpoint` option: an http(s) origin, returned without a trailing slash. */
export function checkEndpoint(value: unknown): string {
  const hint = "endpoint must be the service's public origin, such as http://localhost:8080";
  if (typeof value !== 'string') throw new ServiceOptionsError(hint);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ServiceOptionsError(`${hint}, not '${value}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ServiceOptionsError(`${hint}: http or https, not ${url.protocol}`);
  }
  if (url.username || url.password || url.pathname !== '/' || url.search || url.hash) {
    throw new ServiceOptionsError(`${hint}: scheme, host and port only (no path, query or credentials)`);
  }
  return url.origin;
}

/** Turns the `upstream` option (one URL template or ordered templates) into validated templates. */
export function normalizeUpstream(upstream: unknown): UpstreamTemplate[] {
  if (upstream === undefined || upstream === null) return [];
  if (typeof upstream === 'string') return [checkTemplate({ urlTemplate: upstream }, 0)];
  if (!Array.isArray(upstream)) {
    throw new ServiceOptionsError(
      'upstream must be a URL template string or an array of {hubPattern?, categoryPattern?, eventPattern?, urlTemplate}',
    );
  }
  return upstream.map((template, index) => checkTemplate(template, index));
}

function checkTemplate(value: unknown, index: number): UpstreamTemplate {
  const where = `upstream template ${index}`;
  if (typeof value !== 'object' || value === null)
    throw new ServiceOptionsError(`${where} must be an object`);
  const record = value as Record<string, unknown>;
  const urlTemplate = record.urlTemplate;
  if (typeof urlTemplate !== 'string' || urlTemplate === '') {
    throw new ServiceOptionsError(`${where} needs a urlTemplate such as http://localhost:7071/api/messages`);
  }
  // Substitute the parameters with a harmless value so that only the shape of the URL is checked.
  const sample = urlTemplate.replace(/\{(hub|category|event)\}/gi, 'x');
  let url: URL;
  try {
    url = new URL(sample);
  } catch {
    throw new ServiceOptionsError(`${where}: urlTemplate is not an absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ServiceOptionsError(`${where}: urlTemplate must be http or https`);
  }
  const template: { -readonly [K in keyof UpstreamTemplate]: UpstreamTemplate[K] } = { urlTemplate };
  if (record.auth !== undefined && record.auth !== null) template.auth = checkAuth(record.auth, where);
  for (const name of ['hubPattern', 'categoryPattern', 'eventPattern'] as const) {
    const pattern = record[name];
    if (pattern === undefined || pattern === null) continue;
    if (typeof pattern !== 'string') throw new ServiceOptionsError(`${where}: ${name} must be a string`);
    template[name] = pattern;
  }
  return template;
}

function checkAuth(value: unknown, where: string): UpstreamAuth {
  const auth = value as { type?: unknown; managedIdentity?: { resource?: unknown } } | null;
  if (auth?.type === 'None') return { type: 'None' };
  if (auth?.type === 'ManagedIdentity') {
    const resource = auth.managedIdentity?.resource;
    if (typeof resource !== 'string' || resource.trim() === '') {
      throw new ServiceOptionsError(
        `${where}: ManagedIdentity auth needs managedIdentity.resource (the token's audience)`,
      );
    }
    return { type: 'ManagedIdentity', managedIdentity: { resource } };
  }
  throw new ServiceOptionsError(
    `${where}: auth must be {"type":"None"} or {"type":"ManagedIdentity","managedIdentity":{"resource":"…"}}`,
  );
}

/**
 * Reads a settings file: a JSON object with the same keys as {@link ServiceOptions} (except `log`), e.g.
 * `{"upstream":[{"eventPattern":"connect,disconnect","urlTemplate":"http://…"}],"maxMessageBytes":65536}`.
 */
export function readSettingsFile(path: string): ServiceOptions {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ServiceOptionsError(
      `Cannot read the settings file ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ServiceOptionsError(`The settings file ${path} is not valid JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ServiceOptionsError(`The settings file ${path} must hold a JSON object of service options`);
  }
  const known = new Set<string>([
    'port',
    'host',
    'endpoint',
    'accessKeys',
    'upstream',
    'auth',
    'entraOpenIdConfiguration',
    'entraAudience',
    'managedIdentity',
    ...LIMIT_NAMES,
  ]);
  for (const key of Object.keys(value)) {
    if (!known.has(key)) {
      throw new ServiceOptionsError(
        `The settings file ${path} has an unknown option "${key}"; known: ${[...known].join(', ')}`,
      );
    }
  }
  return value as ServiceOptions;
}
