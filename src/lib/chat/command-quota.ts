/**
 * The command limit per user, shared by every Function instance: one token bucket per user in a blob
 * (`_limits/<user>`), from which an instance takes a few tokens at a time with a conditional write (more each time
 * while the user keeps well under the limit), and spends them from memory for as long as it needs: a user well
 * under the limit costs one write per up to 15 commands, not one per command, and a command is never let through without a token taken from the shared bucket
 * (docs/architecture.md, "Fair sharing"). A command whose work grows with its size costs more tokens
 * ({@link commandCost}).
 */
import { randomUUID } from 'node:crypto';
import type { ContainerClient } from '@azure/storage-blob';
import { setBounded } from '../bounded-map.js';
import { RateLimiter } from '../rate-limit.js';
import type { ChatCommand } from './commands.js';
import { type SearchOptions, searchCost } from './reading/search.js';

/** The blob name prefix of the per-user buckets (conversation folders never start with `_`). */
export const LIMITS_PREFIX = '_limits/';
/**
 * The tokens an instance first takes from a user's bucket at once. A lease leaves the bucket at least as many
 * tokens as all instances then hold unspent, so it shrinks as the bucket empties: a user well under the limit
 * costs one write per lease of commands, and one near the limit (fewer than three tokens in the bucket beside
 * those held) spends tokens taken one by one.
 * Tokens an instance took and has not spent stay with it (there is no time limit on them: they were paid for),
 * so another instance can only see fewer tokens than the user has left, never more.
 */
export const DEFAULT_COMMAND_LEASE = 5;
/**
 * The largest lease: each lease an instance spent whole within {@link DEFAULT_LEASE_TTL_MS} lets its next one for
 * that user be twice as large, up to this (a user who keeps sending on one instance costs one write per this many
 * commands); a lease not spent in time, or a take near the limit, goes back to {@link DEFAULT_COMMAND_LEASE}, and
 * after a lease the bucket kept smaller than asked the next asks for that many (at least the first).
 */
export const DEFAULT_MAX_COMMAND_LEASE = 15;
/**
 * How long the tokens of a lease may be spent. Each instance declares what it holds, and until when, in the
 * bucket with its take, and a take leaves the tokens held unspent by all instances together within half the
 * burst: so however many instances there are, a user can never spend more at once than the burst plus half of
 * it. A declaration past this time counts for nothing, and its tokens are forfeited by their holder.
 */
export const DEFAULT_LEASE_TTL_MS = 60_000;
/** Conditional writes tried per claim before the command is refused (other instances took tokens meanwhile). */
export const DEFAULT_QUOTA_WRITE_ATTEMPTS = 4;
/** Users an instance remembers leases and bucket copies for (the least recent are forgotten first). */
export const DEFAULT_MAX_QUOTA_USERS = 10_000;
/**
 * Members of a new group one command pays for: a `createGroup` costs one token per started ten of its members,
 * its creator included (a group of 256 costs 26), since each member is a few Blob writes and a service call.
 * The app setting `CHAT_GROUP_MEMBERS_PER_COMMAND`.
 */
export const DEFAULT_GROUP_MEMBERS_PER_COMMAND = 10;

/**
 * Messages of a history page one command pays for: a `loadHistory` costs one command per started this many of its
 * `limit` (the page's ranged downloads grow with it: one for the page the client shows, two for the largest), and
 * one more with a `before`, whose message is found by a search (a listing and a few probes of each segment it
 * bisects) before the page is read.
 */
export const DEFAULT_HISTORY_MESSAGES_PER_COMMAND = 50;
/**
 * People of a `findPeople` page one command pays for: one command per started this many of its `limit` (the
 * page's listing returns each match with its metadata, and a listing is billed by Azure Storage at the rate of a
 * write): one for the default page of 20, three for the largest of 50.
 */
export const DEFAULT_PEOPLE_PER_COMMAND = 20;

/**
 * Why a command costs what {@link commandCost} charges for it beside the members of a group and the scan of a
 * search (which the app's limiter words with its settings), for the `rate-limited` message; `undefined` when
 * it costs one per command whatever its fields.
 */
