/**
 * Each user's list of private conversations and groups: one JSON blob per user in their folder,
 * `_members/<user>/$list` (user-folder.ts), changed by conditional writes (`If-Match` its ETag,
 * `If-None-Match: *` for the first), re-read and re-applied on a conflict, so concurrent changes from any
 * instance all land (docs/architecture.md, "My conversations"). A list still at its old name, `_lists/<user>`,
 * is read from there until the user's next change or an instance's probe moves it (user-folder.ts).
 */
import { type ContainerClient, RestError } from '@azure/storage-blob';
import { setBounded } from '../bounded-map.js';
import { LIST_BLOB, sameEtag, UserBlob, type UserBlobOptions, type UserFolder } from '../user-folder.js';
import {
  type ConversationEntry,
  type ConversationList,
  DEFAULT_LIST_WRITE_ATTEMPTS,
  DEFAULT_MAX_CACHED_LISTS,
  DEFAULT_MAX_LIST_ENTRIES,
  DEFAULT_MAX_REMEMBERED_ENTRIES,
} from './entry.js';
import { ConversationListError } from './errors.js';

/** The blob name prefix the lists had before they moved into the users' folders. */
export const LISTS_PREFIX = '_lists/';

export interface ListStoreOptions extends UserBlobOptions {
  /** See {@link DEFAULT_MAX_LIST_ENTRIES}. */
  maxEntries?: number;
  /** See {@link DEFAULT_LIST_WRITE_ATTEMPTS}. */
  writeAttempts?: number;
  /** See {@link DEFAULT_MAX_REMEMBERED_ENTRIES}. */
  maxRemembered?: number;
  /** See {@link DEFAULT_MAX_CACHED_LISTS}. */
  maxCachedLists?: number;
}

/** The outcome of a change: the list after it, and whether it changed (an unchanged list is not written). */
export interface ListChange {
  readonly list: ConversationList;
  readonly changed: boolean;
}

const EMPTY: ConversationList = { version: 0, entries: [] };

export class ConversationListStore {
  readonly #blobs: UserBlob;
  readonly #maxEntries: number;
  readonly #attempts: number;
  readonly #maxRemembered: number;
  /** `user\0conversation` of private conversations this instance saw listed: adding them again costs nothing. */
  readonly #present = new Map<string, true>();
  readonly #maxCached: number;
  /** Lists this instance last read or wrote, by user, with their ETag (a list at that ETag needs no read). */
  readonly #cached = new Map<string, { readonly etag: string; readonly list: ConversationList }>();

  constructor(container: ContainerClient, options: ListStoreOptions = {}) {
    this.#blobs = new UserBlob(container, LIST_BLOB, LISTS_PREFIX, options);
    this.#maxEntries = options.maxEntries ?? DEFAULT_MAX_LIST_ENTRIES;
    this.#attempts = options.writeAttempts ?? DEFAULT_LIST_WRITE_ATTEMPTS;
    this.#maxRemembered = options.maxRemembered ?? DEFAULT_MAX_REMEMBERED_ENTRIES;
    this.#maxCached = options.maxCachedLists ?? DEFAULT_MAX_CACHED_LISTS;
  }

