/**
 * Connect rate limits: one token bucket per client address and one per user (docs/local-service.md,
 * "Connections").
 */
import { RateLimiter as TokenBuckets } from '../../lib/rate-limit.js';
import { Rejection } from './errors.js';

/** One limit: sustained rate and burst, with the option names a rejection quotes. */
export interface BucketLimit {
  readonly perSecond: number;
  readonly burst: number;
  /** e.g. `connectsPerSecondPerUser / connectBurstPerUser`. */
  readonly optionNames: string;
  /** e.g. `this user` — who is limited, as the rejection says it. */
  readonly who: string;
}

/**
 * Token buckets keyed by address or user: the project's one token bucket (`src/lib/rate-limit.ts`, which
 * remembers at most its default number of keys), refusing with the service's 429.
 */
export class RateLimiter {
  readonly #limit: BucketLimit;
  readonly #buckets: TokenBuckets;

  constructor(limit: BucketLimit, now: () => number = Date.now) {
    this.#limit = limit;
    this.#buckets = new TokenBuckets({ burst: limit.burst, perSecond: limit.perSecond, now });
  }

  /** Takes one token for `key`, or throws a 429 {@link Rejection} with `Retry-After` when none is left. */
  take(key: string): void {
    const waitMs = this.#buckets.take(key);
    if (waitMs === 0) return;
    const { perSecond, burst, who, optionNames } = this.#limit;
    const retryAfter = Math.ceil(waitMs / 1000);
    throw new Rejection(
      'too-many-requests',
      `Too many connects from ${who}: at most ${burst} at once, then ${perSecond} per second (${optionNames}); retry after ${retryAfter} s`,
      { 'Retry-After': String(retryAfter) },
    );
  }
}

/** The connect limits of one service: per address and per user. */
export class ConnectLimits {
  readonly #addresses: RateLimiter;
  readonly #users: RateLimiter;

  constructor(
    options: {
      readonly connectsPerSecondPerAddress: number;
      readonly connectBurstPerAddress: number;
      readonly connectsPerSecondPerUser: number;
      readonly connectBurstPerUser: number;
    },
    now?: () => number,
  ) {
    this.#addresses = new RateLimiter(
      {
        perSecond: options.connectsPerSecondPerAddress,
        burst: options.connectBurstPerAddress,
        optionNames: 'connectBurstPerAddress, connectsPerSecondPerAddress',
        who: 'this address',
      },
      now,
    );
    this.#users = new RateLimiter(
      {
        perSecond: options.connectsPerSecondPerUser,
        burst: options.connectBurstPerUser,
        optionNames: 'connectBurstPerUser, connectsPerSecondPerUser',
        who: 'this user',
      },
      now,
    );
  }

  /** Charges the client's address (before anything else is checked). */
  address(remoteAddress: string | undefined): void {
    this.#addresses.take(remoteAddress ?? 'unknown');
  }

  /** Charges a verified user, if the token names one. */
  user(userId: string | undefined): void {
    if (userId !== undefined) this.#users.take(userId);
  }
}
