/**
 * The reading side of exactly-once appends: what an instance learns of a conversation's tail before and between
 * its conditional appends. A conversation it does not know yet is read once, back over the dedupe window; after
 * an append refused because someone else appended (`AppendPositionConditionNotMet`), only the new bytes are read;
 * a full or sealed segment is read to its end before the next one is used, so the index runs on across the
 * boundary (docs/architecture.md, "History in Blob Storage").
 */
import { type AppendBlobClient, type ContainerClient, RestError } from '@azure/storage-blob';
import { decodeTime } from 'ulid';
import { setBounded } from '../bounded-map.js';
import { FIRST_SEGMENT } from './layout.js';
import type { ChatMessage } from './message.js';
import { type KnownTail, RecentClientIds, type RecentIdsOptions, type StoredLine } from './recent-ids.js';
import { downloadFrom, downloadRange, idOfLine, wholeLines } from './segment-reader.js';
import { listSegments, parseLine, segmentClient } from './segments.js';

/** What {@link ConversationTails} needs to know. */
export interface TailOptions extends RecentIdsOptions {
  /** Bytes read back at most when a conversation is not known yet (the dedupe window's bound in bytes). */
  readonly dedupeTailBytes: number;
}

/** The lines of a block being written, looked out for while reading (its own lines, should they have landed). */
export interface Watch {
  readonly ids: Set<string>;
  readonly found: Map<string, ChatMessage>;
}

/** Reads the conversations of one container into their known tails. */
export class ConversationTails {
  readonly index: RecentClientIds;
  /** The blob client of the segment last used, per conversation: built once, not per message. */
  readonly #clients = new Map<string, { segment: number; blob: AppendBlobClient }>();
  readonly #container: ContainerClient;
  readonly #options: TailOptions;

  constructor(container: ContainerClient, options: TailOptions) {
    this.#container = container;
    this.#options = options;
    this.index = new RecentClientIds(options);
  }

  /** The known tail of a conversation, read first when this instance does not know it (or forgot it). */
  async known(conversation: string, watch?: Watch): Promise<KnownTail> {
    return this.index.get(conversation) ?? (await this.load(conversation, watch));
  }

