/**
 * Azure Web PubSub's upstream protocol, the app side (docs/webpubsub.md): the event handler calls of the service
 * in CloudEvents binary mode (the `ce-*` attributes as HTTP headers, the event data as the body), the answers
 * the app gives, and the abuse-protection handshake. Types and wire names only, in one place, so the app
 * (src/lib/upstream) and the local service that will send these calls agree by construction; the logic lives in
 * `parse.ts`, `verify.ts` and `answer.ts`.
 *
 * Sources: Learn's "CloudEvents extension for Azure Web PubSub event handler with HTTP protocol" and Microsoft's
 * `@azure/web-pubsub-express` (Azure/azure-sdk-for-js, sdk/web-pubsub/web-pubsub-express/src/).
 */

/** The request headers of an event handler call, as Azure spells them (HTTP compares names case-insensitively). */
export const CLOUD_EVENTS_HEADERS = {
  specversion: 'ce-specversion',
  type: 'ce-type',
  source: 'ce-source',
  id: 'ce-id',
  time: 'ce-time',
  /** Web PubSub's own version of the extension (`1.0`); Microsoft's handlers recognise a call by it. */
  awpsVersion: 'ce-awpsversion',
  /** `sha256=<hex>[,sha256=<hex>]`: HMAC-SHA256 of the connection id with each access key. */
  signature: 'ce-signature',
  userId: 'ce-userId',
  connectionId: 'ce-connectionId',
  hub: 'ce-hub',
  eventName: 'ce-eventName',
  subprotocol: 'ce-subprotocol',
  /** The connection's state; the same header on a blocking event's answer replaces it. */
  connectionState: 'ce-connectionState',
} as const;

/** The abuse-protection handshake (CloudEvents HTTP webhook, section 4): an `OPTIONS` request and its answer. */
export const WEBHOOK_HEADERS = {
  /** On every call and on the handshake: the host of the service, e.g. `xxx.webpubsub.azure.com`. */
  requestOrigin: 'WebHook-Request-Origin',
  /** On the handshake's answer: the origin the app accepts deliveries from (or `*`). */
  allowedOrigin: 'WebHook-Allowed-Origin',
} as const;

/** The CloudEvents spec version Web PubSub sends. */
export const CLOUD_EVENTS_SPEC_VERSION = '1.0';

/** The `ce-type` of each system event, and the prefix of user events (`azure.webpubsub.user.<event>`). */
export const CLOUD_EVENT_TYPES = {
  connect: 'azure.webpubsub.sys.connect',
  connected: 'azure.webpubsub.sys.connected',
  disconnected: 'azure.webpubsub.sys.disconnected',
  userPrefix: 'azure.webpubsub.user.',
} as const;

/** `connect` and user events block the client until the app answers; `connected` and `disconnected` do not. */
export type CloudEventKind = 'connect' | 'connected' | 'disconnected' | 'user';

/** The subprotocols of Web PubSub's own clients; a plain WebSocket uses none. */
export const WEBPUBSUB_SUBPROTOCOLS = {
  json: 'json.webpubsub.azure.v1',
  reliableJson: 'json.reliable.webpubsub.azure.v1',
  protobuf: 'protobuf.webpubsub.azure.v1',
  reliableProtobuf: 'protobuf.reliable.webpubsub.azure.v1',
} as const;

/** The media types of user event data, and of the answers to them (the client gets the matching frame). */
export const CLOUD_EVENT_CONTENT_TYPES = {
  text: 'text/plain',
  json: 'application/json',
  binary: 'application/octet-stream',
} as const;

/** How user event data arrived: as text, JSON or bytes (`Content-Type` text/plain, application/json, octet-stream). */
export type CloudEventDataType = keyof typeof CLOUD_EVENT_CONTENT_TYPES;

/** A client certificate the service forwards on `connect`. */
export interface ClientCertificate {
  readonly thumbprint: string;
  readonly content?: string;
}

/** The body of `connect`: what the client presented, as the service saw it. */
export interface ConnectRequestBody {
  /** The claims of the client's access token, each type with all its values. */
  readonly claims?: Readonly<Record<string, readonly string[]>>;
  /** The client's query string (without the access token). */
  readonly query?: Readonly<Record<string, readonly string[]>>;
  readonly headers?: Readonly<Record<string, readonly string[]>>;
  /** The subprotocols the client offered, in its order. */
  readonly subprotocols?: readonly string[];
  readonly clientCertificates?: readonly ClientCertificate[];
}

/** The body of a `200` answer to `connect`; a `204` accepts the client as it is. */
export interface ConnectAnswerBody {
  /** The user of the connection (when the token named none, or to replace it). */
  readonly userId?: string;
  /** Groups the connection joins at once. */
  readonly groups?: readonly string[];
  /** One of the offered subprotocols; absent for none (a blank one is invalid). */
  readonly subprotocol?: string;
  /** Roles of a PubSub client, e.g. `webpubsub.joinLeaveGroup.<group>`, `webpubsub.sendToGroup`. */
  readonly roles?: readonly string[];
}

/** The body of `disconnected`. */
export interface DisconnectedRequestBody {
  readonly reason?: string;
}

/** The statuses with which an app refuses a `connect` (the service returns it to the client's handshake). */
export type ConnectRefusalStatus = 400 | 401 | 403 | 500;

/**
 * The state of a connection, as Microsoft's handlers keep it: a JSON object, base64-encoded into
 * `ce-connectionState`. Azure itself treats the header as an opaque string.
 */
export type ConnectionStates = Readonly<Record<string, unknown>>;

/** What every call says about its connection (the `ce-*` extension attributes). */
export interface CloudEventContext {
  /** `ce-type`. */
  readonly type: string;
  readonly kind: CloudEventKind;
  /** `ce-eventName` (for a user event, its name: `message` for a plain WebSocket's frames). */
  readonly eventName: string;
  readonly hub: string;
  readonly connectionId: string;
  /** `ce-userId`, when the connection has a user. */
  readonly userId?: string;
  /** `ce-subprotocol`, when the client uses one. */
  readonly subprotocol?: string;
  /** `WebHook-Request-Origin`: the host of the service that called. */
  readonly origin?: string;
  /** Decoded `ce-connectionState`; empty when absent or not a base64 JSON object. */
  readonly states: ConnectionStates;
  /** `ce-id`, for logs. */
  readonly id?: string;
}

/** Headers as any HTTP stack exposes them (Functions' and fetch's `Headers`). */
export interface HeaderReader {
  get(name: string): string | null;
}

/** One parsed event handler call, discriminated by `kind`. */
export type CloudEvent =
  | { readonly kind: 'connect'; readonly context: CloudEventContext; readonly body: ConnectRequestBody }
  | { readonly kind: 'connected'; readonly context: CloudEventContext }
  | { readonly kind: 'disconnected'; readonly context: CloudEventContext; readonly reason?: string }
  | {
      readonly kind: 'user';
      readonly context: CloudEventContext;
      readonly dataType: CloudEventDataType;
      /** The raw data: UTF-8 text for `text` and `json` (JSON already checked to parse), bytes for `binary`. */
      readonly data: string | Uint8Array;
    };

/** An answer as HTTP: status, headers and body. */
export interface CloudEventAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
}
