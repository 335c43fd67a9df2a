/**
 * A REST client for one hub of a SignalR Service in Serverless mode, in both dialects:
 *
 * - `signalr` (Azure today): `/api/v1/hubs/{hub}…`, messages are `{ target, arguments }` (application/json),
 *   delivered to clients as hub-protocol Invocations.
 * - `websocket` (the 2020 Serverless WebSocket preview): `/ws/api/v1/hubs/{hub}…`, messages are raw: a string is sent as
 *   text/plain (a text frame), bytes as application/octet-stream (a binary frame), anything else as JSON.
 *
 * Paths follow Azure's data-plane REST API v1. Every request is signed on its own: a REST token
 * (`aud` = request URL without query) in key mode, a Microsoft Entra token in identity mode.
 */
import {
  type AccessToken,
  DefaultAzureCredential,
  ManagedIdentityCredential,
  type TokenCredential,
} from '@azure/identity';
import type { SignalRConnectionInfo } from './connection-string.js';
import { clientUrl, createClientToken, createRestToken, type Dialect } from './tokens.js';

/** The Microsoft Entra scope of Azure SignalR's data plane (identity mode). */
export const SIGNALR_ENTRA_SCOPE = 'https://signalr.azure.com/.default';
/** The api-version of `:generateToken`, the only call outside the v1 REST API. */
export const GENERATE_TOKEN_API_VERSION = '2024-01-01';

/** Per-attempt request timeout. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
/** Attempts per call, the first included; only safe failures are retried (see {@link HubClientOptions}). */
export const DEFAULT_MAX_ATTEMPTS = 3;
/** Delay before the first retry; doubles per attempt up to {@link DEFAULT_MAX_RETRY_DELAY_MS}. */
export const DEFAULT_RETRY_DELAY_MS = 250;
/** Upper bound of one backoff delay, also of an honoured `Retry-After`. */
export const DEFAULT_MAX_RETRY_DELAY_MS = 4_000;
/** Lifetime of the REST tokens signed in key mode; each request gets a fresh one. */
export const DEFAULT_REST_TOKEN_TTL_SECONDS = 300;
/** Largest message body sent; Azure rejects REST payloads above 1 MB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;
/** How much of the service's error body an error message repeats. */
export const MAX_ERROR_BODY_CHARS = 500;
/** An Entra token is renewed when it has less than this left. */
const ENTRA_REFRESH_MARGIN_MS = 2 * 60_000;

/** Azure's rule for hub names: a letter first, then letters, digits and underscores. */
const HUB_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/** A message of the signalr dialect: clients receive an Invocation of `target` with `arguments`. */
export interface InvocationPayload {
  readonly target: string;
  readonly arguments: readonly unknown[];
}

/**
 * A message of the websocket dialect: a string becomes a text frame, bytes a binary frame, any other value
 * is serialised as JSON and arrives as a text frame.
 */
export type RawMessage = string | Uint8Array | ArrayBuffer | number | boolean | null | object;

/** The message type a client of dialect `D` sends. */
export type MessageOf<D extends Dialect> = D extends 'signalr' ? InvocationPayload : RawMessage;

export interface HubClientOptions<D extends Dialect = Dialect> {
  /** Where the service is and how to authenticate (see `parseConnectionString`). */
  connection: SignalRConnectionInfo;
  /** The hub, e.g. `chat`. */
  hub: string;
  /** Which REST prefix and message shape to use. */
  dialect: D;
  /**
   * Identity mode only: the credential for Entra tokens. Default: `ManagedIdentityCredential` with the
   * connection string's ClientId, else `DefaultAzureCredential`.
   */
  credential?: TokenCredential;
  /** Per-attempt timeout in ms; default {@link DEFAULT_REQUEST_TIMEOUT_MS}. */
  timeoutMs?: number;
  /**
   * Attempts per call, default {@link DEFAULT_MAX_ATTEMPTS}. Retried: 502/503/504, and network failures
   * where the request cannot have been delivered (refused, unresolvable, unreachable); for idempotent calls
   * (PUT, DELETE, GET, `:generateToken`) any network failure. Never retried: a timeout or a 500, since a send may already have
   * reached clients.
   */
  maxAttempts?: number;
  /** First backoff delay in ms; default {@link DEFAULT_RETRY_DELAY_MS}. */
  retryDelayMs?: number;
  /** Cap of one backoff delay in ms; default {@link DEFAULT_MAX_RETRY_DELAY_MS}. */
  maxRetryDelayMs?: number;
  /** Lifetime of key-mode REST tokens; default {@link DEFAULT_REST_TOKEN_TTL_SECONDS}. */
  restTokenTtlSeconds?: number;
  /** Largest message body in bytes; default {@link DEFAULT_MAX_MESSAGE_BYTES}. */
  maxMessageBytes?: number;
}

