/**
 * Finds where a message is stored (`before` paging, crash recovery) without reading the conversation: the
 * segment by a binary search on the id time of each segment's first line, then the line by a bisection on byte
 * offsets guided by ids, falling back on id times (docs/architecture.md, "History in Blob Storage").
 */
import type { BlobClient, ContainerClient } from '@azure/storage-blob';
import { decodeTime } from 'ulid';
import { setBounded } from '../bounded-map.js';
import { segmentBlobName } from './layout.js';
import {
  downloadRange,
  ID_HEAD_BYTES,
  idOfLine,
  idOfNextLine,
  linesBackward,
  linesForward,
} from './segment-reader.js';
import { endOf, type LinePosition, messagesBackward, type SegmentInfo, segmentClient } from './segments.js';

/** Bytes read per bisection probe: enough to reach the next line start and its id in most cases. */
export const PROBE_BYTES = 2048;

/** What a {@link MessageLocator} needs to know. */
export interface LocatorOptions {
  /** The reorder window `W` in ms. */
  readonly reorderWindowMs: number;
  /** Bytes per ranged download of the forward and fallback scans. */
  readonly readChunkBytes: number;
  /** Segment head times remembered (oldest forgotten first). */
  readonly maxCachedHeads: number;
}

/** Finds messages in the conversations of one container; remembers the head time of the segments it has seen. */
export class MessageLocator {
  /** The id time of each segment's first line, by blob name. */
  readonly #heads = new Map<string, number>();

  readonly #container: ContainerClient;
  readonly #options: LocatorOptions;

  constructor(container: ContainerClient, options: LocatorOptions) {
    this.#container = container;
    this.#options = options;
  }

