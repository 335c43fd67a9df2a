/**
 * Which groups each user has joined: one empty blob per membership, `_members/<user>/<group>`, the source of
 * truth that every entry re-applies to the service (docs/architecture.md, "Presence and group memberships").
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
