/**
 * The one catalogue of history errors: each code listed once, with what to fix and the HTTP status of the
 * rejection. Codes are lowercase kebab-case and stable; an error's `message` is the catalogue's text followed by
 * the particulars. The chat handlers turn them into `error` events (`{ code, message, command }`).
 * See docs/architecture.md, "Errors".
 */

/** One entry of the catalogue. */
export interface HistoryErrorEntry {
  /** What went wrong and what to fix. */
  readonly message: string;
  /** The HTTP status of the rejection. */
  readonly status: number;
}

export const HISTORY_ERRORS = {
  'invalid-conversation': { message: 'The conversation id is not valid', status: 400 },
  'invalid-limit': { message: 'The limit is not valid', status: 400 },
  'invalid-before': { message: '`before` must be the id of a message of the conversation read', status: 400 },
  'invalid-message': { message: 'The message is not valid', status: 400 },
  'corrupt-history': { message: 'A history blob holds a line that is not a stored message', status: 500 },
} as const satisfies Record<string, HistoryErrorEntry>;

export type HistoryErrorCode = keyof typeof HISTORY_ERRORS;

/** A rejected history request (bad input) or unreadable stored data. `code` is stable; `message` explains. */
export class HistoryError extends Error {
  override readonly name = 'HistoryError';
  constructor(
    readonly code: HistoryErrorCode,
    /** What is wrong with this request, without the code's general message. */
    readonly detail: string,
  ) {
    super(`${HISTORY_ERRORS[code].message}: ${detail}`);
  }
}
