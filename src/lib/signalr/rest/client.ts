/**
 * The REST client of one hub of a SignalR Service in Serverless mode: one method per operation of Azure's
 * data-plane REST API v1. Its parts: `paths.ts` (where each call goes), `messages.ts` (what a message becomes
 * on the wire), `pipeline.ts` (timeouts and retries), `auth.ts` (every request signed: a REST
 * token per audience in key mode, reused for its lifetime; a Microsoft Entra token in identity mode) and
 * `error.ts`.
 * See docs/architecture.md, "Two services".
 */
import type { TokenCredential } from '@azure/identity';
import type { SignalRConnectionInfo } from '../connection-string.js';
import { checkClientTokenTtl, clientUrl, createClientToken } from '../tokens.js';
import { DEFAULT_REST_TOKEN_TTL_SECONDS, RestAuthorization } from './auth.js';
import { SignalRRestError, truncateServiceMessage } from './error.js';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  type EncodedBody,
  encodeMessage,
  type InvocationPayload,
} from './messages.js';
import {
  checkHubName,
  excludedQuery,
  GENERATE_TOKEN_API_VERSION,
  generateTokenUrl,
  groupName,
  hubBaseUrl,
  pathPart as id,
  type Query,
  restUrl,
} from './paths.js';
import {
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_MAX_RETRY_DELAY_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_RETRY_DELAY_MS,
  type RestCall,
  RestPipeline,
} from './pipeline.js';

const DEFAULT_CLIENT_TOKEN_TTL_SECONDS = 3600;
/** The largest `ttl` of add user to group: the specs type it int32. */
const MAX_TTL_SECONDS = 2_147_483_647;

/** A call as the client's methods describe it: path segments after the hub prefix, or a whole URL. */
interface HubCall extends Omit<RestCall, 'url'> {
  /** Path segments after the hub prefix, each encoded by `restUrl`. */
  segments: readonly string[];
  query?: Query;
  /** Overrides the hub-prefixed URL (`:generateToken`). */
  url?: URL;
}

export interface HubClientOptions {
  /** Where the service is and how to authenticate (see `parseConnectionString`). */
  connection: SignalRConnectionInfo;
  /** The hub, e.g. `chat`. */
  hub: string;
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
  /**
   * How long the membership lasts, in whole seconds (up to 2147483647); Azure keeps it at most a year when
   * absent. 0 adds only the connections the user has now.
   */
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
  /**
   * Token lifetime in seconds; default one hour, at most `MAX_CLIENT_TOKEN_TTL_SECONDS` (a day). Identity mode
   * rounds up to whole minutes.
   */
  ttlSeconds?: number;
}

/** What negotiate hands a client: where to connect and the token to connect with. */
export interface ClientAccess {
  url: string;
  accessToken: string;
}

/** The REST API of one hub. */
export class HubClient {
  readonly hub: string;
  readonly endpoint: string;
  readonly #connection: SignalRConnectionInfo;
  readonly #maxMessageBytes: number;
  readonly #pipeline: RestPipeline;

