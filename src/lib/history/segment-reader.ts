/**
 * Reads a segment's JSON lines with ranged downloads — backwards from a byte offset, forwards from one, or just
 * the id of the line at a position — so what a read costs is the size of what it reads, never the size of the blob.
 *
 * Every append is one or more whole lines, each ending in `\n` (appends are atomic; several lines in one block
 * when queued appends go out together, see `append.ts`), so the end of a segment is always a line boundary, and
 * `\n` never occurs inside a line (JSON escapes it; it is never part of a multi-byte UTF-8 character). Readers
 * never look at block boundaries, only at bytes and lines.
 * See docs/architecture.md, "History in Blob Storage".
 */
import type { BlobClient } from '@azure/storage-blob';
import { isMessageId } from './message.js';

/** One line of a segment (without its `\n`) and the byte offset where it starts. */
export interface SegmentLine {
  readonly bytes: Buffer;
  readonly offset: number;
}

const NEWLINE = 0x0a;
/** Every stored line starts `{"id":"<26-character ULID>"`: the store writes `id` first. */
const ID_PREFIX = Buffer.from('{"id":"');
/** Bytes that hold a line's `{"id":"…"` head. */
export const ID_HEAD_BYTES = ID_PREFIX.length + 26;

/**
 * Yields the lines that end at or before byte `end`, newest first, downloading `chunkBytes` at a time from the
 * end towards the start. A line longer than a chunk is carried over and completed by the next download.
 */
export async function* linesBackward(
  blob: BlobClient,
  end: number,
  chunkBytes: number,
): AsyncGenerator<SegmentLine, void, undefined> {
  // Bytes from the start of the previous download up to its first line break: the tail of a line whose beginning
  // lies further back.
  let carry: Buffer = Buffer.alloc(0);
  let position = end;
  while (position > 0) {
    const start = Math.max(0, position - chunkBytes);
    const data = Buffer.concat([await downloadRange(blob, start, position - start), carry]);
    // `lineEnd` is the index (in `data`) of the current line's `\n`, i.e. just past its last byte.
    let lineEnd = data.length;
    if (data[lineEnd - 1] === NEWLINE) lineEnd -= 1;
    for (;;) {
      const previousBreak = lineEnd > 0 ? data.lastIndexOf(NEWLINE, lineEnd - 1) : -1;
      if (previousBreak === -1) {
        if (start === 0) {
          if (lineEnd > 0) yield { bytes: data.subarray(0, lineEnd), offset: 0 };
          carry = Buffer.alloc(0);
        } else {
          carry = Buffer.from(data.subarray(0, lineEnd + 1));
        }
        break;
      }
      if (lineEnd > previousBreak + 1) {
        yield { bytes: data.subarray(previousBreak + 1, lineEnd), offset: start + previousBreak + 1 };
      }
      lineEnd = previousBreak;
    }
    position = start;
  }
}

/** Yields the lines that start at or after byte `start` (a line boundary) and end by byte `end`, oldest first. */
export async function* linesForward(
  blob: BlobClient,
  start: number,
  end: number,
  chunkBytes: number,
): AsyncGenerator<SegmentLine, void, undefined> {
  let pending: Buffer = Buffer.alloc(0);
  let pendingOffset = start;
  let position = start;
  while (position < end) {
    const count = Math.min(chunkBytes, end - position);
    const data = Buffer.concat([pending, await downloadRange(blob, position, count)]);
    position += count;
    let lineStart = 0;
    for (;;) {
      const lineBreak = data.indexOf(NEWLINE, lineStart);
      if (lineBreak === -1) break;
      if (lineBreak > lineStart) {
        yield { bytes: data.subarray(lineStart, lineBreak), offset: pendingOffset + lineStart };
      }
      lineStart = lineBreak + 1;
    }
    pending = Buffer.from(data.subarray(lineStart));
    pendingOffset += lineStart;
  }
}

/**
 * The id of the first line that starts after byte `from` (strictly after: `from` may be inside a line) and before
 * `end`, with that line's offset; `undefined` when there is none or it does not start with an id.
 */
export async function idOfNextLine(
  blob: BlobClient,
  from: number,
  end: number,
  probeBytes: number,
): Promise<{ id: string; offset: number } | undefined> {
  let position = from;
  while (position < end) {
    const count = Math.min(probeBytes, end - position);
    const data = await downloadRange(blob, position, count);
    const lineBreak = data.indexOf(NEWLINE);
    if (lineBreak === -1) {
      position += count;
      continue;
    }
    const offset = position + lineBreak + 1;
    if (offset >= end) return undefined;
    const head = data.subarray(lineBreak + 1);
    if (head.length >= ID_HEAD_BYTES) {
      const id = idOfLine(head);
      return id === undefined ? undefined : { id, offset };
    }
    const id = idOfLine(await downloadRange(blob, offset, Math.min(ID_HEAD_BYTES, end - offset)));
    return id === undefined ? undefined : { id, offset };
  }
  return undefined;
}

/** The id at the start of a stored line (`{"id":"…"`), without parsing the rest; `undefined` if it has none. */
export function idOfLine(line: Buffer): string | undefined {
  if (line.length < ID_HEAD_BYTES || !line.subarray(0, ID_PREFIX.length).equals(ID_PREFIX)) return undefined;
  const id = line.subarray(ID_PREFIX.length, ID_HEAD_BYTES).toString('latin1');
  return isMessageId(id) ? id : undefined;
}

/**
 * The whole lines of `data`, which starts at a line boundary at byte `base` of its segment: each without its `\n`,
 * with its offset. Bytes after the last `\n` are not a whole line and are left out.
 */
export function* wholeLines(data: Buffer, base: number): Generator<SegmentLine, void, undefined> {
  let start = 0;
  for (;;) {
    const lineBreak = data.indexOf(NEWLINE, start);
    if (lineBreak === -1) return;
    if (lineBreak > start) yield { bytes: data.subarray(start, lineBreak), offset: base + start };
    start = lineBreak + 1;
  }
}

/**
 * Everything of a blob from byte `offset` to its end (one ranged GET, however much that is); empty when nothing
 * lies past `offset` (Azure answers 416 for a range that starts at the end).
 */
export async function downloadFrom(blob: BlobClient, offset: number): Promise<Buffer> {
  try {
    const response = await blob.download(offset);
    return readStream(response.readableStreamBody);
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 416) return Buffer.alloc(0);
    throw error;
  }
}

/** Downloads `count` bytes from `offset` (one ranged GET). */
export async function downloadRange(blob: BlobClient, offset: number, count: number): Promise<Buffer> {
  if (count <= 0) return Buffer.alloc(0);
  const response = await blob.download(offset, count);
  return readStream(response.readableStreamBody);
}

/** The whole of a download's body (empty when there is none). */
export async function readStream(body: NodeJS.ReadableStream | undefined): Promise<Buffer> {
  if (!body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}
