/**
 * Each user's last-read positions (docs/architecture.md, "Read state"): one JSON blob per user in their folder,
 * `_members/<user>/$reads` (user-folder.ts), holding the id of the last message read in every conversation the
 * user has read, changed by conditional writes (`If-Match` its ETag, `If-None-Match: *` for the first) and
 * merged on a conflict. Positions still at their old name, `_reads/<user>`, are read from there until the
 * user's next write or an instance's probe moves them (user-folder.ts).
 *
 * Marks are coalesced: a mark changes this instance's memory at once and the blob at most once per
 * `writeIntervalMs` per user (the first mark of a quiet user starts the interval, every mark within it rides
 * on the one write at its end), and at once when the user disconnects ({@link ReadPositionStore.flush}).
 * Positions only move forward: message ids are ULIDs, which sort by time, and every merge keeps the larger id,
 * so marks from several tabs and instances land in any order.
 */
import { type ContainerClient, RestError } from '@azure/storage-blob';
import { READS_BLOB, sameEtag, UserBlob, type UserBlobOptions, type UserFolder } from '../../user-folder.js';

/** The blob name prefix read positions had before they moved into the users' folders. */
export const READS_PREFIX = '_reads/';
/** The least time between two writes of one user's positions; marks in between are coalesced into one write. */
export const DEFAULT_READ_WRITE_INTERVAL_MS = 5_000;
/** Conversations a user's blob keeps at most; past it the least recently read are forgotten. */
export const DEFAULT_MAX_READ_POSITIONS = 1_000;
/** Users whose positions an instance keeps in memory at most (the least recent are written out and forgotten). */
export const DEFAULT_MAX_READ_USERS = 10_000;
/** Conditional writes of one user's positions before a flush gives up (each conflict re-reads the blob). */
export const DEFAULT_READ_WRITE_ATTEMPTS = 10;

export interface ReadPositionOptions extends UserBlobOptions {
  /** See {@link DEFAULT_READ_WRITE_INTERVAL_MS}. */
  readonly writeIntervalMs?: number;
  /** See {@link DEFAULT_MAX_READ_POSITIONS}. */
  readonly maxPositions?: number;
  /** See {@link DEFAULT_MAX_READ_USERS}. */
  readonly maxUsers?: number;
  /** See {@link DEFAULT_READ_WRITE_ATTEMPTS}. */
  readonly writeAttempts?: number;
  /** Called with a write that failed in the background (a timer's flush); by default it is logged. */
  readonly onWriteError?: (error: unknown) => void;
}

/** The blob's content: `version` grows by one with every write (so a reader can count writes). */
export interface StoredReads {
  readonly version: number;
  /** `[conversation, last-read message id]`, pairs rather than an object: a conversation id is never a key. */
  readonly positions: readonly (readonly [string, string])[];
}

/** One user's state on this instance. */
interface UserReads {
  /** Every position this instance knows of (the blob as last read or written, and the marks since). */
  readonly known: Map<string, string>;
  /** Marks not yet written. */
  readonly pending: Map<string, string>;
  /** Whether `known` holds the blob (read once per user per instance, then kept by the writes). */
  loaded: boolean;
  etag: string | undefined;
  /** Whether `known` was read from the old name (the next write at the new name deletes it there). */
  legacy: boolean;
  version: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** The write in progress: the next one waits for it. */
  writing: Promise<void>;
}

/** Merges `from` into `into`, keeping the larger id of each conversation; returns whether `into` changed. */
function mergeForward(into: Map<string, string>, from: Iterable<readonly [string, string]>): boolean {
  let changed = false;
  for (const [conversation, id] of from) {
    const current = into.get(conversation);
    if (current === undefined || id > current) {
      into.set(conversation, id);
      changed = true;
    }
  }
  return changed;
}

export class ReadPositionStore {
  readonly writeIntervalMs: number;
  readonly #blobs: UserBlob;
  readonly #maxPositions: number;
  readonly #maxUsers: number;
  readonly #attempts: number;
  readonly #onWriteError: (error: unknown) => void;
  readonly #users = new Map<string, UserReads>();

  constructor(container: ContainerClient, options: ReadPositionOptions = {}) {
    this.#blobs = new UserBlob(container, READS_BLOB, READS_PREFIX, options);
    this.writeIntervalMs = options.writeIntervalMs ?? DEFAULT_READ_WRITE_INTERVAL_MS;
    this.#maxPositions = options.maxPositions ?? DEFAULT_MAX_READ_POSITIONS;
    this.#maxUsers = options.maxUsers ?? DEFAULT_MAX_READ_USERS;
    this.#attempts = options.writeAttempts ?? DEFAULT_READ_WRITE_ATTEMPTS;
    this.#onWriteError =
      options.onWriteError ??
      ((error) => console.warn(`Read positions could not be written: ${(error as Error).message}`));
  }

  /**
   * The user's positions, fresh from the blob (one read) and merged with this instance's marks not yet
   * written: what a welcome shows, whichever instance wrote last. `folder`: a listing of the user's folder,
   * which spares the read when it found no positions, or the blob at the ETag this instance last read or
   * wrote (its positions are all known here already).
   */
  async positions(user: string, folder?: UserFolder): Promise<ReadonlyMap<string, string>> {
    const state = this.#state(user);
    const current = state.loaded && folder?.reads !== undefined && sameEtag(state.etag, folder.reads.etag);
    if (!current) await this.#load(user, state, folder === undefined ? undefined : (folder.reads ?? null));
    return new Map(state.known);
  }