export interface SendToAllOptions {
  /** Connection ids that must not receive the message. */
  excluded?: readonly string[];
}
export type SendToGroupOptions = SendToAllOptions;

export interface AddUserToGroupOptions {
  /** How long the membership lasts, in seconds; forever when absent. */
  ttlSeconds?: number;
}

export interface CloseConnectionOptions {
  /** Why; the service passes it to the client and the disconnect event. */
  reason?: string;
}

export interface ClientAccessOptions {
  /** The user the connection will belong to (`nameid`). */
  userId: string;
  /** Extra claims for the upstream (`X-ASRS-User-Claims`); key mode only. */
  claims?: Record<string, string | string[]>;
  /** Token lifetime in seconds; default one hour. Identity mode rounds up to whole minutes. */
  ttlSeconds?: number;
}

/** What negotiate hands a client: where to connect and the token to connect with. */
export interface ClientAccess {
  url: string;
  accessToken: string;
}

/** `http`: the service answered with an error status; `network`/`timeout`: no answer; `credential`: no Entra token. */
export type SignalRRestFailure = 'http' | 'network' | 'timeout' | 'credential';

/**
 * A REST call the service refused or that did not complete. `status` is the HTTP status for `http`
 * failures; `serviceMessage` is the service's body text, truncated to {@link MAX_ERROR_BODY_CHARS}.
 * The message never contains a token.
 */
export class SignalRRestError extends Error {
  override readonly name = 'SignalRRestError';
  constructor(
    /** What was attempted, e.g. `sendToUser`. */
    readonly operation: string,
    readonly failure: SignalRRestFailure,
    message: string,
    readonly status?: number,
    readonly serviceMessage = '',
    /** How many attempts were made. */
    readonly attempts = 1,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

const DEFAULT_CLIENT_TOKEN_TTL_SECONDS = 3600;
const RETRYABLE_STATUS = new Set([502, 503, 504]);
/** Connection errors that mean nothing reached the server, so even a send is safe to repeat. */
const NOT_DELIVERED_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

interface EncodedBody {
  contentType: string;
  data: string | Uint8Array<ArrayBuffer>;
}

interface RestCall {
  operation: string;
  method: Method;
  /** Path segments after the hub prefix, each encoded here. */
  segments: readonly string[];
  query?: readonly (readonly [string, string])[];
  body?: EncodedBody;
  /** Status codes that are answers rather than failures (404 for existence checks). */
  accept?: readonly number[];
  /** A POST without side effects (`:generateToken`), retried like an idempotent call. */
  safeToRepeat?: boolean;
  /** Overrides the hub-prefixed URL (`:generateToken`). */
  url?: URL;
}

/** The REST API of one hub. `D` fixes the dialect, and with it the message type. */
export class HubClient<D extends Dialect = Dialect> {
  readonly hub: string;
  readonly dialect: D;
  readonly endpoint: string;
  readonly #connection: SignalRConnectionInfo;
  readonly #timeoutMs: number;
  readonly #maxAttempts: number;
  readonly #retryDelayMs: number;
  readonly #maxRetryDelayMs: number;
  readonly #restTokenTtlSeconds: number;
  readonly #maxMessageBytes: number;
  #credential: TokenCredential | undefined;
  #entraToken: AccessToken | undefined;

  constructor(options: HubClientOptions<D>) {
    if (!HUB_NAME.test(options.hub)) {
      throw new TypeError(
        `Hub name "${options.hub}" is invalid: start with a letter, then only letters, digits and underscores`,
      );
    }
    if (options.dialect !== 'signalr' && options.dialect !== 'websocket') {
      throw new TypeError(`Unknown dialect "${String(options.dialect)}": use "signalr" or "websocket"`);
    }
    this.hub = options.hub;
    this.dialect = options.dialect;
    this.endpoint = options.connection.endpoint.replace(/\/+$/, '');
    this.#connection = options.connection;
    this.#credential = options.credential;
    this.#timeoutMs = positive('timeoutMs', options.timeoutMs, DEFAULT_REQUEST_TIMEOUT_MS);
    this.#maxAttempts = positive('maxAttempts', options.maxAttempts, DEFAULT_MAX_ATTEMPTS);
    this.#retryDelayMs = nonNegative('retryDelayMs', options.retryDelayMs, DEFAULT_RETRY_DELAY_MS);
    this.#maxRetryDelayMs = nonNegative(
      'maxRetryDelayMs',
      options.maxRetryDelayMs,
      DEFAULT_MAX_RETRY_DELAY_MS,
    );
    this.#restTokenTtlSeconds = positive(
      'restTokenTtlSeconds',
      options.restTokenTtlSeconds,
      DEFAULT_REST_TOKEN_TTL_SECONDS,
    );
    this.#maxMessageBytes = positive('maxMessageBytes', options.maxMessageBytes, DEFAULT_MAX_MESSAGE_BYTES);
  }

