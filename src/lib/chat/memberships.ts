/**
 * Which groups each user has joined: one empty blob per membership, `_members/<user>/<group>`.
 *
 * The service keeps group membership in memory only, so it is lost when the service restarts. Kept here, it is
 * the source of truth: `welcome` lists it, sending to a group and reading its history check it, and every
 * entry re-applies it to the service (idempotent `addUserToGroup`). One blob per membership means joins and
 * leaves from several Function instances never overwrite each other.
 */
import type { ContainerClient } from '@azure/storage-blob';

/** The blob name prefix of memberships (conversation folders never start with `_`). */
export const MEMBERS_PREFIX = '_members/';

export class MembershipStore {
  readonly #container: ContainerClient;

  constructor(container: ContainerClient) {
    this.#container = container;
  }

  /** The groups `user` belongs to, sorted. */
  async groupsOf(user: string): Promise<string[]> {
    const prefix = `${MEMBERS_PREFIX}${encodeURIComponent(user)}/`;
    const groups: string[] = [];
    for await (const blob of this.#container.listBlobsFlat({ prefix })) {
      groups.push(decodeURIComponent(blob.name.slice(prefix.length)));
    }
    return groups.sort();
  }

  async isMember(user: string, group: string): Promise<boolean> {
    return this.#blob(user, group).exists();
  }

  async add(user: string, group: string): Promise<void> {
    await this.#blob(user, group).upload('', 0);
  }

  async remove(user: string, group: string): Promise<void> {
    await this.#blob(user, group).deleteIfExists();
  }

  #blob(user: string, group: string) {
    return this.#container.getBlockBlobClient(
      `${MEMBERS_PREFIX}${encodeURIComponent(user)}/${encodeURIComponent(group)}`,
    );
  }
}
