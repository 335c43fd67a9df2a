/**
 * The one catalogue of upstream rejections: every way the dispatcher itself refuses a call, each listed once
 * with its stable code (lowercase kebab-case, as every error code of the project), HTTP status and a
 * message that says what to fix. Rejections a handler chooses (`res.fail(…)`) are the application's and are
 * not listed here.
 * See docs/architecture.md, "Errors".
 */
import { CataloguedError, type ErrorSpec } from '../error-catalogue.js';
import { UPSTREAM_HEADERS } from '../signalr/index.js';

const H = UPSTREAM_HEADERS;

export const UPSTREAM_ERRORS = {
  'missing-connection-id': {
    status: 400,
    message: `The ${H.connectionId} header is required on every upstream call`,
  },
  'missing-signature': {
    status: 401,
    message: `The ${H.signature} header is missing; upstream calls must be signed by a SignalR service that holds one of this app's access keys`,
  },
  'bad-signature': {
    status: 401,
    message: `${H.signature} matches none of the configured access keys; check that the app's SignalR connection string has the service's current key`,
  },
  'no-access-keys': {
    status: 500,
    message:
      'No access keys are configured to verify upstream signatures; set the SignalR connection string (or access key) of the app',
  },
  'missing-bearer-token': {
    status: 401,
    message:
      'The Authorization: Bearer <token> header is missing; in identity mode the upstream template needs ManagedIdentity auth (its resource = SIGNALR_UPSTREAM_AUDIENCE)',
  },
  'bearer-token-malformed': {
    status: 401,
    message: 'The bearer token is not a valid Microsoft Entra access token',
  },
  'bearer-token-signature': {
    status: 401,
    message:
      "The bearer token is not signed by a key of SIGNALR_UPSTREAM_OPENID_CONFIGURATION (RS256); check that setting names the tenant of SignalR's identity",
  },
  'bearer-token-expired': {
    status: 401,
    message: 'The bearer token has expired',
  },
  'bearer-token-issuer': {
    status: 401,
    message: 'The bearer token was issued by another tenant or authority; check SIGNALR_UPSTREAM_ISSUER',
  },
  'bearer-token-audience': {
    status: 401,
    message:
      "The bearer token is for another audience; set the upstream template's ManagedIdentity resource and SIGNALR_UPSTREAM_AUDIENCE to the same value",
  },
  'bearer-token-caller': {
    status: 401,
    message:
      "The bearer token belongs to another identity than SignalR's; SIGNALR_UPSTREAM_CALLER_ID must be the principal id of SignalR's managed identity",
  },
  'signing-keys-unavailable': {
    status: 503,
    message:
      'The signing keys of upstream tokens could not be fetched from SIGNALR_UPSTREAM_OPENID_CONFIGURATION; the call can be retried',
  },
  'upstream-auth-unconfigured': {
    status: 500,
    message:
      'Identity mode needs SIGNALR_UPSTREAM_AUDIENCE, SIGNALR_UPSTREAM_ISSUER, SIGNALR_UPSTREAM_OPENID_CONFIGURATION and SIGNALR_UPSTREAM_CALLER_ID to check upstream calls',
  },
  'missing-hub': {
    status: 400,
    message: `The ${H.hub} header is required on every upstream call`,
  },
  'wrong-hub': {
    status: 400,
    message: "This endpoint does not serve that hub; point the hub's upstream template at its own endpoint",
  },
  'missing-event': {
    status: 400,
    message: `The event is missing; send the ${H.event} header or an ?event= query parameter`,
  },
  'unknown-category': {
    status: 400,
    message: `${H.category} must be "connections" or "messages"`,
  },
  'unknown-event': {
    status: 400,
    message:
      'Unknown connection event; the connections category carries connect (or handshake), connected, disconnect and disconnected',
  },
  'payload-too-large': {
    status: 413,
    message: 'The upstream body is larger than this endpoint accepts; raise maxBodyBytes or send less',
  },
  'malformed-body': {
    status: 400,
    message: 'The upstream body does not have the shape its event requires',
  },
  'target-mismatch': {
    status: 400,
    message: "The invocation's target differs from the event name; the service sends the target as the event",
  },
  'handler-failed': {
    status: 500,
    message: 'The upstream handler failed; the Functions log has the details',
  },
  'internal-error': {
    status: 500,
    message: 'The upstream endpoint failed before reaching a handler; the Functions log has the details',
  },
  'no-answer': {
    status: 500,
    message: 'The upstream handler returned without answering; it must call the response object once',
  },
} as const satisfies Record<string, ErrorSpec>;

/** The stable code of a catalogued rejection. */
export type UpstreamErrorCode = keyof typeof UPSTREAM_ERRORS;

/**
 * A catalogued rejection. `detail` adds what was found (never a secret); the response body is
 * `message` followed by the detail, as plain text, like every upstream answer that refuses: the service
 * relays an upstream's error body to the client as text (a refused handshake's body, a Completion's
 * error), so it is the reason itself, not JSON. The code goes to the Functions log with it.
 */
export class UpstreamError extends CataloguedError<UpstreamErrorCode> {
  override readonly name = 'UpstreamError';

  constructor(code: UpstreamErrorCode, detail?: string) {
    super(UPSTREAM_ERRORS, code, detail);
  }
}

/**
 * Quotes a value taken from a request for a rejection detail or a log line: JSON-escaped (so control
 * characters cannot forge log lines) and cut to a readable length.
 */
export function quoteValue(value: string, maxLength = 80): string {
  const cut = value.length > maxLength ? `${value.slice(0, maxLength)}…` : value;
  return JSON.stringify(cut);
}
