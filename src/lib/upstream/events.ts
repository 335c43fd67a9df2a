/**
 * Types of the upstream: the events the SignalR service POSTs to the Functions app (docs/architecture.md, "The upstream contract"),
 * and those Azure Web PubSub POSTs in CloudEvents binary mode (src/lib/webpubsub, docs/webpubsub.md), mapped onto the same events,
 * the request objects handlers receive, the response objects they answer with, and the dispatcher's
 * options. Types only; the logic lives in `parse.ts`, `verify.ts`, `response.ts` and `dispatcher.ts`.
 */
import type { HttpRequest, InvocationContext } from '@azure/functions';
import type { HubProtocolName, UpstreamCategory } from '../signalr/index.js';
import type { ClientCertificate, CloudEventContext } from '../webpubsub/index.js';

/**
 * Claims of the connection, parsed from `X-ASRS-User-Claims` (`"type: value, type: value"`). A claim type that
 * occurs once maps to its value; a type that occurs more than once maps to all its values in order.
 * The object has no prototype, so a claim called `constructor` or `__proto__` is just a claim.
 */
export type Claims = Readonly<Record<string, string | readonly string[]>>;

/** What every upstream call says about the connection it concerns. */
export interface UpstreamContext {
  /** `X-ASRS-Hub`. */
  readonly hub: string;
  /** `X-ASRS-Connection-Id`. */
  readonly connectionId: string;
  /** `X-ASRS-User-Id`, when the service knows the user (absent on an anonymous connection). */
  readonly userId?: string;
  /** Parsed `X-ASRS-User-Claims`; empty when the header is absent. */
  readonly claims: Claims;
  /** The client's query string (`X-ASRS-Client-Query`; Web PubSub: the `connect` body's `query`). */
  readonly query: URLSearchParams;
  /** `X-ASRS-Category` (inferred from the event when the header is absent). */
  readonly category: UpstreamCategory;
  /** The event name as sent (`X-ASRS-Event` or `?event=`), before `handshake` is read as `connect`. */
  readonly eventName: string;
  /**
   * Present on an Azure Web PubSub call (`ce-*` headers): its CloudEvents attributes, with the decoded connection
   * state. Its claims and query come from the `connect` body (other events carry none).
   */
  readonly webpubsub?: CloudEventContext;
}

/**
 * The payload of a Web PubSub user event: a plain WebSocket's frame, or a subprotocol client's data (`json` is
 * the JSON text as sent, already checked to parse).
 */
export type MessageData =
  | { readonly dataType: 'text'; readonly data: string }
  | { readonly dataType: 'json'; readonly data: string }
  | { readonly dataType: 'binary'; readonly data: Uint8Array };

/** Web PubSub, blocking: a client asks to connect. Answer with `accept()` or `fail()`. */
export interface ConnectEvent {
  readonly kind: 'connect';
  readonly dialect: 'websocket';
  /** The subprotocols the client offered in `Sec-WebSocket-Protocol`, in its order; empty if none. */
  readonly subprotocols: readonly string[];
  /** The client's request headers, as the `connect` body lists them. */
  readonly headers?: Readonly<Record<string, readonly string[]>>;
  /** The client certificates the service forwarded. */
  readonly clientCertificates?: readonly ClientCertificate[];
}

/** Web PubSub, blocking: a client sent a user event (a plain WebSocket: one frame). */
export interface ClientMessageEvent {
  readonly kind: 'message';
  readonly dialect: 'websocket';
  /** Text for `text/*` and JSON content types, bytes for anything else (`application/octet-stream`). */
  readonly message: MessageData;
}

/** Web PubSub, notification: an accepted connection has closed. */
export interface DisconnectEvent {
  readonly kind: 'disconnect';
  readonly dialect: 'websocket';
  /** Why the connection closed, when the service says. */
  readonly reason?: string;
}

/**
 * Notification: a connection is up. signalr dialect: body `{"type":10}`; websocket dialect: Web PubSub's
 * `azure.webpubsub.sys.connected`.
 */