  constructor(options: HubClientOptions) {
    checkHubName(options.hub);
    this.hub = options.hub;
    this.endpoint = options.connection.endpoint.replace(/\/+$/, '');
    this.#connection = options.connection;
    const timeoutMs = positive('timeoutMs', options.timeoutMs, DEFAULT_REQUEST_TIMEOUT_MS);
    const maxAttempts = positive('maxAttempts', options.maxAttempts, DEFAULT_MAX_ATTEMPTS);
    const retryDelayMs = nonNegative('retryDelayMs', options.retryDelayMs, DEFAULT_RETRY_DELAY_MS);
    const maxRetryDelayMs = nonNegative(
      'maxRetryDelayMs',
      options.maxRetryDelayMs,
      DEFAULT_MAX_RETRY_DELAY_MS,
    );
    const restTokenTtlSeconds = positive(
      'restTokenTtlSeconds',
      options.restTokenTtlSeconds,
      DEFAULT_REST_TOKEN_TTL_SECONDS,
    );
    this.#maxMessageBytes = positive('maxMessageBytes', options.maxMessageBytes, DEFAULT_MAX_MESSAGE_BYTES);
    const authorization = new RestAuthorization(options.connection, restTokenTtlSeconds, options.credential);
    this.#pipeline = new RestPipeline(authorization, {
      endpoint: this.endpoint,
      timeoutMs,
      maxAttempts,
      retryDelayMs,
      maxRetryDelayMs,
    });
  }

  /** The hub's REST base URL, e.g. `http://localhost:8080/api/v1/hubs/chat`. */
  get baseUrl(): string {
    return hubBaseUrl(this.endpoint, this.hub);
  }

  /** Sends to every connection of the hub except `excluded`. */
  async sendToAll(message: InvocationPayload, options: SendToAllOptions = {}): Promise<void> {
    await this.#send({
      operation: 'sendToAll',
      method: 'POST',
      segments: [],
      query: excludedQuery(options.excluded),
      body: this.#encode(message),
    });
  }

  /** Sends to every connection of one user. */
  async sendToUser(userId: string, message: InvocationPayload): Promise<void> {
    await this.#send({
      operation: 'sendToUser',
      method: 'POST',
      segments: ['users', id('userId', userId)],
      body: this.#encode(message),
    });
  }

  /** Sends to one connection. */
  async sendToConnection(connectionId: string, message: InvocationPayload): Promise<void> {
    await this.#send({
      operation: 'sendToConnection',
      method: 'POST',
      segments: ['connections', id('connectionId', connectionId)],
      body: this.#encode(message),
    });
  }

  /** Sends to every connection in a group except `excluded`. */
  async sendToGroup(
    group: string,
    message: InvocationPayload,
    options: SendToGroupOptions = {},
  ): Promise<void> {
    await this.#send({
      operation: 'sendToGroup',
      method: 'POST',
      segments: ['groups', groupName(group)],
      query: excludedQuery(options.excluded),
      body: this.#encode(message),
    });
  }

  async addConnectionToGroup(group: string, connectionId: string): Promise<void> {
    await this.#send({
      operation: 'addConnectionToGroup',
      method: 'PUT',
      segments: ['groups', groupName(group), 'connections', id('connectionId', connectionId)],
    });
  }

  async removeConnectionFromGroup(group: string, connectionId: string): Promise<void> {
    await this.#send({
      operation: 'removeConnectionFromGroup',
      method: 'DELETE',
      segments: ['groups', groupName(group), 'connections', id('connectionId', connectionId)],
    });
  }

  /** Adds a user (all of its connections, present and future) to a group. */
  async addUserToGroup(group: string, userId: string, options: AddUserToGroupOptions = {}): Promise<void> {
    const query: [string, string][] = [];
    if (options.ttlSeconds !== undefined) {
      const ttl = Math.ceil(nonNegative('ttlSeconds', options.ttlSeconds, 0));
      if (ttl > MAX_TTL_SECONDS) throw new RangeError(`ttlSeconds must be at most ${MAX_TTL_SECONDS}`);
      query.push(['ttl', String(ttl)]);
    }
    await this.#send({
      operation: 'addUserToGroup',
      method: 'PUT',
      segments: ['groups', groupName(group), 'users', id('userId', userId)],
      query,
    });
  }

  async removeUserFromGroup(group: string, userId: string): Promise<void> {
    await this.#send({
      operation: 'removeUserFromGroup',
      method: 'DELETE',
      segments: ['groups', groupName(group), 'users', id('userId', userId)],
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

  /**
   * Whether the user is in the group (404 → `false`): `GET /groups/{group}/users/{user}`, Azure's "check whether
   * a user exists in the target group".
   */
  async isUserInGroup(group: string, userId: string): Promise<boolean> {
    return this.#exists('isUserInGroup', ['groups', groupName(group), 'users', id('userId', userId)]);
  }

  /** Whether the group has at least one connection (404 → `false`). */
  async groupExists(group: string): Promise<boolean> {
    return this.#exists('groupExists', ['groups', groupName(group)]);
  }

  /** Whether client tokens are signed here (key mode), so they can carry extra claims; identity mode cannot. */
  get clientTokensCarryClaims(): boolean {
    return this.#connection.credential.kind === 'key';
  }

  /**
   * The URL and token a client connects with. Key mode signs locally (`aud` = the client URL); identity mode asks the service's `:generateToken`, which cannot add claims.
   */
  async getClientAccess(options: ClientAccessOptions): Promise<ClientAccess> {
    const url = clientUrl(this.endpoint, this.hub);
    const ttlSeconds = positive('ttlSeconds', options.ttlSeconds, DEFAULT_CLIENT_TOKEN_TTL_SECONDS);
    checkClientTokenTtl(ttlSeconds);
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
    const response = await this.#send({
      operation: 'getClientAccess',
      method: 'POST',
      segments: [],
      url: generateTokenUrl(this.endpoint, this.hub, [
        ['userId', options.userId],
        ['minutesToExpire', String(Math.ceil(ttlSeconds / 60))],
        ['api-version', GENERATE_TOKEN_API_VERSION],
      ]),
      safeToRepeat: true,
    });
    const token = (safeJson(response.text) as { token?: unknown } | undefined)?.token;
    if (typeof token !== 'string' || token === '') {
      throw new SignalRRestError(
        'getClientAccess',
        'rest-refused',
        'getClientAccess: the service answered :generateToken without a "token" field',
        response.status,
        truncateServiceMessage(response.text),
      );
    }
    return { url, accessToken: token };
  }

  async #exists(operation: string, segments: readonly string[]): Promise<boolean> {
    const response = await this.#send({ operation, method: 'GET', segments, accept: [404] });
    return response.status !== 404;
  }

  #encode(message: InvocationPayload): EncodedBody {
    return encodeMessage(message, this.#maxMessageBytes);
  }

  #send(call: HubCall): Promise<{ status: number; text: string }> {
    const { segments, query, url, ...rest } = call;
    return this.#pipeline.send({ ...rest, url: url ?? restUrl(this.baseUrl, segments, query) });
  }
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

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
