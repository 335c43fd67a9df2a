/**
 * The service's close codes and its one error catalogue. Every rejection has a code (lowercase kebab-case,
 * as every error code of the project), a status and a message that says what to fix; the JSON body is
 * `{"code":"…","message":"…"}`.
 */
import type { ErrorSpec } from '../../lib/error-catalogue.js';

/** WebSocket close codes the service uses (RFC 6455 §7.4.1). */
export const CloseCode = {
  /** A normal close: the client asked, or the app closed the connection through the REST API. */
  Normal: 1000,
  /** The service is shutting down. */
  GoingAway: 1001,
  /** The client broke the SignalR hub protocol (bad handshake, malformed record). */
  ProtocolError: 1002,
  /** Received only: the peer closed without a status code. */
  NoStatus: 1005,
  /** Never on the wire: how a connection that vanished (or that the service cut off) is recorded. */
  Abnormal: 1006,
  /** A text frame was not valid UTF-8 (ws closes with it by itself). */
  InvalidPayload: 1007,
  /** A policy was violated: the client does not read fast enough (slow consumer). */
  PolicyViolation: 1008,
  /** A frame was larger than `maxMessageBytes`. */
  MessageTooBig: 1009,
  /** The upstream failed a blocking call, so the connection cannot go on. */
  InternalError: 1011,
} as const;

/**
 * Every way the service refuses a request or a handshake, each listed once. The message here is the general
 * one; a {@link Rejection} usually carries a more precise one that names what was found.
 */
export const SERVICE_ERRORS = {
  'invalid-request': {
    status: 400,
    message: 'The request is not valid; the message says which part to fix',
  },
  'invalid-hub': {
    status: 400,
    message:
      'Invalid hub name. Valid hub name should be in between 1 and 128 characters long. The first character must be a letter, other characters can be letters, digits or the following symbols _`,.[]',
  },
  'invalid-option': {
    status: 400,
    message: 'A service option is not valid; the message names it and says what it expects',
  },
  'invalid-token': {
    status: 401,
    message: "Send a JWT signed with one of the service's access keys whose audience is the URL called",
  },
  'local-auth-disabled': {
    status: 401,
    message:
      'Local auth is disabled (identity mode): access-key tokens are refused; send a Microsoft Entra token for https://signalr.azure.com',
  },
  'identity-unavailable': {
    status: 503,
    message: 'The OpenID metadata or signing keys that Entra tokens are checked with could not be fetched',
  },
  'no-user': {
    status: 401,
    message:
      'No user id: connect with an access_token whose nameid is the user, or let the connect upstream set it',
  },
  'user-mismatch': {
    status: 401,
    message: 'The access token is for another user than the negotiated one',
  },
  'not-found': {
    status: 404,
    message: 'Nothing at that path; check the API prefix, the hub and the operation',
  },
  'connection-not-found': {
    status: 404,
    message: 'No such connection in this hub',
  },
  'negotiation-not-found': {
    status: 404,
    message: 'No negotiated connection with that id: negotiate first, and connect before it expires',
  },
  'connection-active': {
    status: 409,
    message:
      'That connection already has its transport: one WebSocket or event stream per connection (only stateful reconnect may replace a lost WebSocket)',
  },
  'send-in-progress': {
    status: 409,
    message:
      'This connection already has a POST in flight: send the next one once it is answered (one at a time, as the SignalR clients do)',
  },
  'method-not-allowed': {
    status: 405,
    message: 'That method is not allowed here; the Allow header lists the ones that are',
  },
  'payload-too-large': {
    status: 413,
    message: "The request body is larger than the service's limit (maxMessageBytes)",
  },
  'unsupported-media-type': {
    status: 415,
    message: 'Send the message body as Content-Type: application/json',
  },
  'too-many-requests': {
    status: 429,
    message: 'Too many connects from this address or user; wait for the time Retry-After gives, then retry',
  },
  'too-many-sends': {
    status: 429,
    message:
      'Too many sends from this address at once (maxConcurrentSendsPerAddress); wait for their answers, then send again',
  },
  'internal-error': {
    status: 500,
    message: 'The service failed to handle the request',
  },
  'upstream-failed': {
    status: 502,
    message: "The connect upstream failed or answered what the protocol does not allow; check the app's log",
  },
  'handshake-failed': {
    status: 502,
    message: 'The service failed to handle the handshake',
  },
  'client-invocation-failed': {
    status: 502,
    message: 'The client answered the invocation with an error; the message carries it',
  },
  'shutting-down': {
    status: 503,
    message: 'The service is shutting down',
  },
  'upstream-timeout': {
    status: 504,
    message: 'The connect upstream did not answer in time (upstreamTimeoutMs)',
  },
  'client-invocation-timeout': {
    status: 504,
    message: 'The client did not answer the invocation in time (clientInvocationTimeoutMs) or left first',
  },
} as const satisfies Record<string, ErrorSpec>;

/** Codes of rejections (stable strings for clients and tests). */
export type RejectionCode = keyof typeof SERVICE_ERRORS;

/** A request the service refuses; thrown by guards and turned into a JSON response (or handshake rejection). */
export class Rejection extends Error {
  override readonly name = 'Rejection';
  readonly status: number;
  /** `message` defaults to the catalogue's. */
  constructor(
    readonly code: RejectionCode,
    message: string = SERVICE_ERRORS[code].message,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.status = SERVICE_ERRORS[code].status;
  }

  /** The JSON body of the rejection. */
  toJSON(): { code: RejectionCode; message: string } {
    return { code: this.code, message: this.message };
  }
}