  /**
   * The user's list (empty when the user has none yet). `folder`: a listing of the user's folder, which
   * spares the read when it found no list, or the list at the ETag this instance last read or wrote.
   */
  async read(user: string, folder?: UserFolder): Promise<ConversationList> {
    const cached = this.#cached.get(user);
    if (folder?.list !== undefined && cached !== undefined && sameEtag(cached.etag, folder.list.etag)) {
      setBounded(this.#cached, user, cached, this.#maxCached);
      return cached.list;
    }
    return (await this.#load(user, folder === undefined ? undefined : (folder.list ?? null))).list;
  }

  /**
   * Adds `entry` unless the list has its conversation. Past the list's size the oldest private conversation
   * leaves it (its history stays); a group past it is refused with `list-full`.
   */
  async add(user: string, entry: ConversationEntry): Promise<ListChange> {
    // Only private conversations are remembered: they never leave a list but by its size, while a group left
    // on another instance would be remembered wrongly.
    const key = `${user}\u0000${entry.conversation}`;
    const remember = entry.kind === 'dm';
    if (remember && this.#present.has(key)) return { list: EMPTY, changed: false };
    const change = await this.#change(user, (entries) => {
      if (entries.some((e) => e.conversation === entry.conversation)) return undefined;
      const next = [...entries, entry];
      if (next.length <= this.#maxEntries) return next;
      const oldestDm = next.findIndex((e) => e.kind === 'dm');
      if (oldestDm === -1 || entry.kind === 'group') {
        throw new ConversationListError('list-full', `at most ${this.#maxEntries} conversations`);
      }
      next.splice(oldestDm, 1);
      return next;
    });
    if (remember) setBounded(this.#present, key, true, this.#maxRemembered);
    return change;
  }

  /** Whether this instance saw the private conversation in the user's list (then adding it costs nothing). */
  remembers(user: string, conversation: string): boolean {
    return this.#present.has(`${user}\u0000${conversation}`);
  }

  /** Removes the conversation from the list, if it is there. */
  async remove(user: string, conversation: string): Promise<ListChange> {
    this.#present.delete(`${user}\u0000${conversation}`);
    return this.#change(user, (entries) =>
      entries.some((e) => e.conversation === conversation)
        ? entries.filter((e) => e.conversation !== conversation)
        : undefined,
    );
  }

  /** Sets the title of the conversation's entry, if the list has it and it shows another title. */
  async retitle(user: string, conversation: string, title: string): Promise<ListChange> {
    return this.#change(user, (entries) =>
      entries.some((e) => e.conversation === conversation && e.title !== title)
        ? entries.map((e) => (e.conversation === conversation ? { ...e, title } : e))
        : undefined,
    );
  }

  /** Applies `edit` (undefined: nothing to change) to the newest list, retrying on every conflict. */
  async #change(
    user: string,
    edit: (entries: readonly ConversationEntry[]) => ConversationEntry[] | undefined,
  ): Promise<ListChange> {
    const blob = this.#blobs.blob(user);
    for (let attempt = 1; ; attempt++) {
      const { list, etag, legacy } = await this.#load(user);
      const entries = edit(list.entries);
      if (entries === undefined) return { list, changed: false };
      const next: ConversationList = { version: list.version + 1, entries };
      const body = JSON.stringify(next);
      try {
        const written = await blob.upload(body, Buffer.byteLength(body), {
          blobHTTPHeaders: { blobContentType: 'application/json' },
          conditions: etag === undefined ? { ifNoneMatch: '*' } : { ifMatch: etag },
        });
        this.#keep(user, written.etag, next);
        if (legacy) await this.#blobs.dropLegacy(user);
        return { list: next, changed: true };
      } catch (error) {
        // 412: changed since it was read; 409: created meanwhile (by a change, or by the move of a list read from
        // its old name). Both: read it again and re-apply.
        const status = error instanceof RestError ? error.statusCode : undefined;
        if (status !== 412 && status !== 409) throw error;
        if (attempt >= this.#attempts) {
          throw new ConversationListError('list-contended', `${this.#attempts} attempts`);
        }
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
      }
    }
  }

  async #load(
    user: string,
    listed?: UserFolder['list'] | null,
  ): Promise<{ list: ConversationList; etag?: string; legacy: boolean }> {
    const { text, etag, legacy } = await this.#blobs.read(user, listed);
    const list = text === undefined ? EMPTY : parseList(text);
    this.#keep(user, etag, list);
    return etag === undefined ? { list, legacy } : { list, etag, legacy };
  }

  /** Keeps the list at its ETag (a list with none, not stored at the new name, is not kept). */
  #keep(user: string, etag: string | undefined, list: ConversationList): void {
    if (etag === undefined) this.#cached.delete(user);
    else setBounded(this.#cached, user, { etag, list }, this.#maxCached);
  }
}

/** A stored list, or the empty list for a blob that does not hold one (rewritten on the next change). */
function parseList(text: string): ConversationList {
  try {
    const value = JSON.parse(text) as Partial<ConversationList>;
    if (typeof value.version === 'number' && Array.isArray(value.entries)) {
      return { version: value.version, entries: value.entries };
    }
  } catch {
    // Falls through: an unreadable list starts again empty rather than locking its user out.
  }
  return EMPTY;
}