  /**
   * Records that `user` read `conversation` up to `id`. Returns whether the position moved forward (an older
   * or equal id changes nothing). The blob is written by the end of the interval, or by {@link flush}.
   */
  async mark(user: string, conversation: string, id: string): Promise<boolean> {
    const state = this.#state(user);
    if (!state.loaded) await this.#load(user, state);
    if (!mergeForward(state.known, [[conversation, id]])) return false;
    state.pending.set(conversation, id);
    this.#schedule(user, state);
    return true;
  }

  /** Writes the user's pending marks at the end of an interval (again an interval later if that write fails). */
  #schedule(user: string, state: UserReads): void {
    if (state.timer !== undefined) return;
    state.timer = setTimeout(() => {
      state.timer = undefined;
      this.#write(user, state).catch((error: unknown) => {
        this.#onWriteError(error);
        if (this.#users.get(user) === state) this.#schedule(user, state);
      });
    }, this.writeIntervalMs);
    // A pending write does not keep a process alive; a disconnect writes at once (flush).
    state.timer.unref?.();
  }

  /** Writes the user's pending marks now (a disconnect); resolves once they are stored. */
  async flush(user: string): Promise<void> {
    const state = this.#users.get(user);
    if (state === undefined) return;
    if (state.timer !== undefined) clearTimeout(state.timer);
    state.timer = undefined;
    await this.#write(user, state);
  }

  /** This instance's state of `user`, the most recent in the bounded memory. */
  #state(user: string): UserReads {
    let state = this.#users.get(user);
    if (state !== undefined) {
      this.#users.delete(user);
      this.#users.set(user, state);
      return state;
    }
    state = {
      known: new Map(),
      pending: new Map(),
      loaded: false,
      etag: undefined,
      legacy: false,
      version: 0,
      timer: undefined,
      writing: Promise.resolve(),
    };
    this.#users.set(user, state);
    for (const [oldest, forgotten] of this.#users) {
      if (this.#users.size <= this.#maxUsers) break;
      this.#users.delete(oldest);
      // Forgotten with marks not yet written: they are written now.
      if (forgotten.pending.size > 0) {
        if (forgotten.timer !== undefined) clearTimeout(forgotten.timer);
        this.#write(oldest, forgotten).catch(this.#onWriteError);
      }
    }
    return state;
  }

  /** Reads the blob into `state` (keeping every newer position this instance knows). */
  async #load(user: string, state: UserReads, listed?: UserFolder['reads'] | null): Promise<void> {
    const { text, etag, legacy } = await this.#blobs.read(user, listed);
    const stored = text === undefined ? { version: 0, positions: [] } : parseReads(text);
    mergeForward(state.known, stored.positions);
    state.etag = etag;
    state.legacy = legacy;
    state.version = stored.version;
    state.loaded = true;
  }

  /** Writes the pending marks after any write in progress: one conditional write, re-read on a conflict. */
  #write(user: string, state: UserReads): Promise<void> {
    const next = state.writing.then(async () => {
      if (state.pending.size === 0) return;
      const written = new Map(state.pending);
      state.pending.clear();
      try {
        await this.#upload(user, state);
      } catch (error) {
        // Not written: the marks wait for the next write (positions only move forward, so re-adding is safe).
        mergeForward(state.pending, written);
        throw error;
      }
    });
    state.writing = next.catch(() => undefined);
    return next;
  }

  async #upload(user: string, state: UserReads): Promise<void> {
    const blob = this.#blobs.blob(user);
    for (let attempt = 1; ; attempt++) {
      const positions = [...state.known]
        .sort((a, b) => (a[1] < b[1] ? 1 : a[1] > b[1] ? -1 : 0))
        .slice(0, this.#maxPositions);
      const body = JSON.stringify({ version: state.version + 1, positions } satisfies StoredReads);
      try {
        const response = await blob.upload(body, Buffer.byteLength(body), {
          blobHTTPHeaders: { blobContentType: 'application/json' },
          conditions: state.etag === undefined ? { ifNoneMatch: '*' } : { ifMatch: state.etag },
        });
        state.etag = response.etag;
        state.version += 1;
        if (state.legacy) {
          state.legacy = false;
          await this.#blobs.dropLegacy(user);
        }
        return;
      } catch (error) {
        // 412: written elsewhere since it was read; 409: created meanwhile (by a write, or by the move of
        // positions read from their old name). Both: merge the blob and try again.
        const status = error instanceof RestError ? error.statusCode : undefined;
        if ((status !== 412 && status !== 409) || attempt >= this.#attempts) throw error;
        await this.#load(user, state);
      }
    }
  }
}

/** A stored blob's positions; one that cannot be read counts as none (rewritten by the next write). */
export function parseReads(text: string): StoredReads {
  try {
    const value = JSON.parse(text) as Partial<StoredReads>;
    if (typeof value.version === 'number' && Array.isArray(value.positions)) {
      const positions = value.positions.filter(
        (p): p is [string, string] =>
          Array.isArray(p) && typeof p[0] === 'string' && typeof p[1] === 'string',
      );
      return { version: value.version, positions };
    }
  } catch {
    // Falls through.
  }
  return { version: 0, positions: [] };
}
