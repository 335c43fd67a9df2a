/**
 * Finds a message's line inside one segment without reading the segment: a bisection on byte offsets guided by
 * the time in the ids, then a short forward scan.
 *
 * Ids are ULIDs made just before their append, so a line's id time and the moment it was appended differ by less
 * than the reorder window `W` (clock skew between instances plus append latency). Hence, for the target `X`:
 * a line whose id time is before `time(X) − W` was appended before `X` (it lies before `X`), and a line whose id
 * time is after `time(X) + W` was appended after `X`. The bisection only ever moves its lower bound to lines of the
 * first kind, so `X` is never skipped; the forward scan stops at a line of the second kind. The cost is
 * O(log(segment size)) small ranged reads plus the lines written within `W` of `X`.
 */
import type { BlobClient } from '@azure/storage-blob';
import { decodeTime } from 'ulid';
import { idOfLine, idOfNextLine, linesForward } from './segment-reader.js';

/** Bytes read per bisection probe: enough to reach the next line start and its id in most cases. */
export const PROBE_BYTES = 2048;

/** The byte offset of the line with id `target` in a segment of `size` bytes, or `undefined` if it is not there. */
export async function findLine(
  blob: BlobClient,
  size: number,
  target: string,
  windowMs: number,
  chunkBytes: number,
): Promise<number | undefined> {
  const time = decodeTime(target);
  let low = 0;
  let high = size;
  while (high - low > chunkBytes) {
    const middle = low + Math.floor((high - low) / 2);
    const probe = await idOfNextLine(blob, middle, high, PROBE_BYTES);
    if (probe === undefined) {
      high = middle;
    } else if (probe.id === target) {
      return probe.offset;
    } else if (decodeTime(probe.id) < time - windowMs) {
      low = probe.offset;
    } else {
      high = middle;
    }
  }
  for await (const line of linesForward(blob, low, size, chunkBytes)) {
    const id = idOfLine(line.bytes);
    if (id === target) return line.offset;
    if (id !== undefined && decodeTime(id) > time + windowMs) return undefined;
  }
  return undefined;
}
