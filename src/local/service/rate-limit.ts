/**
 * Connect rate limits: one token bucket per client address and one per user (docs/local-service.md,
 * "Connections").
 */
import { setBounded } from '../../lib/bounded-map.js';
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

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** Buckets remembered at once per kind; the oldest are forgotten (a forgotten bucket starts full again). */
const MAX_BUCKETS = 10_000;

/** Token buckets keyed by address or user. */
export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();

  constructor(limit: BucketLimit, now: () => number = Date.now) {
    this.#limit = limit;
    this.#now = now;
  }

  readonly #limit: BucketLimit;
  readonly #now: () => number;

  /** Takes one token for `key`, or throws a 429 {@link Rejection} with `Retry-After` when none is left. */
  take(key: string): void {
    const { perSecond, burst } = this.#limit;
    const now = this.#now();
    const bucket = this.#buckets.get(key) ?? { tokens: burst, updatedAt: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * perSecond);
    bucket.updatedAt = now;
    if (bucket.tokens < 1) {
      const retryAfter = Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond));
      setBounded(this.#buckets, key, bucket, MAX_BUCKETS);
      throw new Rejection(
        'too-many-requests',
        `Too many connects from ${this.#limit.who}: at most ${burst} at once, then ${perSecond} per second (${this.#limit.optionNames}); retry after ${retryAfter} s`,
        { 'Retry-After': String(retryAfter) },
      );
    }
    bucket.tokens -= 1;
    setBounded(this.#buckets, key, bucket, MAX_BUCKETS);
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