export interface ConnectedEvent {
  readonly kind: 'connected';
  readonly dialect: 'signalr' | 'websocket';
}

/**
 * signalr dialect, blocking: a client invoked a hub method (body `{"type":1,…}`, or the MessagePack
 * Invocation array as `application/x-msgpack` for a MessagePack client).
 */
export interface InvocationEvent {
  readonly kind: 'invocation';
  readonly dialect: 'signalr';
  /** The caller's hub protocol: the answer to an invocation is a Completion framed in it. */
  readonly protocol: HubProtocolName;
  /** The hub method the client invoked (equal to the event name). */
  readonly target: string;
  /** The invocation's arguments, as JSON values. */
  readonly arguments: readonly unknown[];
  /** Present when the client waits for a result: the service answers it with a Completion. */
  readonly invocationId?: string;
}

/** signalr dialect, notification: a connection has closed (body `{"type":11[,"error":"…"]}`). */
export interface DisconnectedEvent {
  readonly kind: 'disconnected';
  readonly dialect: 'signalr';
  /** Why the connection closed, when it closed abnormally. */
  readonly error?: string;
}

/** Every upstream event, discriminated by `kind`. */
export type UpstreamEvent =
  | ConnectEvent
  | ClientMessageEvent
  | DisconnectEvent
  | ConnectedEvent
  | InvocationEvent
  | DisconnectedEvent;

/** What a handler receives: the typed event, its context, and the raw Functions objects. */
export interface UpstreamRequest<E extends UpstreamEvent = UpstreamEvent> {
  readonly event: E;
  readonly context: UpstreamContext;
  /** The raw request. Its body has already been read by the dispatcher; use `event` for the payload. */
  readonly httpRequest: HttpRequest;
  /** The Functions invocation, for logging from a handler. */
  readonly invocationContext: InvocationContext;
}

/**
 * A response body a handler can send: a string (sent as `text/plain; charset=utf-8`), bytes (sent as
 * `application/octet-stream`), or any other object (sent as `application/json`).
 */
export type ResponseBody = string | Uint8Array | object;

/** Statuses with which a connect can be refused; the service returns them to the client's handshake. */
export type ConnectFailStatus = 400 | 401 | 403;

/** Statuses with which a message or invocation can be failed. */
export type FailStatus = 400 | 401 | 403 | 404 | 409 | 429 | 500 | 503;

/** How a connect is accepted. */
export interface ConnectAcceptance {
  /** The user of the connection (the connect answer's `userId`); without one, the token's user stays. */
  readonly userId?: string;
  /** One of the offered subprotocols, sent back as `Sec-WebSocket-Protocol`. */
  readonly subprotocol?: string;
  /** Groups the connection joins at once. */
  readonly groups?: readonly string[];
  /** The client's roles, e.g. `webpubsub.sendToGroup.<group>`. */
  readonly roles?: readonly string[];
}

/**
 * Web PubSub's connection state (`ce-connectionState`), set on the answer to a blocking event and sent back on
 * every later call as `context.webpubsub.states`. Call it before answering.
 */
export interface ConnectionStateSetter {
  setState(name: string, value: unknown): void;
}

/**
 * The answer to a connect. Call exactly one method exactly once, before the handler's promise settles.
 * Both methods throw a `TypeError` on a programming error (an argument the protocol cannot carry, a
 * subprotocol the client did not offer, a second answer); the dispatcher logs it and answers 500.
 */
export interface ConnectResponse extends ConnectionStateSetter {
  accept(acceptance?: ConnectAcceptance): void;
  fail(status: ConnectFailStatus, reason: string): void;
}

/**
 * The answer to a Web PubSub user event: `success(body?)` sends `body` back to the sender; `fail()`
 * makes the service close the connection. Same rules as {@link ConnectResponse}.
 */
export interface MessageResponse extends ConnectionStateSetter {
  success(body?: ResponseBody): void;
  fail(status: FailStatus, reason: string): void;
}

