/**
 * Display names of signed-in users: one small blob per user, `_users/<id>`, written by negotiate and read by
 * listings, cached for {@link DEFAULT_NAME_CACHE_TTL_MS} (docs/architecture.md, "Tokens and identity").
 */
import type { ContainerClient } from '@azure/storage-blob';
import { blobNameSegment } from '../../blob-names.js';
import { setBounded } from '../../bounded-map.js';
import { cleanDisplayName } from '../../display-name.js';
import { type ChatRole, decodeRoles } from '../moderation/roles.js';

/** The blob name prefix of display names (conversation folders never start with `_`). */
export const USERS_PREFIX = '_users/';
/** How long an instance trusts a name it read or wrote. */
export const DEFAULT_NAME_CACHE_TTL_MS = 60_000;
/** How many names an instance remembers (the oldest are forgotten first). */
export const DEFAULT_MAX_REMEMBERED_NAMES = 10_000;

export interface DirectoryOptions {
  /** See {@link DEFAULT_NAME_CACHE_TTL_MS}. */
  cacheTtlMs?: number;
  /** See {@link DEFAULT_MAX_REMEMBERED_NAMES}. */
  maxRemembered?: number;
  now?: () => number;
}

export class UserDirectory {
  readonly #container: ContainerClient;
  readonly #ttl: number;
  readonly #max: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, { name: string | undefined; roles: readonly ChatRole[]; at: number }>();

  constructor(container: ContainerClient, options: DirectoryOptions = {}) {
    this.#container = container;
    this.#ttl = options.cacheTtlMs ?? DEFAULT_NAME_CACHE_TTL_MS;
    this.#max = options.maxRemembered ?? DEFAULT_MAX_REMEMBERED_NAMES;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Records `name` as the display name of `id`, with the chat roles its sign-in carried (docs/architecture.md,
   * "Moderation"); written only when they differ from what this instance knows.
   */
  async record(id: string, name: string, roles: readonly ChatRole[] = []): Promise<void> {
    const known = this.#cache.get(id);
    const same = known?.name === name && known.roles.join(' ') === roles.join(' ');
    if (same && known !== undefined && this.#now() - known.at < this.#ttl) return;
    const body = JSON.stringify(roles.length > 0 ? { name, roles } : { name });
    await this.#blob(id).upload(body, Buffer.byteLength(body), {
      blobHTTPHeaders: { blobContentType: 'application/json' },
    });
    setBounded(this.#cache, id, { name, roles, at: this.#now() }, this.#max);
  }

  /** The display name of `id`, or `undefined` when none is recorded. */
  async nameOf(id: string): Promise<string | undefined> {
    return (await this.#entry(id)).name;
  }

  /** The chat roles negotiate recorded for `id` at its last sign-in (none when nothing is recorded). */
  async rolesOf(id: string): Promise<readonly ChatRole[]> {
    return (await this.#entry(id)).roles;
  }

  async #entry(id: string): Promise<{ name: string | undefined; roles: readonly ChatRole[] }> {
    const known = this.#cache.get(id);
    if (known && this.#now() - known.at < this.#ttl) return known;
    let name: string | undefined;
    let roles: readonly ChatRole[] = [];
    try {
      const buffer = await this.#blob(id).downloadToBuffer();
      const record = JSON.parse(buffer.toString('utf8')) as { name?: unknown; roles?: unknown };
      name = cleanDisplayName(record.name);
      roles = decodeRoles(record.roles);
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode !== 404 && !(error instanceof SyntaxError))
        throw error;
      name = undefined;
    }
    const entry = { name, roles, at: this.#now() };
    setBounded(this.#cache, id, entry, this.#max);
    return entry;
  }

  /** The recorded names of `ids`, as an object; ids without one are left out. */
  async namesOf(ids: readonly string[]): Promise<Record<string, string>> {
    const names = await Promise.all(ids.map((id) => this.nameOf(id)));
    // No prototype: ids are keys, and no id may reach Object.prototype (`__proto__`, `constructor`).
    const result: Record<string, string> = Object.create(null);
    ids.forEach((id, i) => {
      const name = names[i];
      if (name !== undefined) result[id] = name;
    });
    return result;
  }

  #blob(id: string) {
    return this.#container.getBlockBlobClient(`${USERS_PREFIX}${blobNameSegment(id)}`);
  }
}
