/**
 * A user's folder, `_members/<user>/`: the user's memberships (one empty blob per group, memberships.ts), their
 * list of conversations, `$list` (list-store.ts), and their read positions, `$reads` (positions.ts), so that
 * one listing tells a join all three (docs/architecture.md, "History in Blob Storage"). A group's name in the
 * folder is `blobNameSegment(group)`, percent-encoded (blob-names.ts): `$` is always written `%24` there, so
 * a name starting with `$` is never a membership.
 *
 * Lists and read positions were once kept at `_lists/<user>` and `_reads/<user>`. While any such blob is left
 * (an instance probes for one lazily and again every {@link DEFAULT_LEGACY_PROBE_INTERVAL_MS}, since instances
 * of an older version may still write them during a rolling deploy), a user whose folder lacks the new blob is
 * read from the old name, and the user's next write goes to the new name and then deletes the old one. With
 * none left, nothing more is read than the new name.
 */
import { type BlockBlobClient, type ContainerClient, RestError } from '@azure/storage-blob';
import { blobNameSegment } from './blob-names.js';
import { streamText } from './stream-text.js';

/** The blob name prefix of users' folders (conversation folders never start with `_`). */
export const MEMBERS_PREFIX = '_members/';
/** The name of a user's list of conversations in their folder. */
export const LIST_BLOB = '$list';
/** The name of a user's read positions in their folder. */
export const READS_BLOB = '$reads';
/** How long an instance trusts its last probe for blobs at the old names before probing again. */
export const DEFAULT_LEGACY_PROBE_INTERVAL_MS = 10 * 60_000;

/** A blob a listing of the folder found, with its ETag. */
export interface ListedBlob {
  readonly etag: string;
}

/** What one listing of a user's folder found: their groups, and their list and read positions if stored. */
export interface UserFolder {
  readonly groups: string[];
  readonly list?: ListedBlob;
  readonly reads?: ListedBlob;
}

/**
 * Whether two ETags name the same version of a blob (a listing may give an ETag without the quotes a
 * response's header has).
 */
export function sameEtag(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && a.replace(/^"|"$/g, '') === b.replace(/^"|"$/g, '');
}

/** The folder of `user`, with the trailing slash. */
export function userFolderPrefix(user: string): string {
  return `${MEMBERS_PREFIX}${blobNameSegment(user)}/`;
}

export interface UserBlobOptions {
  /** See {@link DEFAULT_LEGACY_PROBE_INTERVAL_MS}. */
  readonly legacyProbeIntervalMs?: number;
  /** The clock of the probe's interval. */
  readonly now?: () => number;
}

/** What a read found: the text, and the ETag of the blob at the new name (absent when it does not exist yet). */
export interface UserBlobRead {
  readonly text: string | undefined;
  readonly etag?: string;
  /** Whether the text came from the old name: the next write deletes it there. */
  readonly legacy: boolean;
}

/**
 * One of a user's JSON blobs in their folder (`$list` or `$reads`), with its old name (`<legacyPrefix><user>`)
 * read while blobs at old names exist: both stores read and migrate through it.
 */
export class UserBlob {
  readonly #container: ContainerClient;
  readonly #name: string;
  readonly #legacyPrefix: string;
  readonly #interval: number;
  readonly #now: () => number;
  #probe: { at: number; found: Promise<boolean> } | undefined;

  constructor(container: ContainerClient, name: string, legacyPrefix: string, options: UserBlobOptions = {}) {
    this.#container = container;
    this.#name = name;
    this.#legacyPrefix = legacyPrefix;
    this.#interval = options.legacyProbeIntervalMs ?? DEFAULT_LEGACY_PROBE_INTERVAL_MS;
    this.#now = options.now ?? Date.now;
  }

  /** The blob at its name in the user's folder. */
  blob(user: string): BlockBlobClient {
    return this.#container.getBlockBlobClient(`${userFolderPrefix(user)}${this.#name}`);
  }

  /**
   * Reads the user's blob. `listed`: what a listing of the folder said of it (`null`: absent), which spares
   * the read of an absent blob; without it the blob is read to find out.
   */
  async read(user: string, listed?: ListedBlob | null): Promise<UserBlobRead> {
    if (listed !== null) {
      const found = await this.#download(this.blob(user));
      if (found !== undefined) return { ...found, legacy: false };
    }
    if (!(await this.#legacyExists())) return { text: undefined, legacy: false };
    const old = await this.#download(this.#legacyBlob(user));
    return { text: old?.text, legacy: old !== undefined };
  }

  /**
   * After the first write at the new name of a user read from the old one: the old one goes. A delete that
   * fails does not fail the write: the old blob is never read again once the new one exists (it only keeps
   * the probe finding old names).
   */
  async dropLegacy(user: string): Promise<void> {
    await this.#legacyBlob(user)
      .deleteIfExists()
      .catch(() => undefined);
  }

  #legacyBlob(user: string): BlockBlobClient {
    return this.#container.getBlockBlobClient(`${this.#legacyPrefix}${blobNameSegment(user)}`);
  }

  /** Whether any blob is left at an old name: one listing of one result, shared, again after the interval. */
  #legacyExists(): Promise<boolean> {
    const now = this.#now();
    if (this.#probe === undefined || now - this.#probe.at >= this.#interval) {
      const found = this.#listOne();
      const probe = { at: now, found };
      this.#probe = probe;
      // A failed probe is not kept: the next read probes again.
      found.catch(() => {
        if (this.#probe === probe) this.#probe = undefined;
      });
    }
    return this.#probe.found;
  }

  async #listOne(): Promise<boolean> {
    const pages = this.#container.listBlobsFlat({ prefix: this.#legacyPrefix }).byPage({ maxPageSize: 1 });
    const first = await pages.next();
    return first.done !== true && first.value.segment.blobItems.length > 0;
  }

  async #download(blob: BlockBlobClient): Promise<{ text: string; etag?: string } | undefined> {
    try {
      const response = await blob.download();
      const text = await streamText(response.readableStreamBody);
      return response.etag === undefined ? { text } : { text, etag: response.etag };
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return undefined;
      throw error;
    }
  }
}