  /**
   * Reads a conversation afresh: lists its segments, seals any older segment not sealed yet (a roll that died
   * between creating the next segment and sealing the full one), so nothing can be appended behind what is read,
   * then reads back from the newest segment's end over the window: at most `dedupeTailBytes`, and no further back
   * than the segment holding the first line older than `dedupeWindowMs`.
   */
  async load(conversation: string, watch?: Watch): Promise<KnownTail> {
    const segments = await listSegments(this.#container, conversation);
    const newest = segments.at(-1);
    if (newest === undefined) return this.index.start(conversation, FIRST_SEGMENT, 0);
    await Promise.all(
      segments.slice(0, -1).flatMap((s) => (s.sealed ? [] : [this.#seal(conversation, s.segment)])),
    );
    const cutoff = Date.now() - this.#options.dedupeWindowMs;
    const reads: { segment: number; start: number; data: Buffer }[] = [];
    let budget = this.#options.dedupeTailBytes;
    let position = 0;
    for (let index = segments.length - 1; index >= 0; index--) {
      const { segment, size } = segments[index] as (typeof segments)[number];
      // The newest segment may have grown since the listing, and an older one just sealed too: read to the end.
      const start = Math.max(0, size - budget);
      const data =
        size === 0 && index === segments.length - 1
          ? Buffer.alloc(0)
          : await this.#from(conversation, segment, start);
      // Read from inside a line: the bytes up to its end are not a whole line (no line break: none is).
      const first = start === 0 ? 0 : data.indexOf(0x0a) + 1;
      const end = data.lastIndexOf(0x0a) + 1;
      if (index === segments.length - 1) position = start + end;
      reads.push({ segment, start: start + first, data: data.subarray(first, Math.max(first, end)) });
      budget -= data.length;
      if (start > 0 || budget <= 0) break;
      const oldest = wholeLines((reads.at(-1) as (typeof reads)[number]).data, 0).next();
      if (!oldest.done && timeOf(oldest.value.bytes) < cutoff) break;
    }
    const tail = this.index.start(conversation, newest.segment, position);
    for (const { segment, start, data } of reads.reverse())
      this.#record(conversation, tail, segment, start, data, watch);
    return tail;
  }

  /**
   * Reads what was appended to the tail's segment since its position, into the index. False when nothing was
   * there (what this instance knew is wrong: the caller starts afresh).
   */
  async catchUp(conversation: string, tail: KnownTail, watch?: Watch): Promise<boolean> {
    const data = await this.#from(conversation, tail.segment, tail.position);
    const end = data.lastIndexOf(0x0a) + 1;
    if (end === 0) return false;
    this.#record(conversation, tail, tail.segment, tail.position, data.subarray(0, end), watch);
    tail.position += end;
    return true;
  }

  /**
   * Moves past a full or sealed segment: creates the next one (`If-None-Match: *`), seals the full one, reads the
   * lines appended to it since the tail's position (final now), and goes on at the start of the next one. When
   * other writers have rolled further, the conversation is read afresh from its newest segment.
   */
  async roll(conversation: string, tail: KnownTail, watch?: Watch): Promise<KnownTail> {
    const full = tail.segment;
    const latest = (await listSegments(this.#container, conversation)).at(-1)?.segment ?? FIRST_SEGMENT;
    const next = Math.max(full + 1, latest);
    await this.createSegment(conversation, next);
    await this.#seal(conversation, full);
    if (next > full + 1 || tail.forgotten) return this.load(conversation, watch);
    await this.catchUp(conversation, tail, watch);
    tail.segment = next;
    tail.position = 0;
    return tail;
  }

  /** Creates a segment unless it exists. `If-None-Match: *` — a plain create would truncate a segment in use. */
  async createSegment(conversation: string, segment: number): Promise<void> {
    try {
      await segmentClient(this.#container, conversation, segment).create({
        conditions: { ifNoneMatch: '*' },
        blobHTTPHeaders: { blobContentType: 'application/x-ndjson; charset=utf-8' },
      });
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
    }
  }

  /** The message stored at a line the index holds (one ranged download). */
  async readLine(conversation: string, line: StoredLine): Promise<ChatMessage> {
    const blob = segmentClient(this.#container, conversation, line.segment);
    return parseLine(
      await downloadRange(blob, line.offset, line.length),
      conversation,
      line.segment,
      line.offset,
    );
  }

  /** The append blob client of a segment, reused while the conversation stays on that segment. */
  client(conversation: string, segment: number): AppendBlobClient {
    const cached = this.#clients.get(conversation);
    if (cached?.segment === segment) return cached.blob;
    const blob = segmentClient(this.#container, conversation, segment);
    setBounded(this.#clients, conversation, { segment, blob }, this.#options.maxCachedConversations);
    return blob;
  }

  /** Adds the whole lines of `data` (bytes of `segment` from `start`) to the index, and notes watched ones. */
  #record(
    conversation: string,
    tail: KnownTail,
    segment: number,
    start: number,
    data: Buffer,
    watch?: Watch,
  ): void {
    for (const line of wholeLines(data, start)) {
      const message = parseLine(line.bytes, conversation, segment, line.offset);
      this.index.add(tail, message, {
        id: message.id,
        segment,
        offset: line.offset,
        length: line.bytes.length,
      });
      if (watch?.ids.has(message.id)) watch.found.set(message.id, message);
    }
  }

  #from(conversation: string, segment: number, offset: number): Promise<Buffer> {
    return downloadFrom(this.client(conversation, segment), offset);
  }

  /** Seals a segment: nothing more can be appended to it. Sealed already, or gone: the same. */
  async #seal(conversation: string, segment: number): Promise<void> {
    try {
      await segmentClient(this.#container, conversation, segment).seal();
    } catch (error) {
      if (!(error instanceof RestError && (error.statusCode === 409 || error.statusCode === 404)))
        throw error;
    }
  }
}

/** A create with `If-None-Match: *` on an existing blob: 409 BlobAlreadyExists (Azure) or 412 (some emulators). */
export function isAlreadyExists(error: unknown): boolean {
  return error instanceof RestError && (error.statusCode === 409 || error.statusCode === 412);
}

/** The id time of a stored line (from its `{"id":"…"` head); 0 when it has none, so it counts as old. */
function timeOf(line: Buffer): number {
  const id = idOfLine(line);
  return id === undefined ? 0 : decodeTime(id);
}