export function commandCostReason(command: ChatCommand): string | undefined {
  if (command.type === 'loadHistory')
    return `one per ${DEFAULT_HISTORY_MESSAGES_PER_COMMAND} messages of its limit, and one more with "before" (finding that message is a search)`;
  if (command.type === 'findPeople') return `one per ${DEFAULT_PEOPLE_PER_COMMAND} people of its limit`;
  return undefined;
}

/**
 * The tokens `command` from `user` costs: one; for a `loadHistory` one per started
 * {@link DEFAULT_HISTORY_MESSAGES_PER_COMMAND} of its limit and one more with `before`; for a `findPeople` one per
 * started {@link DEFAULT_PEOPLE_PER_COMMAND} of its limit; for a `createGroup` one per started `membersPerCommand` of its
 * members ({@link DEFAULT_GROUP_MEMBERS_PER_COMMAND}); for a `renameGroup` one per started `membersPerCommand` of
 * the `renamedMembers` whose lists it rewrites (a private group's members when the title changes, as its record
 * says before the command runs; none otherwise); for a `searchMessages` what its scan bounds `search` may read
 * (search.ts, `searchCost`). {@link CommandQuota.take}
 * never asks more than the burst, so every command can pass once the bucket is full.
 */
export function commandCost(
  command: ChatCommand,
  user: string,
  membersPerCommand = DEFAULT_GROUP_MEMBERS_PER_COMMAND,
  search: Partial<SearchOptions> = {},
  renamedMembers = 0,
): number {
  if (command.type === 'searchMessages') return searchCost(search);
  if (command.type === 'loadHistory')
    return (
      Math.ceil(command.limit / DEFAULT_HISTORY_MESSAGES_PER_COMMAND) + (command.before !== undefined ? 1 : 0)
    );
  if (command.type === 'findPeople') return Math.ceil(command.limit / DEFAULT_PEOPLE_PER_COMMAND);
  const members =
    command.type === 'createGroup'
      ? new Set([user, ...command.members]).size
      : command.type === 'renameGroup'
        ? renamedMembers
        : 1;
  return Math.max(1, Math.ceil(members / Math.max(1, membersPerCommand)));
}

export interface CommandQuotaOptions {
  /** Commands at once (the bucket's size). */
  readonly burst: number;
  /** Commands a second after the burst (the refill). */
  readonly perSecond: number;
  /** See {@link DEFAULT_COMMAND_LEASE}. */
  readonly lease?: number;
  /** See {@link DEFAULT_MAX_COMMAND_LEASE} (never below `lease`). */
  readonly maxLease?: number;
  /** See {@link DEFAULT_LEASE_TTL_MS}. */
  readonly leaseTtlMs?: number;
  /** See {@link DEFAULT_QUOTA_WRITE_ATTEMPTS}. */
  readonly attempts?: number;
  /** See {@link DEFAULT_MAX_QUOTA_USERS}. */
  readonly maxUsers?: number;
  /** Called when Blob Storage fails and the instance falls back to counting alone. */
  readonly onStorageError?: (error: unknown) => void;
  /** The clock, for tests. */
  readonly now?: () => number;
}

/**
 * What the blob holds: the tokens left at a time (ms since the epoch), and the leases instances hold unspent:
 * `[instance, tokens, until]` each (an array, so no instance id is ever an object key).
 */
interface Bucket {
  readonly tokens: number;
  readonly at: number;
  readonly leases?: readonly (readonly [string, number, number])[];
}

/** What one instance knows of one user's bucket. */
interface Local {
  /** Tokens taken from the shared bucket and not yet spent. */
  leased: number;
  /** Until when `leased` may be spent (then it is forfeited). */
  leaseUntil: number;
  /** The lease the next claim asks for: it doubles after each full lease, back to the first near the limit. */
  nextLease: number;
  /** The bucket was empty: refuse without asking Blob until then. */
  blockedUntil: number;
  /** The blob as this instance last read or wrote it; a conditional write tells whether it is still current. */
  bucket?: Bucket;
  etag?: string;
}

