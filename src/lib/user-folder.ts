/**
 * A user's folder, `_members/<user>/`: the user's memberships (one empty blob per group, memberships.ts), their
 * list of conversations, `$list` (list-store.ts), and their read positions, `$reads` (positions.ts), so that
 * one listing tells a join all three (docs/architecture.md, "History in Blob Storage"). A group's name in the
 * folder is `blobNameSegment(group)`, percent-encoded (blob-names.ts): `$` is always written `%24` there, so
 * a name starting with `$` is never a membership.
 *
 * Lists and read positions were once kept at `_lists/<user>` and `_reads/<user>`. While any such blob is left
 * (an instance probes for them lazily and again every {@link DEFAULT_LEGACY_PROBE_INTERVAL_MS}, since instances
 * of an older version may still write them during a rolling deploy), a user whose folder lacks the new blob is
 * read from the old name, and the user's next write goes to the new name and then deletes the old one. With
 * none left, nothing more is read than the new name.
 *
 * Users who never come back would keep their old blobs, and with them the probe finding some, for ever; so the
 * probe's listing is also a batch. The page it reads, at most {@link DEFAULT_LEGACY_MOVES_PER_PROBE} old names,
 * is moved in the background, one blob at a time and one batch at a time per store, the read that probed not
 * waiting for it. A move downloads the old blob, writes its content at the new name `If-None-Match: *` and
 * deletes the old one `If-Match` the ETag it downloaded: three transactions per user, once, spread over the
 * probes. A new name that exists already (the user wrote since, or another instance moved it first) makes the
 * old blob obsolete, since reads never look at it then: it is deleted the same way. A delete whose ETag no
 * longer matches (an instance of the older version rewrote the old blob meanwhile) and any failed step leave
 * the blob for a later probe: no old blob is deleted whose content was neither copied nor superseded at the new
 * name. The stores' writes stay right around a move: a user read from the old name is written
 * `If-None-Match: *`, which a moved blob makes fail, and the store reads the new name and applies the change
 * there. A batch that empties the whole listing ends the mode until the next probe is due. A read that finds
 * neither name (the new one absent when listed or read, the old one gone when read) reads the new one again,
 * since a move may have passed between the two: a join racing its user's move (the probe its own read made
 * moves the old names it finds at once) still shows their list and positions, at the cost of one more read
 * per newcomer while old names are left.
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
/**
 * Old-name blobs of one kind a probe lists and then moves to the new names, one at a time in the background
 * (0: none is moved, and the probe lists one). A hundred: a batch is 300 requests in series, seconds of work
 * per instance and probe interval; its listing page, which the probing read waits for, stays well under a
 * hundred kilobytes; and an instance probing every interval still empties 14 400 old names a day.
 */
export const DEFAULT_LEGACY_MOVES_PER_PROBE = 100;

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
  /** See {@link DEFAULT_LEGACY_MOVES_PER_PROBE}. */
  readonly legacyMovesPerProbe?: number;
  /** The clock of the probe's interval. */
  readonly now?: () => number;
  /**
   * Called when a batch of moves ends, with the old names it emptied and those it left for a later probe; by
   * default nothing is told (a blob left is moved later, or by its user's next write).
   */
  readonly onLegacyBatch?: (outcome: LegacyBatchOutcome) => void;
}

/** What one batch of moves did. */
export interface LegacyBatchOutcome {
  /** Old names emptied: their content is at the new name (copied now, or written there before). */
  readonly moved: number;
  /** Old names still there: a step failed, or the blob changed while it was moved. */
  readonly left: number;
}

/** What a read found: the text, and the ETag of the blob at the new name (absent when it does not exist yet). */
export interface UserBlobRead {
  readonly text: string | undefined;
  readonly etag?: string;
  /** Whether the text came from the old name: the next write deletes it there. */
  readonly legacy: boolean;
}

/** The first page of a listing of old names, and whether the listing goes on past it. */
interface LegacyPage {
  readonly names: readonly string[];
  readonly more: boolean;
}

/** A probe for old names: when it was made, and whether it found any. */
interface Probe {
  readonly at: number;
  readonly found: Promise<boolean>;
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
  readonly #movesPerProbe: number;
  readonly #now: () => number;
  readonly #onBatch: (outcome: LegacyBatchOutcome) => void;
  #probe: Probe | undefined;
  /** Whether a batch of moves is under way: one at a time per store, whatever the probes find meanwhile. */
  #moving = false;

