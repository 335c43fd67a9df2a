/**
 * Client messages waiting for the upstream, counted per user across all their connections: past
 * `maxQueuedUpstreamCallsPerUser` a user's next message is refused at once instead of queued, so one user's
 * flood never becomes minutes of calls the app works through after the client stopped (docs/local-service.md,
 * "Upstream calls").
 */

/** How often a refusing user's drops are logged at most (one line with the count since the last). */
export const BACKLOG_LOG_INTERVAL_MS = 1_000;

export class UserBacklog {
  readonly #max: number;
  readonly #now: () => number;
  readonly #waiting = new Map<string, number>();
  readonly #refused = new Map<string, { count: number; loggedAt: number }>();
  #refusedTotal = 0;

  constructor(max: number, now: () => number = Date.now) {
    this.#max = max;
    this.#now = now;
  }

  /** Messages refused since the service started. */
  get refused(): number {
    return this.#refusedTotal;
  }

  /** Messages of `key` waiting or running now. */
  waiting(key: string): number {
    return this.#waiting.get(key) ?? 0;
  }

  /**
   * Admits one more message of `key` (give it back with `release` once its call ended), or refuses it: then
   * returns how many of this key's refusals are to be logged now (0 while the last log line is recent).
   */
  admit(key: string): { admitted: true } | { admitted: false; toLog: number } {
    const waiting = this.#waiting.get(key) ?? 0;
    if (waiting < this.#max) {
      this.#waiting.set(key, waiting + 1);
      return { admitted: true };
    }
    this.#refusedTotal++;
    const now = this.#now();
    const refused = this.#refused.get(key) ?? { count: 0, loggedAt: -Infinity };
    refused.count++;
    if (now - refused.loggedAt < BACKLOG_LOG_INTERVAL_MS) {
      this.#refused.set(key, refused);
      return { admitted: false, toLog: 0 };
    }
    this.#refused.set(key, { count: 0, loggedAt: now });
    return { admitted: false, toLog: refused.count };
  }

  release(key: string): void {
    const waiting = (this.#waiting.get(key) ?? 1) - 1;
    if (waiting > 0) this.#waiting.set(key, waiting);
    else {
      this.#waiting.delete(key);
      this.#refused.delete(key);
    }
  }
}
