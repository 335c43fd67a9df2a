/**
 * Who is online: one blob per connection (`_presence/<user>/<connection id>`, holding `1` when the service had
 * announced the connection, else empty), the instance's roster of
 * users with an entry, pages of the online list confirmed by the service, and stale entries swept
 * (docs/architecture.md, "Presence and group memberships").
 */
import type { ContainerClient } from '@azure/storage-blob';
import { mapLimited } from '../../map-limited.js';
import { Confirmations, type UserExists } from './confirmations.js';
import { listUsers, readEntries } from './entries.js';
import { entryName, PRESENCE_PREFIX } from './entry-names.js';
import { compare, pageOf, upperBound } from './sorted-names.js';

export type { UserExists };
export { PRESENCE_PREFIX };

/**
 * How old an entry whose user the service does not know must be before it is deleted as stale. It must be
 * longer than a connect takes, so an entry is never taken for a leftover while its connection is coming up.
 */
export const DEFAULT_STALE_PRESENCE_GRACE_MS = 5 * 60_000;

/** What an entry holds when the service announced its connection (`connected`): see {@link PresenceStore.enter}. */
export const CONNECTED_MARK = '1';

/** How long a connect may take: an entry this young counts as online before the service confirms it. */
export const CONNECT_ALLOWANCE_MS = 15_000;

/** How many `userExists` checks run at once for one page or sweep. */
export const DEFAULT_PRESENCE_CHECK_CONCURRENCY = 16;
/** How long a user the service confirmed as online is not asked about again (per instance). */
export const DEFAULT_PRESENCE_CONFIRMATION_TTL_MS = 10_000;
/** How many confirmations an instance remembers (the oldest are forgotten first). */
export const DEFAULT_MAX_REMEMBERED_CONFIRMATIONS = 10_000;
/** How long an instance reuses its listing of presence entries before listing again. */
export const DEFAULT_ROSTER_TTL_MS = 10_000;
/** Users checked for staleness beyond the pages asked for, per roster listing. */
export const DEFAULT_PRESENCE_SWEEP_BATCH = 32;
/** Users per page of the online list when the client does not say (the `welcome` carries one such page). */
export const DEFAULT_ONLINE_PAGE_SIZE = 100;
/** The most users one page of the online list may hold. */
export const MAX_ONLINE_PAGE_SIZE = 500;

export interface PresenceOptions {
  /** See {@link DEFAULT_PRESENCE_CHECK_CONCURRENCY}. */
  checkConcurrency?: number;
  /** See {@link DEFAULT_PRESENCE_CONFIRMATION_TTL_MS}; 0 asks the service every time. */
  confirmationTtlMs?: number;
  /** See {@link DEFAULT_MAX_REMEMBERED_CONFIRMATIONS}. */
  maxRememberedConfirmations?: number;
  /** See {@link DEFAULT_STALE_PRESENCE_GRACE_MS}. */
  staleGraceMs?: number;
  /** See {@link DEFAULT_ROSTER_TTL_MS}; 0 lists on every request. */
  rosterTtlMs?: number;
  /** See {@link DEFAULT_PRESENCE_SWEEP_BATCH}; 0 checks only the pages asked for. */
  sweepBatch?: number;
  /** The clock, for tests. */
  now?: () => number;
}

/** One page of the online list. */
export interface OnlinePage {
  /** Confirmed users after the cursor, sorted by UTF-16 code units. */
  readonly users: string[];
  /** Users online in all (the roster's count: see the module comment). */
  readonly count: number;
  /** The cursor of the next page (`after`), absent on the last page. */
  readonly next?: string;
  /** Users whose stale entries this request deleted: to be announced as `left`. */
  readonly gone: string[];
  /** When the roster the page comes from was listed (ms): deltas newer than this apply on top of it. */
  readonly at: number;
}

/** A user's entries: connection id → last modified (ms). */
type Entries = Map<string, number>;

/** One entry or exit of this instance. */
interface Change {
  readonly user: string;
  readonly connectionId: string;
  readonly entered: boolean;
  readonly at: number;
}

/** Who of the users asked about is online, by one listing, and the count then. */
export interface SettledPresence {
  readonly joined: string[];
  readonly left: string[];
  readonly count: number;
  /** When the listing started (ms since the epoch): the time the state is true of. */
  readonly at: number;
}

