/**
 * The one catalogue of history errors: each rejection has a stable code and a message that says what to fix.
 * The chat handlers turn them into `error` events (`{ code, message, command }`).
 */

export const HISTORY_ERRORS = {
  invalid_conversation: 'The conversation id is not valid',
  invalid_limit: 'The limit is not valid',
  invalid_before: 'The `before` message id is not valid',
  invalid_message: 'The message is not valid',
  corrupt_history: 'A history blob holds a line that is not a stored message',
} as const;

export type HistoryErrorCode = keyof typeof HISTORY_ERRORS;

/** A rejected history request (bad input) or unreadable stored data. `code` is stable; `message` explains. */
export class HistoryError extends Error {
  override readonly name = 'HistoryError';
  constructor(
    readonly code: HistoryErrorCode,
    detail: string,
  ) {
    super(`${HISTORY_ERRORS[code]}: ${detail}`);
  }
}
