/**
 * How many groups each user created lately, so that creating and leaving groups cannot fill the channel
 * directory and take names without end (docs/architecture.md, "Private groups and channels"). One small blob
 * per user who created a group, `_creations/<user>`, `{ "created": [<ISO 8601>, …] }`: the times of their
 * creations in the last {@link CREATION_WINDOW_MS}, older ones dropped at each write. A creation reads it and
 * writes it back with one more time, ETag-conditional (`If-Match`, or `If-None-Match: *` for the first), and
 * reads again on a conflict: creations of one user on several Function instances at once are counted exactly.
 * Only a creation touches it: one read and one write more per group created.
 */
import { type ContainerClient, RestError } from '@azure/storage-blob';
import { blobNameSegment } from '../blob-names.js';
import { streamText } from '../stream-text.js';
import { ConversationListError } from './errors.js';
import { DEFAULT_GROUP_WRITE_ATTEMPTS } from './group-records.js';

/** The blob name prefix of users' creation records (conversation folders never start with `_`). */
export const CREATIONS_PREFIX = '_creations/';
/**
 * Groups (private groups and channels, joining a name nobody uses included) one user may create in any
 * {@link CREATION_WINDOW_MS}; one more is refused with `too-many-groups-created`. Leaving a group does not give
 * its creation back: the group keeps its name, and a channel stays in the directory.
 */
export const DEFAULT_MAX_GROUPS_CREATED_PER_DAY = 20;
/** The window the creations of {@link DEFAULT_MAX_GROUPS_CREATED_PER_DAY} are counted over: 24 hours. */
export const CREATION_WINDOW_MS = 24 * 60 * 60_000;

/** Whether one more creation at `now` fits, and if so the times to store; if not, when it will fit. */
export type CreationCheck =
  | { readonly ok: true; readonly created: readonly number[] }
  | { readonly ok: false; readonly nextAt: number };

/**
 * The times of `created` that count at `now`: those less than `windowMs` before it (and none implausibly far
 * ahead, as a clock set wrong on some instance could write), oldest first.
 */
export function countedCreations(
  created: readonly number[],
  now: number,
  windowMs: number = CREATION_WINDOW_MS,
): number[] {
  return created.filter((t) => t > now - windowMs && t < now + windowMs).sort((a, b) => a - b);
}

/**
 * One more creation at `now` against at most `max` in any `windowMs`: the times to store (the counted ones and
 * `now`), or when the oldest creation that stands in the way leaves the window.
 */
export function admitCreation(
  created: readonly number[],
  now: number,
  max: number,
  windowMs: number = CREATION_WINDOW_MS,
): CreationCheck {
  const counted = countedCreations(created, now, windowMs);
  if (counted.length < max) return { ok: true, created: [...counted, now] };
  // With `max` lowered since, more than `max` may count: the next creation waits until only max - 1 do.
  const blocking = counted[counted.length - max] ?? now;
  return { ok: false, nextAt: blocking + windowMs };
}

/** `created` without one creation at `at` (a refused creation gives its place back), the rest as it counts. */
export function withoutCreation(
  created: readonly number[],
  at: number,
  now: number,
  windowMs: number = CREATION_WINDOW_MS,
): number[] {
  const counted = countedCreations(created, now, windowMs);
  const index = counted.indexOf(at);
  return index === -1 ? counted : [...counted.slice(0, index), ...counted.slice(index + 1)];
}

export interface GroupCreationOptions {
  /** Conditional writes one change of a record tries (see `DEFAULT_GROUP_WRITE_ATTEMPTS`). */
  writeAttempts?: number;
}

export class GroupCreationStore {
  readonly #container: ContainerClient;
  readonly #attempts: number;

  constructor(container: ContainerClient, options: GroupCreationOptions = {}) {
    this.#container = container;
    this.#attempts = options.writeAttempts ?? DEFAULT_GROUP_WRITE_ATTEMPTS;
  }

  /**
   * Counts one creation by `user` at `now` (ms), at most `max` in the window: `too-many-groups-created`, with
   * when the next one is possible, once they have made as many. Returns the time counted, for
   * {@link giveBack}.
   */
  async take(user: string, now: number, max: number): Promise<number> {
    await this.#change(user, now, (created) => {
      const check = admitCreation(created, now, max);
      if (check.ok) return check.created;
      const until = new Date(check.nextAt).toISOString();
      throw new ConversationListError(
        'too-many-groups-created',
        `at most ${max} in any 24 hours; the next one is possible at ${until}`,
        until,
      );
    });
    return now;
  }

  /** Takes back the creation {@link take} counted at `at`, for a creation refused after it was counted. */
  async giveBack(user: string, at: number, now: number): Promise<void> {
    await this.#change(user, now, (created) => withoutCreation(created, at, now));
  }

  /** The user's counted creation times at `now`, oldest first. */
  async created(user: string, now: number): Promise<number[]> {
    return countedCreations((await this.#load(user)).created, now);
  }

  async #change(user: string, now: number, edit: (created: number[]) => readonly number[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const { created, etag } = await this.#load(user);
      const next = edit(countedCreations(created, now));
      const body = JSON.stringify({ created: next.map((t) => new Date(t).toISOString()) });
      try {
        await this.#blob(user).upload(body, Buffer.byteLength(body), {
          blobHTTPHeaders: { blobContentType: 'application/json' },
          conditions: etag === undefined ? { ifNoneMatch: '*' } : { ifMatch: etag },
        });
        return;
      } catch (error) {
        const status = error instanceof RestError ? error.statusCode : undefined;
        if (status !== 412 && status !== 409) throw error;
        if (attempt >= this.#attempts) {
          const detail = `the count of groups you created changed ${this.#attempts} times meanwhile`;
          throw new ConversationListError('group-contended', detail);
        }
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
      }
    }
  }

  async #load(user: string): Promise<{ created: number[]; etag?: string }> {
    try {
      const response = await this.#blob(user).download();
      const created = parseCreated(await streamText(response.readableStreamBody));
      return response.etag === undefined ? { created } : { created, etag: response.etag };
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return { created: [] };
      throw error;
    }
  }

  #blob(user: string) {
    return this.#container.getBlockBlobClient(`${CREATIONS_PREFIX}${blobNameSegment(user)}`);
  }
}

/** The times of a stored record; entries that are not times are dropped. */
function parseCreated(text: string): number[] {
  try {
    const value = JSON.parse(text) as { created?: unknown };
    if (!Array.isArray(value.created)) return [];
    return value.created
      .map((t) => (typeof t === 'string' ? Date.parse(t) : Number.NaN))
      .filter((t) => Number.isFinite(t));
  } catch {
    return [];
  }
}
