/**
 * Mutes and bans: one small blob per user with a mute or a ban, `_moderation/users/<user>`, changed with an
 * ETag check and cached per instance for {@link DEFAULT_MODERATION_CACHE_TTL_MS}, so a send costs no Blob read
 * while its sender's state is cached (docs/architecture.md, "Moderation").
 */
import { type ContainerClient, RestError } from '@azure/storage-blob';
import { blobNameSegment } from '../../blob-names.js';
import { setBounded } from '../../bounded-map.js';

/** The blob name prefix of moderation state (conversation folders never start with `_`). */
export const MODERATION_PREFIX = '_moderation/';
/** How long an instance trusts a user's mute and ban state it read or wrote: the bound on another instance's news. */
export const DEFAULT_MODERATION_CACHE_TTL_MS = 10_000;
/** How many users' states an instance remembers (the oldest are forgotten first). */
export const DEFAULT_MAX_REMEMBERED_STATES = 10_000;
/** Tries of one change against concurrent changes of the same user's state. */
const ATTEMPTS = 5;

/** Who did it, when (ISO 8601), and why. */
export interface Sanction {
  readonly by: string;
  readonly at: string;
  readonly reason?: string;
}
export interface Mute extends Sanction {
  /** When the mute ends (ISO 8601). */
  readonly until: string;
}
export interface UserSanctions {
  readonly mute?: Mute;
  readonly ban?: Sanction;
}

export interface ModerationStoreOptions {
  /** See {@link DEFAULT_MODERATION_CACHE_TTL_MS}. */
  cacheTtlMs?: number;
  /** See {@link DEFAULT_MAX_REMEMBERED_STATES}. */
  maxRemembered?: number;
  now?: () => number;
}

export class ModerationStore {
  readonly #container: ContainerClient;
  readonly #ttl: number;
  readonly #max: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, { state: UserSanctions; at: number }>();

  constructor(container: ContainerClient, options: ModerationStoreOptions = {}) {
    this.#container = container;
    this.#ttl = options.cacheTtlMs ?? DEFAULT_MODERATION_CACHE_TTL_MS;
    this.#max = options.maxRemembered ?? DEFAULT_MAX_REMEMBERED_STATES;
    this.#now = options.now ?? Date.now;
  }

  /** The user's mute (only while it lasts) and ban; from the cache while it is fresh. */
  async sanctionsOf(user: string): Promise<UserSanctions> {
    const known = this.#cache.get(user);
    const state = known && this.#now() - known.at < this.#ttl ? known.state : (await this.#load(user)).state;
    return this.#current(state);
  }

  /** Applies `edit` to the user's state (retrying on a concurrent change) and returns the new state. */
  async change(user: string, edit: (state: UserSanctions) => UserSanctions): Promise<UserSanctions> {
    const blob = this.#blob(user);
    for (let attempt = 1; ; attempt++) {
      const { state, etag } = await this.#load(user);
      const next = edit(this.#current(state));
      const body = JSON.stringify(next);
      try {
        await blob.upload(body, Buffer.byteLength(body), {
          blobHTTPHeaders: { blobContentType: 'application/json' },
          conditions: etag === undefined ? { ifNoneMatch: '*' } : { ifMatch: etag },
        });
        setBounded(this.#cache, user, { state: next, at: this.#now() }, this.#max);
        return next;
      } catch (error) {
        const status = error instanceof RestError ? error.statusCode : undefined;
        if ((status !== 412 && status !== 409) || attempt >= ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
      }
    }
  }

  /** The state without a mute that has ended. */
  #current(state: UserSanctions): UserSanctions {
    if (state.mute === undefined || Date.parse(state.mute.until) > this.#now()) return state;
    const { mute: _ended, ...rest } = state;
    return rest;
  }

  async #load(user: string): Promise<{ state: UserSanctions; etag?: string }> {
    let loaded: { state: UserSanctions; etag?: string };
    try {
      const response = await this.#blob(user).download();
      const state = parseSanctions(await readText(response.readableStreamBody));
      loaded = response.etag === undefined ? { state } : { state, etag: response.etag };
    } catch (error) {
      if (!(error instanceof RestError && error.statusCode === 404)) throw error;
      loaded = { state: {} };
    }
    setBounded(this.#cache, user, { state: loaded.state, at: this.#now() }, this.#max);
    return loaded;
  }

  #blob(user: string) {
    return this.#container.getBlockBlobClient(`${MODERATION_PREFIX}users/${blobNameSegment(user)}`);
  }
}

function parseSanctions(text: string): UserSanctions {
  try {
    const value = JSON.parse(text) as UserSanctions;
    return typeof value === 'object' && value !== null ? value : {};
  } catch {
    return {};
  }
}

async function readText(stream: NodeJS.ReadableStream | undefined): Promise<string> {
  const chunks: Buffer[] = [];
  if (stream) for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
