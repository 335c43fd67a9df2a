/**
 * A conversation's segments as one sequence: listing them with their sizes, and reading their messages backwards
 * across segment boundaries. The order of a conversation is the storage order (segment, then offset): the one
 * order every reader agrees on, even when the clocks of two instances disagree a little.
 * See docs/architecture.md, "History in Blob Storage".
 */
import type { AppendBlobClient, ContainerClient } from '@azure/storage-blob';
import { HistoryError } from './errors.js';
import { conversationFolder, segmentBlobName, segmentNumber } from './layout.js';
import { type ChatMessage, isMessageId } from './message.js';
import { linesBackward } from './segment-reader.js';

/** One listed segment: its number, its size in bytes when listed, and whether it was sealed then. */
export interface SegmentInfo {
  readonly segment: number;
  readonly size: number;
  readonly sealed?: boolean;
}

/** A line in a listed conversation: the index into its segment list and the line's byte offset. */
export interface LinePosition {
  readonly index: number;
  readonly offset: number;
}

/** The append blob of one segment of a conversation. */
export function segmentClient(
  container: ContainerClient,
  conversation: string,
  segment: number,
): AppendBlobClient {
  return container.getAppendBlobClient(segmentBlobName(conversation, segment));
}

/** The segments of a conversation with their sizes, oldest first. One listing call per 5 000 segments. */
export async function listSegments(container: ContainerClient, conversation: string): Promise<SegmentInfo[]> {
  const segments: SegmentInfo[] = [];
  const prefix = `${conversationFolder(conversation)}/`;
  for await (const item of container.listBlobsByHierarchy('/', { prefix })) {
    if (item.kind !== 'blob') continue;
    const segment = segmentNumber(conversation, item.name);
    if (segment !== undefined) {
      const size = item.properties.contentLength ?? 0;
      segments.push({ segment, size, sealed: item.properties.isSealed === true });
    }
  }
  return segments.sort((a, b) => a.segment - b.segment);
}

/** Just past the last line of the newest segment; `undefined` when the conversation has no segment yet. */
export function endOf(segments: readonly SegmentInfo[]): LinePosition | undefined {
  const index = segments.length - 1;
  const last = segments[index];
  return last === undefined ? undefined : { index, offset: last.size };
}

/**
 * The messages of a conversation before a position, newest first, read backwards on demand across segments
 * (`chunkBytes` per ranged download). `start` is exclusive: the line at `start.offset` itself is not yielded.
 */
export async function* messagesBackward(
  container: ContainerClient,
  conversation: string,
  segments: readonly SegmentInfo[],
  start: LinePosition,
  chunkBytes: number,
): AsyncGenerator<{ message: ChatMessage; position: LinePosition; bytes: number }, void, undefined> {
  for (let index = start.index; index >= 0; index--) {
    const { segment, size } = segments[index] as SegmentInfo;
    const end = index === start.index ? start.offset : size;
    const blob = segmentClient(container, conversation, segment);
    for await (const line of linesBackward(blob, end, chunkBytes)) {
      yield {
        message: parseLine(line.bytes, conversation, segment, line.offset),
        position: { index, offset: line.offset },
        bytes: line.bytes.length,
      };
    }
  }
}

/** A stored line as a message; a line that is not one is corrupt history, reported with where it is. */
export function parseLine(bytes: Buffer, conversation: string, segment: number, offset: number): ChatMessage {
  try {
    const value = JSON.parse(bytes.toString('utf8')) as ChatMessage;
    if (isMessageId(value.id)) return value;
  } catch {
    // Reported below with the position, which is what someone repairing the blob needs.
  }
  throw new HistoryError(
    'corrupt-history',
    `${segmentBlobName(conversation, segment)} at byte ${offset} (${bytes.length} bytes)`,
  );
}
