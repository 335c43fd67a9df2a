/**
 * The one catalogue of upstream rejections: every way the dispatcher itself refuses a call, each listed once
 * with its stable code, HTTP status and a message that says what to fix. Rejections a handler chooses
 * (`res.fail(…)`) are the application's and are not listed here.
 */

interface UpstreamErrorSpec {
  readonly status: number;
  readonly message: string;
}

export const UPSTREAM_ERRORS = {
  UPSTREAM_MISSING_CONNECTION_ID: {
    status: 400,
    message: 'The X-ASRS-Connection-Id header is required on every upstream call',
  },
  UPSTREAM_MISSING_SIGNATURE: {
    status: 401,
    message:
      "The X-ASRS-Signature header is missing; upstream calls must be signed by a SignalR service that holds one of this app's access keys",
  },
  UPSTREAM_BAD_SIGNATURE: {
    status: 401,
    message:
      "X-ASRS-Signature matches none of the configured access keys; check that the app's SignalR connection string has the service's current key",
  },
  UPSTREAM_NO_ACCESS_KEYS: {
    status: 500,
    message:
      'No access keys are configured to verify upstream signatures; set the SignalR connection string (or access key) of the app',
  },
  UPSTREAM_MISSING_HUB: {
    status: 400,
    message: 'The X-ASRS-Hub header is required on every upstream call',
  },
  UPSTREAM_WRONG_HUB: {
    status: 400,
    message: "This endpoint does not serve that hub; point the hub's upstream template at its own endpoint",
  },
  UPSTREAM_MISSING_EVENT: {
    status: 400,
    message: 'The event is missing; send the X-ASRS-Event header or an ?event= query parameter',
  },
  UPSTREAM_UNKNOWN_CATEGORY: {
    status: 400,
    message: 'X-ASRS-Category must be "connections" or "messages"',
  },
  UPSTREAM_UNKNOWN_EVENT: {
    status: 400,
    message:
      'Unknown connection event; the connections category carries connect (or handshake), connected, disconnect and disconnected',
  },
  UPSTREAM_BODY_TOO_LARGE: {
    status: 413,
    message: 'The upstream body is larger than this endpoint accepts; raise maxBodyBytes or send less',
  },
  UPSTREAM_MALFORMED_BODY: {
    status: 400,
    message: 'The upstream body does not have the shape its event requires',
  },
  UPSTREAM_TARGET_MISMATCH: {
    status: 400,
    message: "The invocation's target differs from the event name; the service sends the target as the event",
  },
  UPSTREAM_HANDLER_FAILED: {
    status: 500,
    message: 'The upstream handler failed; the Functions log has the details',
  },
  UPSTREAM_INTERNAL_ERROR: {
    status: 500,
    message: 'The upstream endpoint failed before reaching a handler; the Functions log has the details',
  },
  UPSTREAM_NO_ANSWER: {
    status: 500,
    message: 'The upstream handler returned without answering; it must call the response object once',
  },
} as const satisfies Record<string, UpstreamErrorSpec>;

/** The stable code of a catalogued rejection. */
export type UpstreamErrorCode = keyof typeof UPSTREAM_ERRORS;

/**
 * A catalogued rejection. `detail` adds what was found (never a secret); the response body is
 * `message` followed by the detail.
 */
export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';
  readonly code: UpstreamErrorCode;
  readonly status: number;
  readonly detail: string | undefined;

  constructor(code: UpstreamErrorCode, detail?: string) {
    const spec: UpstreamErrorSpec = UPSTREAM_ERRORS[code];
    super(detail ? `${spec.message} (${detail})` : spec.message);
    this.code = code;
    this.status = spec.status;
    this.detail = detail;
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
