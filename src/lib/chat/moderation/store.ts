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
/**
 * The most state blobs one listing of who is muted or banned now reads the names of (one listing page): every
 * person ever muted or banned has one, so the listing stops there and says it may have missed some.
 */
export const DEFAULT_MAX_SANCTIONS_SCANNED = 5000;

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

/** A person muted or banned now, as the listing gives them: when each began, and when the mute ends. */
export interface CurrentSanctions {
  readonly user: string;
  readonly mute?: { readonly until: string; readonly at: string };
  readonly ban?: { readonly at: string };
}

/** Who is muted or banned now, the latest sanction first. */
export interface SanctionsPage {
  readonly sanctions: readonly CurrentSanctions[];
  /** More are muted or banned than the page holds (or more state blobs exist than one listing reads). */
  readonly more: boolean;
}

export interface ModerationStoreOptions {
  /** See {@link DEFAULT_MODERATION_CACHE_TTL_MS}. */
  cacheTtlMs?: number;
  /** See {@link DEFAULT_MAX_REMEMBERED_STATES}. */
  maxRemembered?: number;
  /** See {@link DEFAULT_MAX_SANCTIONS_SCANNED}. */
  maxScanned?: number;
  now?: () => number;
}

export class ModerationStore {
  readonly #container: ContainerClient;
  readonly #ttl: number;
  readonly #max: number;
  readonly #maxScanned: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, { state: UserSanctions; at: number }>();

  constructor(container: ContainerClient, options: ModerationStoreOptions = {}) {
    this.#container = container;
    this.#ttl = options.cacheTtlMs ?? DEFAULT_MODERATION_CACHE_TTL_MS;
    this.#max = options.maxRemembered ?? DEFAULT_MAX_REMEMBERED_STATES;
    this.#maxScanned = options.maxScanned ?? DEFAULT_MAX_SANCTIONS_SCANNED;
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
          metadata: summaryOf(next),
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

  /**
   * Who is muted or banned now, the latest sanction first, at most `limit`: one listing of the state blobs with
   * their metadata (each write keeps a summary there), so a blob is read only when it was written without one.
   */
  async current(limit: number): Promise<SanctionsPage> {
    const found: CurrentSanctions[] = [];
    let scanned = 0;
    let cut = false;
    const prefix = `${MODERATION_PREFIX}users/`;
    for await (const item of this.#container.listBlobsFlat({ prefix, includeMetadata: true })) {
      if (scanned++ >= this.#maxScanned) {
        cut = true;
        break;
      }
      const user = decodeURIComponent(item.name.slice(prefix.length));
      const summary = item.metadata?.[LISTED] === '1' ? fromSummary(item.metadata) : undefined;
      const state = this.#current(summary ?? (await this.#load(user)).state);
      const entry = currentOf(user, state);
      if (entry !== undefined) found.push(entry);
    }
    found.sort((a, b) => latestOf(b).localeCompare(latestOf(a)));
    return { sanctions: found.slice(0, limit), more: cut || found.length > limit };
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

/** The metadata key that says a blob carries its summary (blobs written before it are read instead). */
const LISTED = 'listed';

/** What a listing needs of a state, as blob metadata (ASCII only: no user id, no reason). */
function summaryOf(state: UserSanctions): Record<string, string> {
  return {
    [LISTED]: '1',
    ...(state.mute ? { muteuntil: state.mute.until, muteat: state.mute.at } : {}),
    ...(state.ban ? { banat: state.ban.at } : {}),
  };
}

/** The state a summary stands for, enough to list it (`by` and `reason` are the audit log's). */
function fromSummary(metadata: Record<string, string>): UserSanctions {
  const { muteuntil, muteat, banat } = metadata;
  return {
    ...(muteuntil && muteat ? { mute: { until: muteuntil, at: muteat, by: '' } } : {}),
    ...(banat ? { ban: { at: banat, by: '' } } : {}),
  };
}

function currentOf(user: string, state: UserSanctions): CurrentSanctions | undefined {
  if (state.mute === undefined && state.ban === undefined) return undefined;
  return {
    user,
    ...(state.mute ? { mute: { until: state.mute.until, at: state.mute.at } } : {}),
    ...(state.ban ? { ban: { at: state.ban.at } } : {}),
  };
}

const latestOf = (s: CurrentSanctions): string => [s.mute?.at ?? '', s.ban?.at ?? ''].sort().at(-1) ?? '';

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
