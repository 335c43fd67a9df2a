/**
 * Options of the local SignalR Serverless service. The limits are declared once in `limits.ts`, each with its
 * default; {@link resolveOptions} applies the defaults, validates every option and says which one is wrong.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DEV_ACCESS_KEY, DEV_WEBPUBSUB_ACCESS_KEY } from '../dev-constants.js';
import type { ManagedIdentitySource } from '../identity/client.js';
import { logLevelOrDefault, printed } from '../log-level.js';
import type { RejectionCode } from './errors.js';
import {
  LIMIT_DEFAULTS,
  LIMIT_NAMES,
  type LimitOptions,
  type ResolvedLimits,
  resolveLimits,
} from './limits.js';
import { normalizeWebPubSubHubs, type WebPubSubHubSettings } from './webpubsub/event-handler-options.js';

export { DEV_ACCESS_KEY, DEV_WEBPUBSUB_ACCESS_KEY };

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

/** Options of {@link startService}; every one is optional. Its limits are declared in `limits.ts`. */
export interface ServiceOptions extends LimitOptions {
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
  /**
   * The Web PubSub wing's access keys (primary, secondary), as a second Azure resource has its own: its REST
   * calls, client tokens and event handler signatures use these, never `accessKeys`, and the two lists must not
   * share a key (a REST call's key is how the service tells a Web PubSub call from a SignalR one at the same
   * path). Default the Web PubSub dev key; none in identity mode.
   */
  readonly webPubSubAccessKeys?: readonly string[];
  /** One URL template for every hub, category and event, or ordered templates (first match wins). Default none: no upstream calls. */
  readonly upstream?: string | readonly UpstreamTemplate[];
  /**
   * Web PubSub event handlers per hub (`*`: every other hub), in Azure's shape, e.g.
   * `{'*': {eventHandlers: [{urlTemplate: 'http://…/api/messages?event={event}', userEventPattern: '*',
   * systemEvents: ['connect', 'connected', 'disconnected'], auth: {type: 'None'}}]}}`. Default none: no
   * event handler calls, and every client with a valid token is accepted (as Azure without a `connect` handler).
   */
  readonly webPubSubHubs?: WebPubSubHubSettings;
  /** Log sink. Default: one line per entry on the console. */
  readonly log?: ServiceLog;
  /** Makes connection ids. Default 16 random bytes, base64url. Tests pass fixed ids to check known answers. */
  readonly generateConnectionId?: () => string;
}

/** Options with every default applied. */
export interface ResolvedServiceOptions extends ResolvedLimits {
  readonly port: number;
  readonly host: string;
  readonly auth: ServiceAuthMode;
  readonly entraOpenIdConfiguration: string | undefined;
  readonly entraAudience: string;
  readonly managedIdentity: ManagedIdentitySource | undefined;
  /** `undefined` until the port is known: then `http://localhost:<port>`. */
  readonly endpoint: string | undefined;
  /** Key mode: the access keys. Identity mode: one random key that signs and checks client tokens only. */
  readonly accessKeys: readonly string[];
  /** The Web PubSub wing's keys, as `accessKeys` is the SignalR side's (identity mode: one random key). */
  readonly webPubSubAccessKeys: readonly string[];
  readonly upstream: readonly UpstreamTemplate[];
  readonly webPubSubHubs: WebPubSubHubSettings;
  readonly log: ServiceLog;
  readonly generateConnectionId: () => string;
}

/** The defaults: the service's own here, the limits' from their table. */
export const DEFAULTS = {
  port: 8080,
  host: '127.0.0.1',
  auth: 'key' as ServiceAuthMode,
  entraAudience: 'https://signalr.azure.com',
  accessKeys: [DEV_ACCESS_KEY] as readonly string[],
  webPubSubAccessKeys: [DEV_WEBPUBSUB_ACCESS_KEY] as readonly string[],
  ...LIMIT_DEFAULTS,
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

/** The default log: one line per entry at or above `LOG_LEVEL` (../log-level.ts); errors and warnings on stderr. */
export const consoleLog: ServiceLog = (level, message, fields) => {
  if (!printed(level, logLevelOrDefault())) return;
  const line = `[signalr-local] ${level}: ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`;
  if (level === 'info') console.log(line);
  else console.error(line);
};

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
    if (options.accessKeys !== undefined || options.webPubSubAccessKeys !== undefined) {
      throw new ServiceOptionsError(
        'identity mode has no access keys (local auth is disabled): drop accessKeys and webPubSubAccessKeys',
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
  const webPubSubAccessKeys =
    auth === 'identity'
      ? [randomBytes(32).toString('base64')]
      : (options.webPubSubAccessKeys ?? DEFAULTS.webPubSubAccessKeys);
  if (
    webPubSubAccessKeys.length === 0 ||
    webPubSubAccessKeys.some((key) => typeof key !== 'string' || key === '')
  ) {
    throw new ServiceOptionsError(
      'webPubSubAccessKeys must hold one or two non-empty keys (primary, secondary)',
    );
  }
  if (webPubSubAccessKeys.some((key) => accessKeys.includes(key))) {
    throw new ServiceOptionsError(
      'webPubSubAccessKeys must not share a key with accessKeys: the key of a REST call says which service it is for',
    );
  }
  const managedIdentity = options.managedIdentity;
  if (managedIdentity !== undefined) {
    for (const name of ['endpoint', 'header', 'clientId'] as const) {
      if (typeof managedIdentity[name] !== 'string' || managedIdentity[name] === '') {
        throw new ServiceOptionsError(`managedIdentity.${name} must be a non-empty string`);
      }
    }
  }
  const limits = resolveLimits(options, (message) => new ServiceOptionsError(message));
  const upstream = normalizeUpstream(options.upstream);
  if (!managedIdentity && upstream.some((t) => t.auth?.type === 'ManagedIdentity')) {
    throw new ServiceOptionsError(
      'an upstream template has ManagedIdentity auth but the service has no managedIdentity (endpoint, header, clientId)',
    );
  }
  const webPubSubHubs = normalizeWebPubSubHubs(
    options.webPubSubHubs,
    (message) => new ServiceOptionsError(message),
  );
  const webPubSubIdentity = Object.values(webPubSubHubs).some((hub) =>
    hub.eventHandlers.some((handler) => handler.auth?.type === 'ManagedIdentity'),
  );
  if (!managedIdentity && webPubSubIdentity) {
    throw new ServiceOptionsError(
      'a Web PubSub event handler has ManagedIdentity auth but the service has no managedIdentity (endpoint, header, clientId)',
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
    webPubSubAccessKeys: [...webPubSubAccessKeys],
    upstream,
    webPubSubHubs,
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
    'webPubSubAccessKeys',
    'upstream',
    'auth',
    'entraOpenIdConfiguration',
    'entraAudience',
    'managedIdentity',
    'webPubSubHubs',
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