export class CommandQuota {
  readonly burst: number;
  readonly perSecond: number;
  readonly #container: ContainerClient;
  readonly #lease: number;
  readonly #maxLease: number;
  readonly #leaseTtlMs: number;
  /** This instance's name in the buckets' lease declarations. */
  readonly #instance = randomUUID();
  readonly #attempts: number;
  readonly #maxUsers: number;
  readonly #now: () => number;
  readonly #onStorageError: (error: unknown) => void;
  readonly #local = new Map<string, Local>();
  /** One take at a time per user on this instance, so the instance never races itself for a user's bucket. */
  readonly #turns = new Map<string, Promise<unknown>>();
  /** While Blob Storage fails: the same limit counted by this instance alone. */
  readonly #fallback: RateLimiter;

  constructor(container: ContainerClient, options: CommandQuotaOptions) {
    this.#container = container;
    this.burst = options.burst;
    this.perSecond = options.perSecond;
    this.#lease = Math.max(1, Math.floor(options.lease ?? DEFAULT_COMMAND_LEASE));
    this.#maxLease = Math.max(this.#lease, Math.floor(options.maxLease ?? DEFAULT_MAX_COMMAND_LEASE));
    this.#leaseTtlMs = options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
    this.#attempts = options.attempts ?? DEFAULT_QUOTA_WRITE_ATTEMPTS;
    this.#maxUsers = options.maxUsers ?? DEFAULT_MAX_QUOTA_USERS;
    this.#now = options.now ?? Date.now;
    this.#onStorageError = options.onStorageError ?? (() => undefined);
    this.#fallback = new RateLimiter({ burst: options.burst, perSecond: options.perSecond, now: this.#now });
  }

  /**
   * Takes `cost` tokens for `user` (one unless said; more than the burst counts as the burst): 0 when the
   * command may run, else the milliseconds until that many are free (nothing is taken then).
   */
  take(user: string, cost = 1): Promise<number> {
    const need = Math.max(1, Math.min(Math.floor(cost), Math.floor(this.burst)));
    const previous = this.#turns.get(user) ?? Promise.resolve();
    const result = previous.then(() => this.#take(user, need));
    const turn = result.catch(() => undefined);
    this.#turns.set(user, turn);
    void turn.then(() => {
      if (this.#turns.get(user) === turn) this.#turns.delete(user);
    });
    return result;
  }

  async #take(user: string, need: number): Promise<number> {
    const now = this.#now();
    const local = this.#local.get(user) ?? {
      leased: 0,
      leaseUntil: 0,
      nextLease: this.#lease,
      blockedUntil: 0,
    };
    setBounded(this.#local, user, local, this.#maxUsers);
    if (local.leased >= 1 && now >= local.leaseUntil) {
      // Not spent in time: forfeited (other instances no longer count it either), and the next lease starts small.
      local.leased = 0;
      local.nextLease = this.#lease;
    }
    if (local.leased >= need) {
      local.leased -= need;
      return 0;
    }
    // The bucket held less than one token: the first is due then, and any more the command needs after it.
    if (now < local.blockedUntil) return local.blockedUntil - now + this.#waitFor(need - local.leased - 1, 0);
    try {
      return await this.#claim(user, local, now, need);
    } catch (error) {
      this.#onStorageError(error);
      return this.#fallback.take(user, need);
    }
  }

  /** The milliseconds until a bucket holding `tokens` holds `need`. */
  #waitFor(need: number, tokens: number): number {
    return Math.ceil(((need - tokens) / this.perSecond) * 1000);
  }

