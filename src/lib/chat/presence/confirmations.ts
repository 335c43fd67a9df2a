/**
 * Which users the service confirmed online lately, as one instance remembers it: the service's answers (one
 * question per user at a time, however many pages ask) and the entries that vouch for a user because they were
 * written when the service announced the connection (docs/architecture.md, "Presence and group memberships").
 */
import { setBounded } from '../../bounded-map.js';

/** Answers whether the service has at least one connection of `user`. */
export type UserExists = (user: string) => Promise<boolean>;

export interface ConfirmationsOptions {
  /** How long a confirmation holds (ms); 0 remembers none. */
  ttlMs: number;
  /** The most users remembered (the oldest go first). */
  max: number;
  /** An entry past this age (ms) cannot vouch for its user: it must be asked about to be swept. */
  staleGraceMs: number;
  now: () => number;
}

export class Confirmations {
  readonly #options: ConfirmationsOptions;
  /** When each user was last confirmed (ms). */
  readonly #confirmedAt = new Map<string, number>();
  /** The question in flight per user, shared by concurrent pages. */
  readonly #asking = new Map<string, Promise<boolean>>();

  constructor(options: ConfirmationsOptions) {
    this.#options = options;
  }

  /** Whether the service (or an entry vouching for it) confirmed `user` within the confirmation time. */
  fresh(user: string): boolean {
    const confirmedAt = this.#confirmedAt.get(user);
    return confirmedAt !== undefined && this.#options.now() - confirmedAt < this.#options.ttlMs;
  }

  /** The service's answer for `user`, or a recent "online" remembered from it. */
  async isOnline(user: string, userExists: UserExists): Promise<boolean> {
    if (this.fresh(user)) return true;
    this.#confirmedAt.delete(user);
    const pending = this.#asking.get(user);
    if (pending !== undefined) return pending;
    const now = this.#options.now();
    const question = userExists(user).then((online) => {
      if (online) this.confirm(user, now);
      return online;
    });
    this.#asking.set(user, question);
    try {
      return await question;
    } finally {
      this.#asking.delete(user);
    }
  }

  /**
   * An entry written when the service announced its connection, at `modified` (the storage's time, in whole
   * seconds, so never later than it was): as good as the service's answer then, for the confirmation time or
   * the stale grace period, whichever is shorter (an entry past the grace must be asked about to be swept).
   */
  vouched(user: string, modified: number): void {
    const { ttlMs, staleGraceMs, now } = this.#options;
    const lasts = Math.min(ttlMs, staleGraceMs);
    const at = Math.min(modified, now()) - (ttlMs - lasts);
    if (now() - at < ttlMs && at > (this.#confirmedAt.get(user) ?? 0)) this.confirm(user, at);
  }

  confirm(user: string, at: number): void {
    if (this.#options.ttlMs > 0) setBounded(this.#confirmedAt, user, at, this.#options.max);
  }
}
