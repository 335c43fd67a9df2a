/** One connection of one user, as the chat handlers see it, and its display name. */
import type { Dialect } from '../../signalr/index.js';
import type { ChatRole } from '../moderation/roles.js';

/** One connection of one user. */
export interface Caller {
  /** The user id, as the service names the connection (`X-ASRS-User-Id`). */
  readonly user: string;
  /** The display name, when it differs from the id (signed-in users). */
  readonly name?: string;
  readonly connectionId: string;
  readonly dialect: Dialect;
  /**
   * The roles the service vouches for (docs/architecture.md, "Moderation"): set by the upstream adapter for
   * the commands that need them; absent means none.
   */
  readonly roles?: readonly ChatRole[];
}

/** `{ name }` when the caller has a display name other than its id, else nothing. */
export function nameOf(caller: Caller): { name?: string } {
  return caller.name !== undefined && caller.name !== caller.user ? { name: caller.name } : {};
}

/** The display names of `callers` that have one other than their id, by id. */
export function namesOf(callers: readonly Caller[]): Record<string, string> {
  // No prototype: a user may be called `__proto__` or `constructor`.
  const names: Record<string, string> = Object.create(null);
  for (const caller of callers) {
    const { name } = nameOf(caller);
    if (name !== undefined) names[caller.user] = name;
  }
  return names;
}
