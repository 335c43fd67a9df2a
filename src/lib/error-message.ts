/**
 * The text of a thrown value, for logs and for the messages that carry a cause on: anything may be thrown, and
 * only an `Error` has a message.
 */

/** An `Error`'s message; anything else thrown, as a string. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** {@link messageOf} led by the error's name (`TypeError: …`), for logs of failures nobody expected. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