/**
 * The answer to an invocation. When the client waits (an `invocationId`), both methods answer 200 with a
 * framed Completion in the caller's protocol, which the service forwards to the client as it is:
 * `success(result?)` carries `result` (none when undefined), `fail()` carries `reason` as the error (its
 * status is not sent: the Functions SignalR extension answers 200 either way). Without an `invocationId`
 * (a `send`), `success()` is an empty 200 and `fail()` the status and reason, which the service ignores.
 * Same rules as {@link ConnectResponse}.
 */
export interface InvocationResponse {
  success(result?: unknown): void;
  fail(status: FailStatus, reason: string): void;
}

/**
 * The application's handlers. All are optional: an event without a handler is answered with an empty 2xx.
 * `handle*` handlers are for blocking events (the service waits for the answer); `on*` for notifications.
 * Every handler is awaited; one that throws is logged and answered 500.
 */
export interface UpstreamHandlers {
  /** Web PubSub `connect`. */
  handleConnect?(req: UpstreamRequest<ConnectEvent>, res: ConnectResponse): void | Promise<void>;
  /** Web PubSub user event (`message` for a plain WebSocket's frame). */
  handleMessage?(req: UpstreamRequest<ClientMessageEvent>, res: MessageResponse): void | Promise<void>;
  /** signalr dialect invocation. */
  handleInvocation?(req: UpstreamRequest<InvocationEvent>, res: InvocationResponse): void | Promise<void>;
  /** `connected`: SignalR's, or Web PubSub's `azure.webpubsub.sys.connected`. */
  onConnected?(req: UpstreamRequest<ConnectedEvent>): void | Promise<void>;
  /** `disconnect` (Web PubSub) and `disconnected` (SignalR); `req.event.dialect` tells which. */
  onDisconnected?(req: UpstreamRequest<DisconnectEvent | DisconnectedEvent>): void | Promise<void>;
}

/** Options of {@link createUpstreamHandler}. */
export interface UpstreamHandlerOptions {
  /**
   * The access keys whose signature is accepted (primary, secondary). A function is called on every request,
   * so rotated keys are picked up without a restart.
   */
  readonly accessKeys: readonly string[] | (() => readonly string[]);
  /**
   * Identity mode: checks the `Authorization` header (an Entra token, see bearer.ts) before anything else; when
   * set, `X-ASRS-Signature` is not checked and `accessKeys` is not used.
   */
  readonly bearer?: UpstreamBearerCheck;
  /** The largest body accepted, in bytes; larger ones are answered 413. Default {@link DEFAULT_MAX_BODY_BYTES}. */
  readonly maxBodyBytes?: number;
  /**
   * How deep arrays and maps may nest in one argument of a MessagePack invocation body; deeper ones are
   * answered 400. Default `DEFAULT_MAX_MESSAGEPACK_DEPTH` (500, what Azure SignalR's MessagePack reader allows).
   */
  readonly maxMessagePackDepth?: number;
  /** When set, calls for any other hub are answered 400 (hub names compare case-insensitively). */
  readonly hub?: string;
  /**
   * The hosts (or endpoints) of the app's own Web PubSub service: the abuse-protection `OPTIONS` handshake is
   * answered for these only. A function is called on every handshake. Default: none (every handshake refused).
   */
  readonly webPubSubHosts?: readonly string[] | (() => readonly string[]);
  /**
   * The access keys whose `ce-signature` is accepted on Web PubSub calls (key mode): the Web PubSub service's,
   * not SignalR's. Default: none (every signed Web PubSub call refused with a 500 that says so).
   */
  readonly webPubSubAccessKeys?: readonly string[] | (() => readonly string[]);
}

/** What checks an upstream call's bearer token ({@link UpstreamTokenValidator} in bearer.ts); throws to refuse it. */
export interface UpstreamBearerCheck {
  validate(authorization: string | null): Promise<unknown>;
}

/** Default of {@link UpstreamHandlerOptions.maxBodyBytes}: 1 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
