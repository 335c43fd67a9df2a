/**
 * Client messages waiting for the upstream, counted per user across all their connections and in all: past
 * `maxQueuedUpstreamCallsPerUser` a user's next message is refused at once instead of queued, so one user's
 * flood never becomes minutes of calls the app works through after the client stopped; past
 * `maxQueuedUpstreamCallsTotal` in all, only a user with nothing waiting gets one in, so names that cost nothing
 * do not add up to an unbounded queue, and nobody is starved by the others (docs/local-service.md, "Upstream
 * calls").
 */

/** How often a refusing user's drops are logged at most (one line with the count since the last). */
export const BACKLOG_LOG_INTERVAL_MS = 1_000;

/** The bounds of a {@link UserBacklog}. */
export interface BacklogBounds {
  /** Messages of one key (a user, or a connection without one) waiting or running. */
  readonly perUser: number;
  /** Messages of all keys waiting or running, past which only a key with none gets one in. */
  readonly total: number;
}

/** Which bound refused a message. */
export type BacklogBound = 'perUser' | 'total';

export type Admission =
  | { readonly admitted: true }
  | { readonly admitted: false; readonly bound: BacklogBound; readonly toLog: number };

export class UserBacklog {
  readonly #bounds: BacklogBounds;
  readonly #now: () => number;
  readonly #waiting = new Map<string, number>();
  readonly #refused = new Map<string, { count: number; loggedAt: number }>();
  #total = 0;
  #refusedTotal = 0;

  constructor(bounds: BacklogBounds, now: () => number = Date.now) {
    this.#bounds = bounds;
    this.#now = now;
  }

  /** The bounds it keeps. */
  get bounds(): BacklogBounds {
    return this.#bounds;
  }

  /** Messages refused since the service started. */
  get refused(): number {
    return this.#refusedTotal;
  }

  /** Messages of all keys waiting or running now. */
  get total(): number {
    return this.#total;
  }

  /** Messages of `key` waiting or running now. */
  waiting(key: string): number {
    return this.#waiting.get(key) ?? 0;
  }

  /**
   * Admits one more message of `key` (give it back with `release` once its call ended), or refuses it: then
   * says which bound refused it and how many of this key's refusals are to be logged now (0 while the last log
   * line is recent).
   */
  admit(key: string): Admission {
    const waiting = this.#waiting.get(key) ?? 0;
    // Past the total a key with nothing waiting still gets one in: others' floods never starve it.
    const bound: BacklogBound | undefined =
      waiting >= this.#bounds.perUser
        ? 'perUser'
        : this.#total >= this.#bounds.total && waiting > 0
          ? 'total'
          : undefined;
    if (bound === undefined) {
      this.#waiting.set(key, waiting + 1);
      this.#total++;
      return { admitted: true };
    }
    this.#refusedTotal++;
    const now = this.#now();
    const refused = this.#refused.get(key) ?? { count: 0, loggedAt: -Infinity };
    refused.count++;
    if (now - refused.loggedAt < BACKLOG_LOG_INTERVAL_MS) {
      this.#refused.set(key, refused);
      return { admitted: false, bound, toLog: 0 };
    }
    this.#refused.set(key, { count: 0, loggedAt: now });
    return { admitted: false, bound, toLog: refused.count };
  }

  release(key: string): void {
    const waiting = (this.#waiting.get(key) ?? 1) - 1;
    this.#total = Math.max(0, this.#total - 1);
    if (waiting > 0) this.#waiting.set(key, waiting);
    else {
      this.#waiting.delete(key);
      this.#refused.delete(key);
    }
  }
}

/** What the client hears when `bound` refused its message (the reason), and the log line's message and option. */
export function backlogRefusal(
  bound: BacklogBound,
  bounds: BacklogBounds,
): { readonly reason: string; readonly log: string; readonly option: string; readonly max: number } {
  if (bound === 'perUser') {
    return {
      reason: `the user has ${bounds.perUser} messages waiting for the upstream (maxQueuedUpstreamCallsPerUser); send again once they are answered`,
      log: 'Refused client messages: too many of this user wait for the upstream',
      option: 'maxQueuedUpstreamCallsPerUser',
      max: bounds.perUser,
    };
  }
  return {
    reason: `the service has ${bounds.total} client messages waiting for the upstream (maxQueuedUpstreamCallsTotal) and this user has one of them; send again once it is answered`,
    log: 'Refused client messages: the service has too many waiting for the upstream',
    option: 'maxQueuedUpstreamCallsTotal',
    max: bounds.total,
  };
}