  constructor(container: ContainerClient, name: string, legacyPrefix: string, options: UserBlobOptions = {}) {
    this.#container = container;
    this.#name = name;
    this.#legacyPrefix = legacyPrefix;
    this.#interval = options.legacyProbeIntervalMs ?? DEFAULT_LEGACY_PROBE_INTERVAL_MS;
    this.#movesPerProbe = options.legacyMovesPerProbe ?? DEFAULT_LEGACY_MOVES_PER_PROBE;
    this.#now = options.now ?? Date.now;
    this.#onBatch = options.onLegacyBatch ?? (() => undefined);
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
    if (old !== undefined) return { text: old.text, legacy: true };
    // Neither name had it when looked at: a move (this instance's or another's) may have gone from the old name
    // to the new one in between, so the new name is read again rather than the user shown nothing.
    const moved = await this.#download(this.blob(user));
    return moved !== undefined ? { ...moved, legacy: false } : { text: undefined, legacy: false };
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

  /**
   * Whether any blob is left at an old name: one listing of at most a batch, shared, again after the interval.
   * What it lists is moved in the background.
   */
  #legacyExists(): Promise<boolean> {
    const now = this.#now();
    if (this.#probe === undefined || now - this.#probe.at >= this.#interval) {
      const listed = this.#listPage();
      const probe = { at: now, found: listed.then(({ names, more }) => names.length > 0 || more) };
      this.#probe = probe;
      listed.then(
        (page) => this.#startMoves(probe, page),
        // A failed probe is not kept: the next read probes again.
        () => {
          if (this.#probe === probe) this.#probe = undefined;
        },
      );
    }
    return this.#probe.found;
  }

  /** The first page of old names (`more`: the listing goes on past it, or could not say on an empty page). */
  async #listPage(): Promise<LegacyPage> {
    const pages = this.#container
      .listBlobsFlat({ prefix: this.#legacyPrefix })
      .byPage({ maxPageSize: Math.max(1, this.#movesPerProbe) });
    const first = await pages.next();
    if (first.done === true) return { names: [], more: false };
    const names = first.value.segment.blobItems.map((item) => item.name);
    return { names, more: (first.value.continuationToken ?? '') !== '' };
  }

  /** Moves the probe's page in the background, unless a batch is under way already. */
  #startMoves(probe: Probe, page: LegacyPage): void {
    if (this.#moving || this.#movesPerProbe <= 0 || page.names.length === 0) return;
    this.#moving = true;
    this.#moveBatch(probe, page)
      .catch(() => undefined)
      .finally(() => {
        this.#moving = false;
      });
  }

  async #moveBatch(probe: Probe, page: LegacyPage): Promise<void> {
    let moved = 0;
    for (const name of page.names) {
      if (await this.#move(name).catch(() => false)) moved++;
    }
    // The probe's page was all there was, and none of it is left: until the next probe is due, reads are as if
    // this probe had found none.
    if (moved === page.names.length && !page.more && this.#probe === probe) {
      this.#probe = { at: probe.at, found: Promise.resolve(false) };
    }
    this.#onBatch({ moved, left: page.names.length - moved });
  }

  /** Moves one old blob to its new name; resolves whether the old name is empty now (a failed step rejects). */
  async #move(legacyName: string): Promise<boolean> {
    const user = userOfSegment(legacyName.slice(this.#legacyPrefix.length));
    // Old names were `<prefix><blobNameSegment(user)>`: anything else is no user's, and is left alone.
    if (user === undefined) return false;
    const old = this.#legacyBlob(user);
    const found = await this.#download(old);
    if (found === undefined) return true;
    if (found.etag === undefined) return false;
    try {
      await this.blob(user).upload(found.text, Buffer.byteLength(found.text), {
        blobHTTPHeaders: { blobContentType: 'application/json' },
        conditions: { ifNoneMatch: '*' },
      });
    } catch (error) {
      // 409/412: the new name exists, and reads look nowhere else: the old blob is obsolete.
      const status = error instanceof RestError ? error.statusCode : undefined;
      if (status !== 409 && status !== 412) throw error;
    }
    // Only the version copied (or made obsolete): one rewritten since it was read fails here and waits for a
    // later probe.
    await old.delete({ conditions: { ifMatch: found.etag } });
    return true;
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

/** The user whose old name ends in `segment`, if `blobNameSegment` wrote it (the user's folder has it too). */
function userOfSegment(segment: string): string | undefined {
  try {
    const user = decodeURIComponent(segment);
    return segment !== '' && blobNameSegment(user) === segment ? user : undefined;
  } catch {
    return undefined;
  }
}
