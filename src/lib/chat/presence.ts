/**
 * Who is online.
 *
 * Decision: one empty block blob per connection, `_presence/<user>/<connection id>`, created when the
 * connection enters and deleted when it leaves; the service's `userExists` has the last word. Why:
 * - Several connections per user: the user is online while any of their blobs exists; `joined` is announced
 *   for the first and `left` for the last.
 * - Several Function instances: each connection owns its blob, so there is no read-modify-write and nothing
 *   for two instances to overwrite; creating and deleting one blob is atomic. (One shared presence document
 *   would need ETag-conditional retries on every entry and exit, a hot spot when many people join at once.)
 * - A restart of the Functions host loses nothing: the state is in Blob, not in memory.
 * - A service that dies without sending `disconnect` would leave blobs behind, so a listed user counts as
 *   online only if the service confirms it (`userExists`, both dialects); confirmed-gone entries older than a
 *   grace period are removed. Blob alone cannot see a crash; the service alone cannot list its users.
 * - The service's answer "online" is remembered for a short while per instance, so an entry does not cost one
 *   existence check per listed user (a join storm of N users would otherwise make N² checks). Only "online" is
 *   remembered: a user not yet known to the service (a websocket connect in progress) is asked again next
 *   time. A user who left has no entries, so is not listed whatever was remembered; only a crash leftover can
 *   show as online, for at most the remembered time.
 * - Listings that run at once (joins arriving together) share one in-flight check per user, so a join storm
 *   asks about each new user once, not once per concurrent join. (All callers of one store pass the same
 *   service's `userExists`, so sharing its answer is sound.)
 */
import type { ContainerClient } from '@azure/storage-blob';
import { setBounded } from '../bounded-map.js';

/** The blob name prefix of presence entries (conversation folders never start with `_`). */
export const PRESENCE_PREFIX = '_presence/';
/**
 * How old an entry whose user the service does not know must be before it is deleted as stale. It must be
 * longer than a websocket connect takes (the entry is written before the service has the connection).
 */
export const DEFAULT_STALE_PRESENCE_GRACE_MS = 5 * 60_000;

/** Answers whether the service has at least one connection of `user`. */
export type UserExists = (user: string) => Promise<boolean>;

/** How many `userExists` checks run at once when presence is computed (a join storm must not open a socket per user). */
export const DEFAULT_PRESENCE_CHECK_CONCURRENCY = 16;

/** How long a user the service confirmed as online is not asked about again (per instance). */
export const DEFAULT_PRESENCE_CONFIRMATION_TTL_MS = 10_000;
/** How many confirmations an instance remembers (the oldest are forgotten first). */
export const DEFAULT_MAX_REMEMBERED_CONFIRMATIONS = 10_000;

export interface PresenceOptions {
  /** See {@link DEFAULT_PRESENCE_CHECK_CONCURRENCY}. */
  checkConcurrency?: number;
  /** See {@link DEFAULT_PRESENCE_CONFIRMATION_TTL_MS}; 0 asks the service every time. */
  confirmationTtlMs?: number;
  /** See {@link DEFAULT_MAX_REMEMBERED_CONFIRMATIONS}. */
  maxRememberedConfirmations?: number;
  /** See {@link DEFAULT_STALE_PRESENCE_GRACE_MS}. */
  staleGraceMs?: number;
  /** The clock, for tests. */
  now?: () => number;
}

export class PresenceStore {
  readonly #container: ContainerClient;
  readonly #staleGraceMs: number;
  readonly #now: () => number;
  readonly #checkConcurrency: number;
  readonly #confirmationTtlMs: number;
  readonly #maxConfirmations: number;
  /** When the service last confirmed each user as online, oldest first. */
  readonly #confirmedAt = new Map<string, number>();
  /**
   * The check in flight per user: concurrent listings (joins arriving together) share one question to the
   * service instead of each asking about every new user. Entries leave the map when their answer arrives.
   */
  readonly #checking = new Map<string, Promise<boolean>>();

  constructor(container: ContainerClient, options: PresenceOptions = {}) {
    this.#container = container;
    this.#staleGraceMs = options.staleGraceMs ?? DEFAULT_STALE_PRESENCE_GRACE_MS;
    this.#now = options.now ?? Date.now;
    this.#checkConcurrency = options.checkConcurrency ?? DEFAULT_PRESENCE_CHECK_CONCURRENCY;
    this.#confirmationTtlMs = options.confirmationTtlMs ?? DEFAULT_PRESENCE_CONFIRMATION_TTL_MS;
    this.#maxConfirmations = options.maxRememberedConfirmations ?? DEFAULT_MAX_REMEMBERED_CONFIRMATIONS;
  }

