/**
 * The people directory: everyone who has used the chat, one empty blob each, `_people/<name>!<id>`, with the
 * display name, id and last-seen time as metadata. Its names sort by lower-case name, so a search by name
 * prefix is one listing call of at most `limit` blobs, whatever the number of people
 * (docs/architecture.md, "People").
 */
import { type ContainerClient, RestError } from '@azure/storage-blob';
import { blobNameSegment } from '../blob-names.js';
import { setBounded } from '../bounded-map.js';
import {
  DEFAULT_LAST_SEEN_RESOLUTION_MS,
  DEFAULT_MAX_REMEMBERED_ENTRIES,
  type PeoplePage,
  type Person,
} from './entry.js';

/** The blob name prefix of the people directory. */
export const PEOPLE_PREFIX = '_people/';

export interface PeopleOptions {
  /** See {@link DEFAULT_LAST_SEEN_RESOLUTION_MS}. */
  lastSeenResolutionMs?: number;
  /** People whose last write this instance remembers. */
  maxRemembered?: number;
  now?: () => number;
}

export class PeopleDirectory {
  readonly #container: ContainerClient;
  readonly #resolution: number;
  readonly #max: number;
  readonly #now: () => number;
  /** What this instance last wrote per user: the name and when. */
  readonly #written = new Map<string, { name: string; at: number }>();

  constructor(container: ContainerClient, options: PeopleOptions = {}) {
    this.#container = container;
    this.#resolution = options.lastSeenResolutionMs ?? DEFAULT_LAST_SEEN_RESOLUTION_MS;
    this.#max = options.maxRemembered ?? DEFAULT_MAX_REMEMBERED_ENTRIES;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Records that `user` (shown as `name`, the id without sign-in) was seen now: one write, skipped when this
   * instance wrote the same name less than the resolution ago unless `force` (a leave). A new name replaces
   * the entry this instance wrote under the old one.
   */
  async seen(user: string, name: string, { force = false }: { force?: boolean } = {}): Promise<void> {
    const now = this.#now();
    const known = this.#written.get(user);
    if (!force && known?.name === name && now - known.at < this.#resolution) return;
    await this.#blob(name, user).upload('', 0, {
      metadata: {
        user: encodeURIComponent(user),
        name: encodeURIComponent(name),
        lastseen: new Date(now).toISOString(),
      },
    });
    if (known !== undefined && known.name !== name) {
      await this.#blob(known.name, user)
        .deleteIfExists()
        .catch(() => undefined);
    }
    setBounded(this.#written, user, { name, at: now }, this.#max);
  }

  /**
   * The people whose name starts with `query` (case-insensitively), sorted by name: one listing call of at
   * most `limit` entries, from `after` (a previous page's `next`) on. `next` is there while others match, so
   * every match can be paged to. A cursor the storage service does not recognise ends the listing.
   */
  async find(query: string, limit: number, after?: string): Promise<PeoplePage> {
    const prefix = `${PEOPLE_PREFIX}${keyOf(query)}`;
    const people: Person[] = [];
    let next: string | undefined;
    try {
      const pages = this.#container
        .listBlobsFlat({ prefix, includeMetadata: true })
        .byPage({ maxPageSize: limit, ...(after !== undefined ? { continuationToken: after } : {}) });
      const first = await pages.next();
      if (!first.done) {
        for (const item of first.value.segment.blobItems) {
          const person = personOf(item.metadata);
          if (person !== undefined) people.push(person);
        }
        next = first.value.continuationToken || undefined;
      }
    } catch (error) {
      // 404: no container yet; 400: a cursor the service does not recognise.
      const status = error instanceof RestError ? error.statusCode : undefined;
      if (!(status === 404 || (status === 400 && after !== undefined))) throw error;
    }
    return {
      query,
      people,
      more: next !== undefined,
      ...(next !== undefined ? { next } : {}),
      ...(after !== undefined ? { after } : {}),
    };
  }

  #blob(name: string, user: string) {
    return this.#container.getBlockBlobClient(`${PEOPLE_PREFIX}${keyOf(name)}!${blobNameSegment(user)}`);
  }
}

/**
 * The sortable, prefix-searchable form of a name: lower case, percent-encoded with `!` escaped too (so the
 * `!` before the id cannot occur in it, and sorts before every character that can: `ann` before `ann-marie`)
 * and no trailing-dot escape (a prefix must stay a prefix).
 */
function keyOf(name: string): string {
  return encodeURIComponent(name.toLowerCase()).replace(
    /[!'()*~]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function personOf(metadata: Record<string, string> | undefined): Person | undefined {
  if (metadata?.user === undefined || metadata.lastseen === undefined) return undefined;
  try {
    const user = decodeURIComponent(metadata.user);
    const name = metadata.name === undefined ? user : decodeURIComponent(metadata.name);
    return { user, ...(name !== user ? { name } : {}), lastSeen: metadata.lastseen };
  } catch {
    return undefined;
  }
}
