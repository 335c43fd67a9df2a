/**
 * Reads a segment's JSON lines backwards with ranged downloads, so reading the newest messages costs the size
 * of what is read, never the size of the blob.
 */
import type { BlobClient } from '@azure/storage-blob';

/** One line of a segment (without its `\n`) and the byte offset where it starts. */
export interface SegmentLine {
  readonly bytes: Buffer;
  readonly offset: number;
}

const NEWLINE = 0x0a;

/**
 * Yields the lines that end at or before byte `end` of the blob, newest first, downloading `chunkBytes` at a time
 * from the end towards the start. A line longer than a chunk is carried over and completed by the next download.
 * Every append is one whole line ending in `\n` (appends are atomic), so `end` at a line boundary stays one.
 */
export async function* linesBackward(
  blob: BlobClient,
  end: number,
  chunkBytes: number,
): AsyncGenerator<SegmentLine, void, undefined> {
  // Bytes from the start of the previous download up to the first line break in it: the tail of a line whose
  // beginning lies further back.
  let carry: Buffer = Buffer.alloc(0);
  let position = end;
  while (position > 0) {
    const start = Math.max(0, position - chunkBytes);
    const data = Buffer.concat([await downloadRange(blob, start, position - start), carry]);
    // `lineEnd` is the index (in `data`) just past the last byte of the current line, i.e. of its `\n`.
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

/** Downloads `count` bytes from `offset` (one ranged GET). */
export async function downloadRange(blob: BlobClient, offset: number, count: number): Promise<Buffer> {
  if (count <= 0) return Buffer.alloc(0);
  const response = await blob.download(offset, count);
  const body = response.readableStreamBody;
  if (!body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}
