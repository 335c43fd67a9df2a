/** How a REST call to the service fails: {@link SignalRRestError}, which never contains a token. */
import type { SIGNALR_ERRORS, SignalRErrorCode } from '../errors.js';

/** How much of the service's error body an error message repeats. */
export const MAX_ERROR_BODY_CHARS = 500;

/**
 * The `rest-…` codes of {@link SIGNALR_ERRORS}: `rest-refused`, the service answered with an error status (or
 * without what was asked); `rest-unreachable`/`rest-timeout`, no answer; `rest-no-credential`, no Entra token.
 */
export type SignalRRestErrorCode = Extract<SignalRErrorCode, `rest-${string}`>;

/**
 * A REST call the service refused or that did not complete. `status` is the HTTP status of a `rest-refused`
 * error; `serviceMessage` is the service's body text, truncated to {@link MAX_ERROR_BODY_CHARS}.
 * The message never contains a token.
 */
export class SignalRRestError extends Error {
  override readonly name = 'SignalRRestError';
  constructor(
    /** What was attempted, e.g. `sendToUser`. */
    readonly operation: string,
    readonly code: SignalRRestErrorCode,
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

/** The service's body text as an error repeats it: trimmed, at most {@link MAX_ERROR_BODY_CHARS} characters. */
export function truncateServiceMessage(text: string): string {
  const trimmed = text.trim();
  return trimmed.length > MAX_ERROR_BODY_CHARS ? `${trimmed.slice(0, MAX_ERROR_BODY_CHARS)}…` : trimmed;
}