  /** The hub's REST base URL, e.g. `http://localhost:8080/api/v1/hubs/chat`. */
  get baseUrl(): string {
    const prefix = this.dialect === 'websocket' ? '/ws/api/v1/hubs/' : '/api/v1/hubs/';
    return `${this.endpoint}${prefix}${encodeURIComponent(this.hub)}`;
  }

  /** Sends to every connection of the hub except `excluded`. */
  async sendToAll(message: MessageOf<D>, options: SendToAllOptions = {}): Promise<void> {
    await this.#send({
      operation: 'sendToAll',
      method: 'POST',
      segments: [],
      query: excludedQuery(options.excluded),
      body: this.#encode(message),
    });
  }

  /** Sends to every connection of one user. */
  async sendToUser(userId: string, message: MessageOf<D>): Promise<void> {
    await this.#send({
      operation: 'sendToUser',
      method: 'POST',
      segments: ['users', id('userId', userId)],
      body: this.#encode(message),
    });
  }

  /** Sends to one connection. */
  async sendToConnection(connectionId: string, message: MessageOf<D>): Promise<void> {
    await this.#send({
      operation: 'sendToConnection',
      method: 'POST',
      segments: ['connections', id('connectionId', connectionId)],
      body: this.#encode(message),
    });
  }

  /** Sends to every connection in a group except `excluded`. */
  async sendToGroup(group: string, message: MessageOf<D>, options: SendToGroupOptions = {}): Promise<void> {
    await this.#send({
      operation: 'sendToGroup',
      method: 'POST',
      segments: ['groups', id('group', group)],
      query: excludedQuery(options.excluded),
      body: this.#encode(message),
    });
  }

  async addConnectionToGroup(group: string, connectionId: string): Promise<void> {
    await this.#send({
      operation: 'addConnectionToGroup',
      method: 'PUT',
      segments: ['groups', id('group', group), 'connections', id('connectionId', connectionId)],
    });
  }

  async removeConnectionFromGroup(group: string, connectionId: string): Promise<void> {
    await this.#send({
      operation: 'removeConnectionFromGroup',
      method: 'DELETE',
      segments: ['groups', id('group', group), 'connections', id('connectionId', connectionId)],
    });
  }

  /** Adds a user (all of its connections, present and future) to a group. */
  async addUserToGroup(group: string, userId: string, options: AddUserToGroupOptions = {}): Promise<void> {
    const query: [string, string][] = [];
    if (options.ttlSeconds !== undefined) {
      query.push(['ttl', String(Math.ceil(positive('ttlSeconds', options.ttlSeconds, 0)))]);
    }
    await this.#send({
      operation: 'addUserToGroup',
      method: 'PUT',
      segments: ['groups', id('group', group), 'users', id('userId', userId)],
      query,
    });
  }

  async removeUserFromGroup(group: string, userId: string): Promise<void> {
    await this.#send({
      operation: 'removeUserFromGroup',
      method: 'DELETE',
      segments: ['groups', id('group', group), 'users', id('userId', userId)],
    });
  }

  async removeUserFromAllGroups(userId: string): Promise<void> {
    await this.#send({
      operation: 'removeUserFromAllGroups',
      method: 'DELETE',
      segments: ['users', id('userId', userId), 'groups'],
    });
  }

  /** Closes a connection; `reason` reaches the client and the disconnect event. */
  async closeConnection(connectionId: string, options: CloseConnectionOptions = {}): Promise<void> {
    await this.#send({
      operation: 'closeConnection',
      method: 'DELETE',
      segments: ['connections', id('connectionId', connectionId)],
      query: options.reason !== undefined ? [['reason', options.reason]] : [],
    });
  }

  /** Whether the connection is connected to this hub (404 → `false`). */
  async connectionExists(connectionId: string): Promise<boolean> {
    return this.#exists('connectionExists', ['connections', id('connectionId', connectionId)]);
  }

  /** Whether the user has at least one connection to this hub (404 → `false`). */
  async userExists(userId: string): Promise<boolean> {
    return this.#exists('userExists', ['users', id('userId', userId)]);
  }

  /** Whether the group has at least one connection (404 → `false`). */
  async groupExists(group: string): Promise<boolean> {
    return this.#exists('groupExists', ['groups', id('group', group)]);
  }

  /**
   * The URL and token a client connects with. Key mode signs locally (`aud` = the client URL of this
   * dialect); identity mode asks the service's `:generateToken`, which cannot add claims.
   */
  async getClientAccess(options: ClientAccessOptions): Promise<ClientAccess> {
    const url = clientUrl(this.endpoint, this.hub, this.dialect);
    const ttlSeconds = positive('ttlSeconds', options.ttlSeconds, DEFAULT_CLIENT_TOKEN_TTL_SECONDS);
    const credential = this.#connection.credential;
    if (credential.kind === 'key') {
      const accessToken = await createClientToken(credential.accessKey, url, {
        userId: options.userId,
        ttlSeconds,
        ...(options.claims ? { claims: options.claims } : {}),
      });
      return { url, accessToken };
    }
    if (options.claims && Object.keys(options.claims).length > 0) {
      throw new TypeError(
        'getClientAccess: extra claims need key mode; Azure :generateToken (identity mode) only takes a userId',
      );
    }
    const generateUrl = new URL(`${this.endpoint}/api/hubs/${encodeURIComponent(this.hub)}/:generateToken`);
    const response = await this.#send({
      operation: 'getClientAccess',
      method: 'POST',
      segments: [],
      url: generateUrl,
      safeToRepeat: true,
      query: [
        ['userId', options.userId],
        ['minutesToExpire', String(Math.ceil(ttlSeconds / 60))],
        ['api-version', GENERATE_TOKEN_API_VERSION],
      ],
    });
    const token = (safeJson(response.text) as { token?: unknown } | undefined)?.token;
    if (typeof token !== 'string' || token === '') {
      throw new SignalRRestError(
        'getClientAccess',
        'http',
        'getClientAccess: the service answered :generateToken without a "token" field',
        response.status,
        truncate(response.text),
      );
    }
    return { url, accessToken: token };
  }

  async #exists(operation: string, segments: readonly string[]): Promise<boolean> {
    const response = await this.#send({ operation, method: 'GET', segments, accept: [404] });
    return response.status !== 404;
  }

  #encode(message: MessageOf<D>): EncodedBody {
    const encoded = this.dialect === 'signalr' ? encodeInvocation(message) : encodeRaw(message);
    const size = typeof encoded.data === 'string' ? Buffer.byteLength(encoded.data) : encoded.data.byteLength;
    if (size > this.#maxMessageBytes) {
      throw new RangeError(
        `The message is ${size} bytes; the limit is ${this.#maxMessageBytes} (option maxMessageBytes)`,
      );
    }
    return encoded;
  }

  #url(call: RestCall): URL {
    const url = call.url ?? new URL([this.baseUrl, ...call.segments.map(encodeURIComponent)].join('/'));
    for (const [name, value] of call.query ?? []) url.searchParams.append(name, value);
    return url;
  }

  async #authorization(url: URL): Promise<string> {
    const credential = this.#connection.credential;
    if (credential.kind === 'key') {
      return `Bearer ${await createRestToken(credential.accessKey, url, { ttlSeconds: this.#restTokenTtlSeconds })}`;
    }
    const cached = this.#entraToken;
    if (cached && cached.expiresOnTimestamp - Date.now() > ENTRA_REFRESH_MARGIN_MS) {
      return `Bearer ${cached.token}`;
    }
    this.#credential ??= credential.clientId
      ? new ManagedIdentityCredential({ clientId: credential.clientId })
      : new DefaultAzureCredential();
    const token = await this.#credential.getToken(SIGNALR_ENTRA_SCOPE);
    if (!token) {
      throw new SignalRRestError(
        'authenticate',
        'credential',
        `No Microsoft Entra token for ${SIGNALR_ENTRA_SCOPE}: check the managed identity (ClientId) and its role on the SignalR resource`,
      );
    }
    this.#entraToken = token;
    return `Bearer ${token.token}`;
  }

  async #send(call: RestCall): Promise<{ status: number; text: string }> {
    const url = this.#url(call);
    const idempotent = call.method !== 'POST' || call.safeToRepeat === true;
    const where = `${call.method} ${url.pathname}`;
    for (let attempt = 1; ; attempt++) {
      const last = attempt >= this.#maxAttempts;
      // Outside the try: a credential failure is not a network failure and is not retried here.
      const headers: Record<string, string> = { Authorization: await this.#authorization(url) };
      if (call.body) headers['Content-Type'] = call.body.contentType;
      let response: Response;
      try {
        response = await fetch(url, {
          method: call.method,
          headers,
          ...(call.body ? { body: call.body.data } : {}),
          signal: AbortSignal.timeout(this.#timeoutMs),
        });
      } catch (error) {
        if (isTimeout(error)) {
          throw new SignalRRestError(
            call.operation,
            'timeout',
            `${call.operation}: ${where} got no answer within ${this.#timeoutMs} ms (option timeoutMs)`,
            undefined,
            '',
            attempt,
            { cause: error },
          );
        }
        const code = errorCode(error);
        if (!last && (idempotent || (code !== undefined && NOT_DELIVERED_CODES.has(code)))) {
          await delay(this.#backoff(attempt));
          continue;
        }
        throw new SignalRRestError(
          call.operation,
          'network',
          `${call.operation}: ${where} failed after ${attempt} attempt(s): ${code ?? describe(error)}; is the service at ${this.endpoint} reachable?`,
          undefined,
          '',
          attempt,
          { cause: error },
        );
      }
      // Read the whole body so the socket returns to the pool, and for the error message.
      const text = await response.text().catch(() => '');
      if (response.ok || call.accept?.includes(response.status)) return { status: response.status, text };
      if (!last && RETRYABLE_STATUS.has(response.status)) {
        await delay(this.#backoff(attempt, response.headers.get('retry-after')));
        continue;
      }
      const serviceMessage = truncate(text);
      throw new SignalRRestError(
        call.operation,
        'http',
        `${call.operation}: ${where} answered ${response.status} ${response.statusText}` +
          (serviceMessage ? `: ${serviceMessage}` : ''),
        response.status,
        serviceMessage,
        attempt,
      );
    }
  }

  /** Exponential backoff, or the service's `Retry-After` (seconds) when it gives one; both capped. */
  #backoff(attempt: number, retryAfter?: string | null): number {
    const seconds = retryAfter ? Number(retryAfter) : Number.NaN;
    const wanted =
      Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : this.#retryDelayMs * 2 ** (attempt - 1);
    return Math.min(wanted, this.#maxRetryDelayMs);
  }
}

function encodeInvocation(message: unknown): { contentType: string; data: string } {
  const m = message as Partial<InvocationPayload> | null;
  if (
    !m ||
    typeof m !== 'object' ||
    typeof m.target !== 'string' ||
    m.target === '' ||
    !Array.isArray(m.arguments)
  ) {
    throw new TypeError('A signalr-dialect message is { target: string, arguments: unknown[] }');
  }
  return {
    contentType: 'application/json',
    data: JSON.stringify({ target: m.target, arguments: m.arguments }),
  };
}

function encodeRaw(message: unknown): EncodedBody {
  if (typeof message === 'string') return { contentType: 'text/plain', data: message };
  if (message instanceof Uint8Array) {
    // fetch takes bytes backed by an ArrayBuffer; a view of a SharedArrayBuffer is copied first.
    const data =
      message.buffer instanceof ArrayBuffer ? (message as Uint8Array<ArrayBuffer>) : new Uint8Array(message);
    return { contentType: 'application/octet-stream', data };
  }
  if (message instanceof ArrayBuffer) {
    return { contentType: 'application/octet-stream', data: new Uint8Array(message) };
  }
  if (message === undefined || typeof message === 'function' || typeof message === 'symbol') {
    throw new TypeError('A websocket-dialect message is a string, bytes, or a JSON-serialisable value');
  }
  return { contentType: 'application/json', data: JSON.stringify(message) };
}

function excludedQuery(excluded: readonly string[] | undefined): [string, string][] {
  return (excluded ?? []).map((connectionId) => ['excluded', connectionId]);
}

/** Guards a path part: an empty one would silently address a different route. */
function id(name: string, value: string): string {
  if (typeof value !== 'string' || value === '') throw new TypeError(`${name} must be a non-empty string`);
  return value;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number`);
  return value;
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be zero or more`);
  return value;
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

/** The system error code behind a `fetch failed` TypeError (undici puts it on `cause`). */
function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = current.cause;
  }
  return undefined;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function truncate(text: string): string {
  const trimmed = text.trim();
  return trimmed.length > MAX_ERROR_BODY_CHARS ? `${trimmed.slice(0, MAX_ERROR_BODY_CHARS)}…` : trimmed;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function delay(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