  /**
   * Where the message `id` is stored among a conversation's listed `segments`, or `undefined` if nowhere. With
   * `exhaustive: false` the search stays within the reorder window and never falls back to the full scan (a
   * message that may not have been appended yet, looked up while its send is in flight).
   */
  async locate(
    conversation: string,
    segments: readonly SegmentInfo[],
    id: string,
    { exhaustive = true }: { exhaustive?: boolean } = {},
  ): Promise<LinePosition | undefined> {
    const { reorderWindowMs, readChunkBytes } = this.#options;
    const time = decodeTime(id);
    // The newest segment whose first message is not later than the window after `id`: `id` cannot be in a newer one.
    let low = 0;
    let high = segments.length - 1;
    let newest = -1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const head = await this.#headTime(conversation, segments[middle] as SegmentInfo);
      if (head === undefined || head <= time + reorderWindowMs) {
        newest = middle;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    for (let index = newest; index >= 0; index--) {
      const { segment, size } = segments[index] as SegmentInfo;
      const blob = segmentClient(this.#container, conversation, segment);
      const offset = await findLine(blob, size, id, reorderWindowMs, readChunkBytes);
      if (offset !== undefined) return { index, offset };
      // A segment that began well before `id` was written holds it if any does; older ones were sealed by then.
      const head = await this.#headTime(conversation, segments[index] as SegmentInfo);
      if (head !== undefined && head < time - reorderWindowMs) break;
    }
    // Outside the window's assumptions (a clock far off, an append stalled for minutes): look everywhere — but
    // not for an id from the future or from before the conversation began, which cannot be in it.
    if (!exhaustive) return undefined;
    if (time > Date.now() + reorderWindowMs) return undefined;
    const first = segments[0];
    const firstHead = first === undefined ? undefined : await this.#headTime(conversation, first);
    if (firstHead !== undefined && time < firstHead - reorderWindowMs) return undefined;
    const end = endOf(segments);
    if (end === undefined) return undefined;
    const all = messagesBackward(this.#container, conversation, segments, end, readChunkBytes);
    for await (const { message, position } of all) {
      if (message.id === id) return position;
    }
    return undefined;
  }

  /** The id time of a segment's first message (cached: the first line of a segment never changes). */
  async #headTime(conversation: string, info: SegmentInfo): Promise<number | undefined> {
    const name = segmentBlobName(conversation, info.segment);
    const cached = this.#heads.get(name);
    if (cached !== undefined) return cached;
    if (info.size === 0) return undefined;
    const blob = segmentClient(this.#container, conversation, info.segment);
    const id = idOfLine(await downloadRange(blob, 0, ID_HEAD_BYTES));
    if (id === undefined) return undefined;
    const time = decodeTime(id);
    setBounded(this.#heads, name, time, this.#options.maxCachedHeads);
    return time;
  }
}

/**
 * The byte offset of the line with id `target` in a segment of `size` bytes, or `undefined` if it is not there.
 *
 * Lines are stored nearly in id order (an instance assigns ids in the order it appends; instances interleave only
 * within the reorder window), so a bisection on ids finds most lines with a few small probes and one chunk. When
 * it misses (the line was stored out of id order, or is not there), the search falls back on what the window
 * guarantees: a line whose id time is more than `windowMs` after the target's was stored after it, one more than
 * `windowMs` before it was stored before it. The fallback finds the end of that stretch by a bisection on id times
 * (within what the first bisection's probes already ruled out) and reads backwards from it to the line, so what it
 * reads is what was written after the line within the window, once, and never what was written before it: a page
 * of an older part of a busy conversation costs its own page, not everything written since.
 */
export async function findLine(
  blob: BlobClient,
  size: number,
  target: string,
  windowMs: number,
  chunkBytes: number,
): Promise<number | undefined> {
  const time = decodeTime(target);
  const window = { earliest: time - windowMs, latest: time + windowMs };
  const near = await findInOrder(blob, size, target, window, chunkBytes);
  if (typeof near === 'number') return near;
  const end = await windowEnd(blob, near, window.latest, chunkBytes);
  for await (const line of linesBackward(blob, end, chunkBytes)) {
    const id = idOfLine(line.bytes);
    if (id === target) return line.offset;
    if (line.offset <= near.after) return undefined;
    if (id !== undefined && decodeTime(id) < window.earliest) return undefined;
  }
  return undefined;
}

/** Where a line is not: it starts after byte `after` and before byte `before` (both line starts, or 0 and the size). */
interface Bounds {
  readonly after: number;
  readonly before: number;
}

/**
 * The offset of `target` found by a bisection on ids, as if the segment were in id order (a probe per halving
 * and about one chunk); when it is not where that order puts it, the bounds the probes' id times set on where it
 * can be: a probe older than the window's `earliest` was stored before it, one newer than its `latest` after it.
 */
async function findInOrder(
  blob: BlobClient,
  size: number,
  target: string,
  window: { readonly earliest: number; readonly latest: number },
  chunkBytes: number,
): Promise<number | Bounds> {
  let after = -1;
  let before = size;
  // If lines are in id order, `target` starts in [low, high].
  let low = 0;
  let high = size;
  while (high - low > chunkBytes) {
    const middle = low + Math.floor((high - low) / 2);
    const probe = await idOfNextLine(blob, middle, high, PROBE_BYTES);
    if (probe?.id === target) return probe.offset;
    if (probe !== undefined) {
      const time = decodeTime(probe.id);
      if (time < window.earliest) after = Math.max(after, probe.offset);
      if (time > window.latest) before = Math.min(before, probe.offset);
    }
    if (probe === undefined || probe.id > target) {
      high = middle;
    } else {
      low = probe.offset;
    }
  }
  for await (const line of linesForward(blob, low, size, chunkBytes)) {
    if (line.offset > high) break;
    if (idOfLine(line.bytes) === target) return line.offset;
  }
  return { after, before };
}

/**
 * A line boundary no line stored before one of id time `latest` or earlier lies past, at most `bounds.before`: the
 * start of a line whose id time is later than `latest` (found by a bisection on id times), or `bounds.before`.
 */
async function windowEnd(
  blob: BlobClient,
  bounds: Bounds,
  latest: number,
  chunkBytes: number,
): Promise<number> {
  let low = Math.max(0, bounds.after);
  let high = bounds.before;
  let end = bounds.before;
  while (high - low > chunkBytes) {
    const middle = low + Math.floor((high - low) / 2);
    const probe = await idOfNextLine(blob, middle, high, PROBE_BYTES);
    if (probe === undefined) {
      high = middle;
    } else if (decodeTime(probe.id) > latest) {
      end = probe.offset;
      high = middle;
    } else {
      low = probe.offset;
    }
  }
  return end;
}
