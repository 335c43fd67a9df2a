/**
 * Reading presence entries from Blob Storage: who has any (one prefix per user, so a listing parses a name per
 * user, not every entry's properties) and one user's own entries with their times and marks
 * (docs/architecture.md, "Presence and group memberships").
 */
import type { ContainerClient } from '@azure/storage-blob';
import { PRESENCE_PREFIX, parseEntryName, parseUserPrefix, userPrefix } from './entry-names.js';

/** One entry of a user: its connection, when it was written (the storage's time) and whether it is marked. */
export interface EntryRead {
  connectionId: string;
  modified: number;
  /** Written when the service had announced the connection (it holds the mark, so it is not empty). */
  marked: boolean;
}

/** Every user with at least one entry: one delimiter listing of `_presence/`. */
export async function listUsers(container: ContainerClient): Promise<string[]> {
  const users: string[] = [];
  for await (const item of container.listBlobsByHierarchy('/', { prefix: PRESENCE_PREFIX })) {
    if (item.kind !== 'prefix') continue;
    const user = parseUserPrefix(item.name);
    if (user !== undefined) users.push(user);
  }
  return users;
}

/** `user`'s entries: one listing of their own prefix; names that are not entries of theirs are skipped. */
export async function readEntries(container: ContainerClient, user: string): Promise<EntryRead[]> {
  const entries: EntryRead[] = [];
  for await (const blob of container.listBlobsFlat({ prefix: userPrefix(user) })) {
    const parsed = parseEntryName(blob.name);
    if (parsed === undefined || parsed.user !== user) continue;
    entries.push({
      connectionId: parsed.connectionId,
      modified: blob.properties.lastModified?.getTime() ?? 0,
      marked: (blob.properties.contentLength ?? 0) > 0,
    });
  }
  return entries;
}