export class PresenceStore {
  readonly #container: ContainerClient;
  readonly #staleGraceMs: number;
  readonly #now: () => number;
  readonly #checkConcurrency: number;
  readonly #confirmationTtlMs: number;
  readonly #rosterTtlMs: number;
  readonly #sweepBatch: number;
  /** Who the service (or an entry vouching for them) confirmed lately. */
  readonly #confirmations: Confirmations;
  /** Roster users whose last check the service did not confirm (a crash leftover, or a connect in progress). */
  readonly #unconfirmed = new Set<string>();
  /** The read of a user's entries in flight (`#details`), shared by concurrent checks, and when it started. */
  readonly #reading = new Map<string, { read: Promise<void>; started: number }>();
  /** How many reads of entries this instance has started: orders them against a check's service answers. */
  #reads = 0;
  /** When the listing that first showed each roster user started (ms): their entries were written before. */
  #firstListed = new Map<string, number>();

  /** The roster: every user with an entry, and the entries. */
  #roster = new Map<string, Entries>();
  /** The roster's users, sorted; rebuilt lazily after a change. */
  #sorted: string[] | undefined;
  #listedAt: number | undefined;
  #listing: Promise<string[]> | undefined;
  /** This instance's entries and exits while listings run: applied to each one's result. */
  readonly #changesDuringListings = new Set<Change[]>();
  /** Listings in flight: when each started, and how many of this instance's changes it follows. */
  readonly #listings = new Map<Promise<void>, { startedAt: number; changes: number }>();
  /** This instance's changes of entries so far: a listing started after the nth one's write includes it. */
  #changes = 0;
  /** The changes the roster's listing followed. */
  #listedChanges = 0;
  /** The listing that starts once those in flight end, shared by the callers that need one (a storm of joins). */
  #nextListing: Promise<void> | undefined;
  /** Where the next sweep starts (a user name; sweeps go round the sorted roster). */
  #sweepFrom = '';
  /** The number of this instance's last change of each user's entries, until a listing follows it (`settle`). */
  readonly #changedAt = new Map<string, number>();

