/**
 * One path segment of a blob name, the same for every layout in the chat's container (history folders,
 * `_members/`, `_presence/`, `_users/`): percent-encoded so any name makes a plain, reversible segment, with the
 * characters `encodeURIComponent` leaves alone among `!'()*~` escaped too, and a trailing dot escaped as `%2E`,
 * since Azure Storage advises that no path segment end in a dot (and `.` or `..` would be read as a relative
 * path). docs/architecture.md, "History in Blob Storage".
 */

/** The blob-name segment of `value`; `decodeURIComponent` reverses it. */
export function blobNameSegment(value: string): string {
  const encoded = encodeURIComponent(value).replace(/[!'()*~]/g, percentEncode);
  return encoded.endsWith('.') ? `${encoded.slice(0, -1)}%2E` : encoded;
}

function percentEncode(char: string): string {
  return `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
}