  /** Records a connection of `user`; `firstConnection` is true when the user had no other one. */
  async enter(user: string, connectionId: string): Promise<{ firstConnection: boolean }> {
    // Listing and writing at once: the listing may or may not include the new entry, which is filtered out.
    const [ids] = await Promise.all([
      this.#connectionsOf(user),
      this.#container.getBlockBlobClient(entryName(user, connectionId)).upload('', 0),
    ]);
    return { firstConnection: ids.every((id) => id === connectionId) };
  }

  /** Forgets a connection; `lastConnection` is true when the user has no other one left. */
  async leave(user: string, connectionId: string): Promise<{ lastConnection: boolean }> {
    await this.#container.getBlockBlobClient(entryName(user, connectionId)).deleteIfExists();
    return { lastConnection: (await this.#connectionsOf(user)).length === 0 };
  }

  /**
   * The users online, sorted: those with an entry whom the service confirms, plus `include` (a user who is
   * entering right now and whose connection the service may not have yet).
   */
  async online(userExists: UserExists, include?: string): Promise<string[]> {
    const entries = new Map<string, { name: string; lastModified: number }[]>();
    for await (const blob of this.#container.listBlobsFlat({ prefix: PRESENCE_PREFIX })) {
      const user = userOf(blob.name);
      if (user === undefined) continue;
      const list = entries.get(user) ?? [];
      list.push({ name: blob.name, lastModified: blob.properties.lastModified?.getTime() ?? 0 });
      entries.set(user, list);
    }
    const users = [...entries.keys()].filter((u) => u !== include);
    const confirmed = await mapLimited(users, this.#checkConcurrency, (user) =>
      this.#isOnline(user, userExists),
    );
    const online = users.filter((_, i) => confirmed[i]);
    const cutoff = this.#now() - this.#staleGraceMs;
    const stale = users
      .filter((_, i) => !confirmed[i])
      .flatMap((u) => entries.get(u) ?? [])
      .filter((entry) => entry.lastModified < cutoff);
    await Promise.all(stale.map((entry) => this.#container.getBlockBlobClient(entry.name).deleteIfExists()));
    if (include !== undefined) online.push(include);
    return online.sort();
  }

  /** The service's answer for `user`, or a recent "online" remembered from it. */
  async #isOnline(user: string, userExists: UserExists): Promise<boolean> {
    const now = this.#now();
    const confirmedAt = this.#confirmedAt.get(user);
    if (confirmedAt !== undefined && now - confirmedAt < this.#confirmationTtlMs) return true;
    this.#confirmedAt.delete(user);
    const pending = this.#checking.get(user);
    if (pending !== undefined) return pending;
    const check = this.#ask(user, userExists, now);
    this.#checking.set(user, check);
    try {
      return await check;
    } finally {
      this.#checking.delete(user);
    }
  }

  async #ask(user: string, userExists: UserExists, now: number): Promise<boolean> {
    const online = await userExists(user);
    if (online && this.#confirmationTtlMs > 0)
      setBounded(this.#confirmedAt, user, now, this.#maxConfirmations);
    return online;
  }

  async #connectionsOf(user: string): Promise<string[]> {
    const ids: string[] = [];
    const prefix = `${PRESENCE_PREFIX}${encodeURIComponent(user)}/`;
    for await (const blob of this.#container.listBlobsFlat({ prefix })) {
      ids.push(decodeURIComponent(blob.name.slice(prefix.length)));
    }
    return ids;
  }
}

/** `map` with at most `limit` calls in flight, results in input order. */
async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function entryName(user: string, connectionId: string): string {
  // Encoded so names with spaces, dots or any script make plain, reversible blob names.
  return `${PRESENCE_PREFIX}${encodeURIComponent(user)}/${encodeURIComponent(connectionId)}`;
}

function userOf(blobName: string): string | undefined {
  const rest = blobName.slice(PRESENCE_PREFIX.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return undefined;
  try {
    return decodeURIComponent(rest.slice(0, slash));
  } catch {
    return undefined;
  }
}
