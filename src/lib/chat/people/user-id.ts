/**
 * User names as the service sees them. A user id travels in HTTP headers (`X-ASRS-User-Id` on every upstream
 * call) and Azure's front end (Kestrel) accepts only ASCII there; Node's fetch refuses anything beyond Latin-1.
 * Names may hold letters of any script (docs/architecture.md, "The chat protocol"), so every character outside printable ASCII is
 * percent-encoded (UTF-8) in the id the token carries, and decoded again when the service names the user.
 * ASCII names are their own id. `%` cannot occur in a name, so the mapping is reversible and unambiguous.
 */
import { isValidName } from '../../conversation.js';

/** The id the service knows `user` by. */
export function toServiceUserId(user: string): string {
  return user.replace(/[^\x20-\x7e]/gu, (c) => encodeURIComponent(c));
}

/** The user name behind a service user id, or `undefined` when the id is not one this app issued. */
export function fromServiceUserId(id: string | undefined): string | undefined {
  if (id === undefined) return undefined;
  let user: string;
  try {
    user = decodeURIComponent(id);
  } catch {
    return undefined;
  }
  // Only the canonical encoding of a valid name is accepted (e.g. not "%61nn" for "ann").
  return isValidName(user) && toServiceUserId(user) === id ? user : undefined;
}
