/**
 * Where things live in the history container: segments `<folder>/0000000001.jsonl`, and the percent-encoding of
 * a conversation id into its folder (docs/architecture.md, "History in Blob Storage").
 */
import { blobNameSegment } from '../blob-names.js';

/** Segment numbers are zero-padded to this many digits so names sort in segment order. */
export const SEGMENT_DIGITS = 10;
/** The first segment of every conversation. */
export const FIRST_SEGMENT = 1;

const SEGMENT_FILE = /^(\d{10})\.jsonl$/;

/** The folder (blob name prefix, without the trailing `/`) of a conversation. */
export function conversationFolder(conversation: string): string {
  return blobNameSegment(conversation);
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
