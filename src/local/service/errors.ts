/**
 * The service's close codes and HTTP rejections, in one place. Every rejection carries a status and a
 * message that says what to fix; the JSON body is `{"code":"…","message":"…"}`.
 */

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

/** Codes of HTTP rejections (stable strings for clients and tests). */
export type RejectionCode =
  | 'BadRequest'
  | 'Unauthorized'
  | 'NotFound'
  | 'MethodNotAllowed'
  | 'PayloadTooLarge'
  | 'ServiceUnavailable'
  | 'BadGateway'
  | 'GatewayTimeout';

const STATUS_OF: Record<RejectionCode, number> = {
  BadRequest: 400,
  Unauthorized: 401,
  NotFound: 404,
  MethodNotAllowed: 405,
  PayloadTooLarge: 413,
  ServiceUnavailable: 503,
  BadGateway: 502,
  GatewayTimeout: 504,
};

/** A request the service refuses; thrown by guards and turned into a JSON response (or handshake rejection). */
export class Rejection extends Error {
  override readonly name = 'Rejection';
  readonly status: number;
  constructor(
    readonly code: RejectionCode,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.status = STATUS_OF[code];
  }

  /** The JSON body of the rejection. */
  toJSON(): { code: RejectionCode; message: string } {
    return { code: this.code, message: this.message };
  }
}
