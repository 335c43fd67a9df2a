/**
 * The names of presence entries: `_presence/<user>/<connection id>`, each a blob-name segment
 * (docs/architecture.md, "Presence and group memberships").
 */
import { blobNameSegment } from '../../blob-names.js';

/** The blob name prefix of presence entries (conversation folders never start with `_`). */
export const PRESENCE_PREFIX = '_presence/';

/** The prefix of one user's entries. */
export function userPrefix(user: string): string {
  return `${PRESENCE_PREFIX}${blobNameSegment(user)}/`;
}

/** The blob name of one entry. */
export function entryName(user: string, connectionId: string): string {
  // Blob-name segments, so names with spaces, a trailing dot or any script make plain, reversible blob names.
  return `${PRESENCE_PREFIX}${blobNameSegment(user)}/${blobNameSegment(connectionId)}`;
}

/** The user and connection id of an entry's blob name, or `undefined` for a name that is not one. */
export function parseEntryName(blobName: string): { user: string; connectionId: string } | undefined {
  const rest = blobName.slice(PRESENCE_PREFIX.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return undefined;
  try {
    return {
      user: decodeURIComponent(rest.slice(0, slash)),
      connectionId: decodeURIComponent(rest.slice(slash + 1)),
    };
  } catch {
    return undefined;
  }
}

/** The user of a listing's prefix of one user's entries (`_presence/<user>/`), or `undefined` for another name. */
export function parseUserPrefix(prefix: string): string | undefined {
  if (!prefix.startsWith(PRESENCE_PREFIX) || !prefix.endsWith('/')) return undefined;
  const segment = prefix.slice(PRESENCE_PREFIX.length, -1);
  if (segment.length === 0 || segment.includes('/')) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