  /**
   * Takes up to `lease` tokens beyond what the command needs from the shared bucket with a conditional write;
   * spends `need` of them (those the instance holds first) now.
   */
  async #claim(user: string, local: Local, now: number, need: number): Promise<number> {
    // What the bucket must give: the instance's unspent tokens (fewer than `need`) are spent first.
    const spend = need - local.leased;
    const blob = this.#container.getBlockBlobClient(bucketName(user));
    for (let attempt = 1; attempt <= this.#attempts; attempt++) {
      if (local.bucket === undefined) await this.#read(user, local, now);
      const bucket = local.bucket as Bucket;
      // Other instances only ever take tokens, so a copy that is not current never shows too few: "empty" is
      // safe to act on without a write, and "enough" is checked by the write's condition.
      const tokens = Math.min(
        this.burst,
        bucket.tokens + (Math.max(0, now - bucket.at) / 1000) * this.perSecond,
      );
      if (tokens < spend) {
        // Below one token nothing can pass: refuse without asking Blob until one is due. A costly command that
        // waits for more leaves the others free to pass meanwhile.
        if (tokens < 1) this.#block(local, now, this.#waitFor(1, tokens));
        return this.#waitFor(spend, tokens);
      }
      // The largest lease up to the one this instance has grown to that leaves the bucket at least what all
      // instances then hold unspent (so the bucket never holds fewer of the user's tokens than sit in leases)
      // and keeps what they hold within half the burst (the bound, whatever the number of instances): as the
      // bucket empties the leases shrink, and near the limit the tokens go one at a time. A command of several
      // tokens takes all but the last of them first, and the rule sizes the lease on what is left.
      const others = (bucket.leases ?? []).filter(([id, , until]) => id !== this.#instance && until > now);
      const held = others.reduce((sum, [, count]) => sum + count, 0);
      const room = Math.floor(this.burst / 2) - held;
      const left = tokens - (spend - 1);
      const lease = Math.max(1, Math.min(local.nextLease, room + 1, Math.floor((left - held + 1) / 2)));
      const taken = spend - 1 + lease;
      const until = now + this.#leaseTtlMs;
      const leases = lease > 1 ? [...others, [this.#instance, lease - 1, until] as const] : others;
      const next: Bucket = { tokens: tokens - taken, at: now, ...(leases.length > 0 ? { leases } : {}) };
      const body = JSON.stringify(next);
      try {
        const written = await blob.upload(body, Buffer.byteLength(body), {
          conditions: local.etag !== undefined ? { ifMatch: local.etag } : { ifNoneMatch: '*' },
          blobHTTPHeaders: { blobContentType: 'application/json' },
        });
        local.bucket = next;
        if (written.etag !== undefined) local.etag = written.etag;
        local.leased = lease - 1;
        local.leaseUntil = until;
        local.nextLease =
          lease === local.nextLease ? Math.min(this.#maxLease, lease * 2) : Math.max(this.#lease, lease);
        return 0;
      } catch (error) {
        if (!isConflict(error)) throw error;
        // Another instance wrote first: read the bucket again and retry.
        local.bucket = undefined;
        local.etag = undefined;
      }
    }
    return this.#block(local, now, Math.ceil(1000 / this.perSecond));
  }

  /** Refuses without asking Blob for `waitMs`; tokens the instance holds stay spendable meanwhile. */
  #block(local: Local, now: number, waitMs: number): number {
    local.nextLease = this.#lease;
    local.blockedUntil = now + waitMs;
    return waitMs;
  }

  async #read(user: string, local: Local, now: number): Promise<void> {
    try {
      const response = await this.#container.getBlockBlobClient(bucketName(user)).download();
      const chunks: Buffer[] = [];
      for await (const chunk of response.readableStreamBody ?? []) chunks.push(Buffer.from(chunk));
      local.bucket = parseBucket(Buffer.concat(chunks).toString('utf8')) ?? { tokens: this.burst, at: now };
      local.etag = response.etag;
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode !== 404) throw error;
      local.bucket = { tokens: this.burst, at: now };
      local.etag = undefined;
    }
  }
}

/** The bucket's blob name; a trailing dot is escaped (Azure Storage drops a trailing dot of a path segment). */
export function bucketName(user: string): string {
  return `${LIMITS_PREFIX}${encodeURIComponent(user).replace(/\.$/, '%2E')}`;
}

function parseBucket(text: string): Bucket | undefined {
  try {
    const value = JSON.parse(text) as Partial<Bucket>;
    if (typeof value.tokens === 'number' && typeof value.at === 'number') {
      const leases = Array.isArray(value.leases)
        ? value.leases.filter(
            (l): l is [string, number, number] =>
              Array.isArray(l) &&
              typeof l[0] === 'string' &&
              typeof l[1] === 'number' &&
              typeof l[2] === 'number',
          )
        : [];
      return { tokens: value.tokens, at: value.at, ...(leases.length > 0 ? { leases } : {}) };
    }
  } catch {
    // A bucket that is not ours is replaced by a full one (the write is still conditional).
  }
  return undefined;
}

/** A conditional write that lost: 412 (the ETag changed) or 409 (the blob was created meanwhile). */
function isConflict(error: unknown): boolean {
  const status = (error as { statusCode?: number }).statusCode;
  return status === 412 || status === 409;
}
