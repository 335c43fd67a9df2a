/**
 * Strict reading of an event body that must be UTF-8 text or JSON. What cannot be read is refused with the
 * caller's error, whose detail names the body and the problem (docs/architecture.md, "Errors").
 */
import { messageOf } from './error-message.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The error the caller's layer throws for a body it cannot read, given what is wrong with it. */
export type Refusal = (detail: string) => Error;

/** `body` as text; refused when it is not valid UTF-8. `what` names the body in the detail. */
export function decodeText(body: Uint8Array, what: string, refuse: Refusal): string {
  try {
    return utf8.decode(body);
  } catch {
    throw refuse(`${what} is not valid UTF-8`);
  }
}

/** `body` parsed as JSON; refused when it is not valid UTF-8 or not valid JSON. */
export function decodeJson(body: Uint8Array, what: string, refuse: Refusal): unknown {
  const text = decodeText(body, what, refuse);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw refuse(`${what} is not valid JSON: ${messageOf(error)}`);
  }
}