  constructor(container: ContainerClient, options: PresenceOptions = {}) {
    this.#container = container;
    this.#staleGraceMs = options.staleGraceMs ?? DEFAULT_STALE_PRESENCE_GRACE_MS;
    this.#now = options.now ?? Date.now;
    this.#checkConcurrency = options.checkConcurrency ?? DEFAULT_PRESENCE_CHECK_CONCURRENCY;
    this.#confirmationTtlMs = options.confirmationTtlMs ?? DEFAULT_PRESENCE_CONFIRMATION_TTL_MS;
    this.#confirmations = new Confirmations({
      ttlMs: this.#confirmationTtlMs,
      max: options.maxRememberedConfirmations ?? DEFAULT_MAX_REMEMBERED_CONFIRMATIONS,
      staleGraceMs: this.#staleGraceMs,
      now: this.#now,
    });
    this.#rosterTtlMs = options.rosterTtlMs ?? DEFAULT_ROSTER_TTL_MS;
    this.#sweepBatch = options.sweepBatch ?? DEFAULT_PRESENCE_SWEEP_BATCH;
  }

  /**
   * Records a connection of `user`: one blob written, nothing listed. Every entry is announced as `joined`
   * (pages treat the online list as a set), because two first connections entering at once on two instances
   * could each see the other and neither would announce. `connected`: the service has the connection (it said
   * so), so the user counts as confirmed online without asking it.
   */
  async enter(user: string, connectionId: string, options: { connected?: boolean } = {}): Promise<void> {
    // A connection the service announced is marked, so every instance that lists it takes it as confirmed.
    const mark = options.connected ? CONNECTED_MARK : '';
    await this.#container.getBlockBlobClient(entryName(user, connectionId)).upload(mark, mark.length);
    this.#change(user, connectionId, true);
    // The service vouches for a connection it announced as connected, as a `userExists` answer would.
    if (options.connected) this.#confirmations.confirm(user, this.#now());
  }

  /** Forgets a connection; `lastConnection` is true when the user has no other one left. */
  async leave(user: string, connectionId: string): Promise<{ lastConnection: boolean }> {
    await this.#container.getBlockBlobClient(entryName(user, connectionId)).deleteIfExists();
    this.#change(user, connectionId, false);
    const ids = await this.connectionsOf(user);
    // What the user's own listing shows is the truth for this user: keep the roster in step with it.
    for (const id of ids) this.#change(user, id, true);
    return { lastConnection: ids.length === 0 };
  }

  /**
   * Users online in all, as this instance's roster counts them (no request): those with an entry, less those
   * whose last check the service did not confirm and whose newest entry is older than {@link CONNECT_ALLOWANCE_MS}
   * (a younger one may be a connect in progress, which the count must not drop for the next delta to carry).
   */
  count(): number {
    const cutoff = this.#now() - CONNECT_ALLOWANCE_MS;
    let leftovers = 0;
    for (const user of this.#unconfirmed) {
      const newest = Math.max(0, ...(this.#roster.get(user)?.values() ?? []));
      if (newest < cutoff) leftovers++;
    }
    return this.#roster.size - leftovers;
  }

  /**
   * One page of the online list: up to `limit` users sorted after `after`, each confirmed by the service,
   * plus `include` where it sorts into the page (a user entering right now, whom the service may not have yet).
   */
  async page(
    userExists: UserExists,
    options: { after?: string; limit?: number; include?: string; listedSince?: number } = {},
  ): Promise<OnlinePage> {
    const { after, include } = options;
    const limit = options.limit ?? DEFAULT_ONLINE_PAGE_SIZE;
    const swept = await this.#refresh(userExists);
    if (options.listedSince !== undefined) await this.#listedSince(options.listedSince);
    const sorted = this.#sortedUsers();
    const extra = include !== undefined && !this.#roster.has(include) ? include : undefined;
    const { candidates, more } = pageOf(sorted, { after, extra, limit });
    const { online, gone } = await this.#check(
      candidates.filter((u) => u !== include),
      userExists,
    );
    const confirmed = new Set(online);
    const users = candidates.filter((u) => u === include || confirmed.has(u));
    const next = more ? candidates.at(-1) : undefined;
    return {
      users,
      // Counted now: the caller's own entry may have reached the roster while the page was checked.
      count: this.count() + (include !== undefined && !this.#roster.has(include) ? 1 : 0),
      ...(next !== undefined ? { next } : {}),
      gone: [...new Set([...swept, ...gone])],
      at: this.#listedAt ?? this.#now(),
    };
  }

  /** Lists `_presence/` when the roster is older than its time to live; returns the users a sweep removed. */
  async #refresh(userExists: UserExists): Promise<string[]> {
    const now = this.#now();
    if (this.#listedAt !== undefined && now - this.#listedAt < this.#rosterTtlMs) {
      // Another request may be listing right now: wait for it, its answer is fresher than ours.
      if (this.#listing !== undefined) await this.#listing;
      return [];
    }
    this.#listing ??= this.#listAndSweep(userExists).finally(() => {
      this.#listing = undefined;
    });
    return this.#listing;
  }

  async #listAndSweep(userExists: UserExists): Promise<string[]> {
    await this.#list();
    return this.#sweep(userExists);
  }

  /** Lists `_presence/` into the roster, this instance's changes meanwhile on top; an older listing is dropped. */
  #list(): Promise<void> {
    const started = { startedAt: this.#now(), changes: this.#changes };
    const listing = this.#listOnce(started).finally(() => this.#listings.delete(listing));
    this.#listings.set(listing, started);
    return listing;
  }

  /** Once the roster is from a listing started at `since` or later: done, in flight, or the next one. */
  async #listedSince(since: number): Promise<void> {
    if (this.#listedAt !== undefined && this.#listedAt >= since) return;
    for (const [listing, { startedAt }] of this.#listings) if (startedAt >= since) return listing;
    this.#nextListing ??= Promise.allSettled([...this.#listings.keys()]).then(() => {
      this.#nextListing = undefined;
      return this.#list();
    });
    return this.#nextListing;
  }

  /** Once the roster is from a listing that followed this instance's `change`th change: done, in flight or new. */
  async #listedAfter(change: number): Promise<void> {
    if (this.#listedAt !== undefined && this.#listedChanges >= change) return;
    for (const [listing, { changes }] of this.#listings) if (changes >= change) return listing;
    return this.#list();
  }

  async #listOnce({ startedAt, changes: followed }: { startedAt: number; changes: number }): Promise<void> {
    const changes: Change[] = [];
    this.#changesDuringListings.add(changes);
    let users: string[];
    try {
      // One prefix per user (a delimiter listing), not every entry with its properties: the roster needs who
      // has an entry, and parsing a prefix costs a fraction of an entry's properties. A user's entries (their
      // times and marks) are read where a check needs them (`#details`); what the instance knows of them stays.
      users = await listUsers(this.#container);
    } finally {
      this.#changesDuringListings.delete(changes);
    }
    if (this.#listedAt !== undefined && (startedAt < this.#listedAt || followed < this.#listedChanges))
      return;
    // What the instance knows of each user's entries is taken as the listing lands, not as it ran: a read of
    // their entries (`#details`) that ended meanwhile, or a listing that landed meanwhile, stays known.
    const roster = new Map<string, Entries>();
    for (const user of users) roster.set(user, this.#roster.get(user) ?? new Map<string, number>());
    // Changes made before this listing started are in it: no delta needs a newer listing on their account.
    for (const [user, change] of this.#changedAt) if (change <= followed) this.#changedAt.delete(user);
    const firstListed = new Map<string, number>();
    for (const user of roster.keys()) firstListed.set(user, this.#firstListed.get(user) ?? startedAt);
    this.#firstListed = firstListed;
    this.#roster = roster;
    this.#sorted = undefined;
    for (const user of this.#unconfirmed) if (!roster.has(user)) this.#unconfirmed.delete(user);
    for (const change of changes) this.#apply(change.user, change.connectionId, change.entered, change.at);
    this.#listedAt = startedAt;
    this.#listedChanges = followed;
  }

  /**
   * Who of `users` is online, by a listing of `_presence/` (which also becomes the roster) that started after
   * this instance's last change of each of them, with the count and the time it started: what a `presence`
   * delta says, as of `at`. One already made or in flight (a join's page) serves, else a fresh one: a delta is
   * never older than the blobs, and a lone join lists once (docs/architecture.md, "Presence and group memberships").
   */
  async settle(users: readonly string[]): Promise<SettledPresence> {
    // After each change, counted rather than timed: a listing started in the same millisecond as a change's
    // write ended follows it, and a join's page listing serves its own delta.
    let change = 0;
    for (const user of users) change = Math.max(change, this.#changedAt.get(user) ?? 0);
    await this.#listedAfter(change);
    const at = this.#listedAt ?? this.#now();
    const joined = users.filter((user) => this.#roster.has(user));
    const left = users.filter((user) => !this.#roster.has(user));
    return { joined, left, count: this.count(), at };
  }

  /** Checks the next `sweepBatch` users of the roster, round robin; returns those whose stale entries went. */
  async #sweep(userExists: UserExists): Promise<string[]> {
    if (this.#sweepBatch <= 0) return [];
    const sorted = this.#sortedUsers();
    if (sorted.length === 0) return [];
    const start = upperBound(sorted, this.#sweepFrom);
    const batch = sorted.slice(start, start + this.#sweepBatch);
    if (batch.length < this.#sweepBatch) batch.push(...sorted.slice(0, this.#sweepBatch - batch.length));
    const unique = [...new Set(batch)];
    this.#sweepFrom = start + this.#sweepBatch >= sorted.length ? '' : (unique.at(-1) ?? '');
    return (await this.#check(unique, userExists)).gone;
  }

  /**
   * Which of `users` the service confirms; unconfirmed users' entries past the grace period are deleted. A user
   * whose entries the instance has not read yet (written by another instance) and who was first listed within
   * the confirmation time has them read first: a marked entry that recent confirms them without asking the
   * service (`Confirmations.vouched`); an older one could not, so they are asked. An unconfirmed user's entries are read
   * again before they are judged, so only entries that exist and are old go.
   */
  async #check(users: string[], userExists: UserExists): Promise<{ online: string[]; gone: string[] }> {
    const recent = this.#now() - this.#confirmationTtlMs;
    const unread = users.filter(
      (user) =>
        !this.#confirmations.fresh(user) &&
        this.#roster.get(user)?.size === 0 &&
        (this.#firstListed.get(user) ?? 0) > recent,
    );
    await mapLimited(unread, this.#checkConcurrency, (user) => this.#details(user));
    const confirmed = await mapLimited(users, this.#checkConcurrency, (user) =>
      this.#confirmations.isOnline(user, userExists),
    );
    // A doubtful user's entries are read after the service's answers: a read in flight from before does not serve.
    const answered = this.#reads;
    const online = users.filter((_, i) => confirmed[i]);
    const doubtful = users.filter((user, i) => !confirmed[i] && this.#roster.has(user));
    const justRead = new Set(unread);
    await mapLimited(
      doubtful.filter((user) => !justRead.has(user)),
      this.#checkConcurrency,
      (user) => this.#details(user, answered),
    );
    users.forEach((user, i) => {
      if (confirmed[i]) this.#unconfirmed.delete(user);
      else if (this.#roster.has(user)) this.#unconfirmed.add(user);
    });
    const cutoff = this.#now() - this.#staleGraceMs;
    const gone: string[] = [];
    await Promise.all(
      doubtful.map(async (user) => {
        const entries = [...(this.#roster.get(user) ?? new Map<string, number>())];
        const stale = entries.filter(([, modified]) => modified < cutoff);
        if (stale.length === 0) return;
        await Promise.all(
          stale.map(([id]) => this.#container.getBlockBlobClient(entryName(user, id)).deleteIfExists()),
        );
        for (const [id] of stale) this.#change(user, id, false);
        if (!this.#roster.has(user)) gone.push(user);
      }),
    );
    return { online, gone };
  }

  /**
   * Reads `user`'s entries (one listing of their own prefix) into the roster: each one's time (the finer one
   * this instance knows, where it wrote it) and whether the service had announced it (`Confirmations.vouched`).
   */
  #details(user: string, startedAfter = 0): Promise<void> {
    // Concurrent checks of one user (a storm of joins pages the same users at once) share one read.
    const inFlight = this.#reading.get(user);
    if (inFlight !== undefined && inFlight.started > startedAfter) return inFlight.read;
    this.#reads += 1;
    const read = this.#readEntries(user).finally(() => {
      if (this.#reading.get(user)?.read === read) this.#reading.delete(user);
    });
    this.#reading.set(user, { read, started: this.#reads });
    return read;
  }

  async #readEntries(user: string): Promise<void> {
    const read = new Map<string, number>();
    const entries = this.#roster.get(user);
    for (const { connectionId, modified, marked } of await readEntries(this.#container, user)) {
      read.set(connectionId, Math.max(entries?.get(connectionId) ?? 0, modified));
      if (marked) this.#confirmations.vouched(user, modified);
    }
    // Into the roster's current entry (a listing may have replaced it meanwhile; a user who left has none). An
    // entry known but not read stays: this instance may have written it while the read ran, and deleting one
    // that is already gone changes nothing.
    const current = this.#roster.get(user);
    if (current === undefined) return;
    for (const [id, at] of read) current.set(id, Math.max(current.get(id) ?? 0, at));
  }

  /** Records this instance's change in the roster (and for a listing in flight, to apply to its result). */
  #change(user: string, connectionId: string, entered: boolean): void {
    const at = this.#now();
    this.#changes += 1;
    this.#changedAt.set(user, this.#changes);
    for (const changes of this.#changesDuringListings) changes.push({ user, connectionId, entered, at });
    this.#apply(user, connectionId, entered, at);
  }

  #apply(user: string, connectionId: string, entered: boolean, at: number): void {
    const entries = this.#roster.get(user);
    if (entered) {
      // A new connection: whether the service has it is for the next check to say.
      this.#unconfirmed.delete(user);
      if (entries === undefined) {
        this.#roster.set(user, new Map([[connectionId, at]]));
        this.#sorted = undefined;
      } else if (!entries.has(connectionId)) entries.set(connectionId, at);
      return;
    }
    if (entries === undefined) return;
    entries.delete(connectionId);
    if (entries.size === 0) {
      this.#roster.delete(user);
      this.#unconfirmed.delete(user);
      this.#sorted = undefined;
    }
  }

  #sortedUsers(): string[] {
    this.#sorted ??= [...this.#roster.keys()].sort(compare);
    return this.#sorted;
  }

  /** The connection ids of `user`'s presence entries (one listing of their own entries). */
  async connectionsOf(user: string): Promise<string[]> {
    return (await readEntries(this.#container, user)).map((entry) => entry.connectionId);
  }
}
