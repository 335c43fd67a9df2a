/**
 * Token buckets by key, for the app's fair-sharing limits (docs/architecture.md, "Fair sharing") and the local
 * service's connect limits (docs/local-service.md, "Connections"). Each key gets `burst` tokens that refill at
 * `perSecond`; a request takes one or is told how long to wait. At most `maxKeys` keys are remembered (the least
 * recently used is forgotten, which only ever lets a request through). The state lives in one instance's memory:
 * with several instances each one limits what reaches it.
 */
import { setBounded } from './bounded-map.js';

export interface RateLimitOptions {
  /** Requests allowed at once. */
  readonly burst: number;
  /** Requests a second once the burst is used. */
  readonly perSecond: number;
  /** Keys remembered at most. Default {@link DEFAULT_MAX_RATE_KEYS}. */
  readonly maxKeys?: number;
  /** The clock, for tests. */
  readonly now?: () => number;
}

export const DEFAULT_MAX_RATE_KEYS = 10_000;

export class RateLimiter {
  readonly burst: number;
  readonly perSecond: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(options: RateLimitOptions) {
    if (!(options.burst >= 1) || !(options.perSecond > 0)) {
      throw new RangeError('A rate limit needs burst >= 1 and perSecond > 0');
    }
    this.burst = options.burst;
    this.perSecond = options.perSecond;
    this.#maxKeys = options.maxKeys ?? DEFAULT_MAX_RATE_KEYS;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Takes `cost` tokens for `key` (1 unless said; more than the burst counts as the burst): 0 when allowed, else
   * the milliseconds until that many are free (nothing is taken).
   */
  take(key: string, cost = 1): number {
    const need = Math.min(Math.max(1, cost), this.burst);
    const now = this.#now();
    const bucket = this.#buckets.get(key) ?? { tokens: this.burst, at: now };
    const tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    if (tokens >= need) {
      setBounded(this.#buckets, key, { tokens: tokens - need, at: now }, this.#maxKeys);
      return 0;
    }
    setBounded(this.#buckets, key, { tokens, at: now }, this.#maxKeys);
    return Math.max(1, Math.ceil(((need - tokens) / this.perSecond) * 1000));
  }
}
