/**
 * Where a conversation lives in the container.
 *
 * ```
 * <folder>/0000000001.jsonl             segment 1 (append blob, one JSON line per message)
 * <folder>/0000000002.jsonl             segment 2, started when segment 1 reached the block limit
 * _client-ids/<folder>/<sha256>.json    one marker per (sender, clientMessageId), holding the stored message
 * ```
 *
 * Markers live under one top-level prefix, apart from the segments, so listing a conversation's segments never
 * pages through them, and a lifecycle rule (prefix `chat-history/_client-ids/`) can delete old ones: a retry
 * comes seconds or minutes after its send, not weeks.
 *
 * `<folder>` is the conversation id with every character outside `A–Z a–z 0–9 _ - .` percent-encoded as UTF-8
 * (`encodeURIComponent`), and a trailing `.` written `%2E`. So `group:team a` → `group%3Ateam%20a`, `dm:ann:bob` →
 * `dm%3Aann%3Abob`. Why: names may hold spaces and letters of any script, and a path segment must not end in `.`
 * (Azure's naming rules); `:` breaks tools that copy blobs to Windows file systems. The encoding is reversible,
 * ASCII only, and (ids start with `room`, `group:` or `dm:`) never `.` or `..`, and never starts with `_`: the
 * prefix of every other kind of blob in the container (`_client-ids/`, and the chat's presence and memberships). The longest id
 * (`dm:` + two 32-letter names in a 4-byte script) stays far below Azure's 1 024-character blob name limit.
 * Marker names hash the sender and client id so their length does not depend on client input.
 */
import { createHash } from 'node:crypto';

/** Segment numbers are zero-padded to this many digits so names sort in segment order. */
export const SEGMENT_DIGITS = 10;
/** The first segment of every conversation. */
export const FIRST_SEGMENT = 1;

/** The prefix of every clientMessageId marker. */
export const CLIENT_IDS_PREFIX = '_client-ids/';

const SEGMENT_FILE = /^(\d{10})\.jsonl$/;

/** The folder (blob name prefix, without the trailing `/`) of a conversation. */
export function conversationFolder(conversation: string): string {
  const encoded = encodeURIComponent(conversation).replace(/[!'()*~]/g, percentEncode);
  return encoded.endsWith('.') ? `${encoded.slice(0, -1)}%2E` : encoded;
}

/** The blob name of one segment of a conversation. */
export function segmentBlobName(conversation: string, segment: number): string {
  return `${conversationFolder(conversation)}/${String(segment).padStart(SEGMENT_DIGITS, '0')}.jsonl`;
}

/** The segment number of a blob name listed under the conversation's folder, or `undefined` if it is not a segment. */
export function segmentNumber(conversation: string, blobName: string): number | undefined {
  const prefix = `${conversationFolder(conversation)}/`;
  if (!blobName.startsWith(prefix)) return undefined;
  const match = SEGMENT_FILE.exec(blobName.slice(prefix.length));
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** The blob name of the marker that records which message a sender's `clientMessageId` became. */
export function clientIdMarkerName(conversation: string, from: string, clientMessageId: string): string {
  // NUL cannot occur in a user name, so (from, clientMessageId) pairs cannot collide by concatenation.
  const digest = createHash('sha256').update(`${from}\u0000${clientMessageId}`, 'utf8').digest('hex');
  return `${CLIENT_IDS_PREFIX}${conversationFolder(conversation)}/${digest}.json`;
}

function percentEncode(char: string): string {
  return `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
}
