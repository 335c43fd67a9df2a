/**
 * The append path: whole JSON lines into the conversation's current segment by `appendBlock`, the lines queued
 * meanwhile sent together as one block (group commit), and full segments rolled and sealed
 * (docs/architecture.md, "History in Blob Storage").
 */
import { type AppendBlobClient, type ContainerClient, RestError } from '@azure/storage-blob';
import { setBounded } from '../bounded-map.js';
import { FIRST_SEGMENT } from './layout.js';
import type { ChatMessage } from './message.js';
import { listSegments, segmentClient } from './segments.js';

/** Attempts of one append across rollovers and segment creation before it gives up. */
export const MAX_APPEND_ATTEMPTS = 10;

/** What a {@link SegmentAppender} needs to know. */
export interface AppenderOptions {
  /** Blocks per segment before writers move to the next one. */
  readonly segmentBlockLimit: number;
  /** Conversations whose current segment number is remembered. */
  readonly maxCachedConversations: number;
  /** Lines per block at most when queued appends go out together. */
  readonly maxMessagesPerBlock: number;
  /** Bytes per block at most when queued appends go out together (a single line larger than this goes alone). */
  readonly maxBlockBytes: number;
  /** Lines queued per conversation at most; further appends wait for room. */
  readonly maxQueuedAppends: number;
}

/** One queued line and its caller. */
interface QueuedLine {
  readonly line: Buffer;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** The appends of one conversation under way on this instance. */
interface ConversationQueue {
  /** Lines waiting for the next block, in the order they were appended. */
  readonly lines: Fifo<QueuedLine>;
  /** Callers waiting for room in `lines` (it holds `maxQueuedAppends`), in the order they came. */
  readonly waiting: Fifo<() => void>;
  /** Callers let in from `waiting` that have not queued their line yet (room is kept for them). */
  admitted: number;
  /** Whether a block of this conversation is being written: then new lines queue for the next one. */
  writing: boolean;
}

/** Appends messages to the conversations of one container, rolling segments as they fill. */
export class SegmentAppender {
  /** The segment this instance appends to, per conversation. A hint only: the service's answers correct it. */
  readonly #current = new Map<string, number>();
  /** The blob client of the segment last appended to, per conversation: built once, not per message. */
  readonly #clients = new Map<string, { segment: number; blob: AppendBlobClient }>();
  /** The conversations with appends under way (queued or in flight); an entry goes when its queue empties. */
  readonly #queues = new Map<string, ConversationQueue>();

  readonly #container: ContainerClient;
  readonly #options: AppenderOptions;

  constructor(container: ContainerClient, options: AppenderOptions) {
    this.#container = container;
    this.#options = options;
  }

  /**
   * Appends one message as one line, alone in a block when nothing else of its conversation is in flight on this
   * instance, else with the others queued meanwhile. Resolves once its block is appended; rejects with its block's
   * error, as a lone append would (a refusal, 4xx, means none of the block's lines was written).
   */
  async append(message: ChatMessage): Promise<void> {
    const queue = this.#queueOf(message.conversation);
    // Behind callers already waiting or let in (they came first), or when the queue is full: wait for room.
    if (
      queue.waiting.length > 0 ||
      queue.admitted > 0 ||
      queue.lines.length >= this.#options.maxQueuedAppends
    ) {
      await new Promise<void>((resolve) => queue.waiting.push(resolve));
      queue.admitted--;
    }
    const line = Buffer.from(`${JSON.stringify(message)}\n`, 'utf8');
    const stored = new Promise<void>((resolve, reject) => queue.lines.push({ line, resolve, reject }));
    if (!queue.writing) void this.#drain(message.conversation, queue);
    return stored;
  }

  /** Conversations with appends queued or in flight on this instance (the others keep no queue). */
  get conversationsUnderWay(): number {
    return this.#queues.size;
  }

  #queueOf(conversation: string): ConversationQueue {
    let queue = this.#queues.get(conversation);
    if (queue === undefined) {
      queue = { lines: new Fifo(), waiting: new Fifo(), admitted: 0, writing: false };
      this.#queues.set(conversation, queue);
    }
    return queue;
  }

  /** Writes the queued lines of a conversation, block after block, until none is left. Never rejects. */
  async #drain(conversation: string, queue: ConversationQueue): Promise<void> {
    queue.writing = true;
    while (queue.lines.length > 0) {
      const batch = this.#takeBatch(queue);
      // Room freed: let waiting callers queue for the next block while this one is written.
      while (
        queue.waiting.length > 0 &&
        queue.lines.length + queue.admitted < this.#options.maxQueuedAppends
      ) {
        queue.admitted++;
        (queue.waiting.shift() as () => void)();
      }
      let written: { segment: number; full: boolean };
      try {
        const body =
          batch.length === 1 ? (batch[0] as QueuedLine).line : Buffer.concat(batch.map((e) => e.line));
        written = await this.#write(conversation, body);
      } catch (error) {
        for (const entry of batch) entry.reject(error);
        continue;
      }
      for (const entry of batch) entry.resolve();
      if (written.full) {
        // This block filled the segment: move on now, so the next block goes to the new one. A failure here
        // changes nothing stored; the next append sees the count at the limit and rolls again.
        await this.#roll(conversation, written.segment).catch(() => undefined);
      }
    }
    queue.writing = false;
    // Callers admitted from `waiting` still to queue keep the entry (the first of them starts the next drain).
    if (queue.admitted === 0 && queue.waiting.length === 0) this.#queues.delete(conversation);
  }

  /** The next block's lines: the oldest queued ones, within `maxMessagesPerBlock` and `maxBlockBytes`. */
  #takeBatch(queue: ConversationQueue): QueuedLine[] {
    const first = queue.lines.shift() as QueuedLine;
    const batch = [first];
    let bytes = first.line.length;
    for (;;) {
      const next = queue.lines.peek();
      if (next === undefined || batch.length >= this.#options.maxMessagesPerBlock) break;
      if (bytes + next.line.length > this.#options.maxBlockBytes) break;
      batch.push(queue.lines.shift() as QueuedLine);
      bytes += next.line.length;
    }
    return batch;
  }

  /**
   * Appends one block of whole lines to the conversation's current segment, moving on past sealed or full
   * segments and creating a missing one; says where it went and whether that segment is now full.
   */
  async #write(conversation: string, body: Buffer): Promise<{ segment: number; full: boolean }> {
    let segment = this.#current.get(conversation) ?? (await this.#discoverSegment(conversation));
    for (let attempt = 1; attempt <= MAX_APPEND_ATTEMPTS; attempt++) {
      const blob = this.#client(conversation, segment);
      try {
        const response = await blob.appendBlock(body, body.length);
        this.#rememberSegment(conversation, segment);
        return {
          segment,
          full: (response.blobCommittedBlockCount ?? 0) >= this.#options.segmentBlockLimit,
        };
      } catch (error) {
        const code = errorCode(error);
        if (code === 'BlobNotFound') {
          await this.#createSegment(conversation, segment);
        } else if (code === 'BlockCountExceedsLimit' || code === 'BlobIsSealed') {
          segment = await this.#roll(conversation, segment);
        } else {
          throw error;
        }
      }
    }
    throw new Error(
      `Could not append to conversation ${conversation} after ${MAX_APPEND_ATTEMPTS} attempts (segments kept filling or vanishing)`,
    );
  }

  /** The append blob client of a segment, reused while the conversation stays on that segment. */
  #client(conversation: string, segment: number): AppendBlobClient {
    const cached = this.#clients.get(conversation);
    if (cached?.segment === segment) return cached.blob;
    const blob = segmentClient(this.#container, conversation, segment);
    setBounded(this.#clients, conversation, { segment, blob }, this.#options.maxCachedConversations);
    return blob;
  }

  /**
   * Moves past a full segment: to the next one, or further if other writers already rolled past it. Creates the
   * next segment first and then seals the full one, so a writer refused by the seal always finds a successor.
   */
  async #roll(conversation: string, full: number): Promise<number> {
    const latest = await this.#discoverSegment(conversation);
    const next = Math.max(full + 1, latest);
    await this.#createSegment(conversation, next);
    this.#rememberSegment(conversation, next);
    try {
      await segmentClient(this.#container, conversation, full).seal();
    } catch (error) {
      // Sealed already, or gone: either way nothing more can be appended to it.
      if (!(error instanceof RestError && (error.statusCode === 409 || error.statusCode === 404)))
        throw error;
    }
    return next;
  }

  /** Creates a segment unless it exists. `If-None-Match: *` — a plain create would truncate a segment in use. */
  async #createSegment(conversation: string, segment: number): Promise<void> {
    try {
      await segmentClient(this.#container, conversation, segment).create({
        conditions: { ifNoneMatch: '*' },
        blobHTTPHeaders: { blobContentType: 'application/x-ndjson; charset=utf-8' },
      });
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
    }
  }

  /** The newest segment number of a conversation, from a listing ({@link FIRST_SEGMENT} when there is none yet). */
  async #discoverSegment(conversation: string): Promise<number> {
    const segments = await listSegments(this.#container, conversation);
    const newest = segments.at(-1)?.segment ?? FIRST_SEGMENT;
    this.#rememberSegment(conversation, newest);
    return newest;
  }

  #rememberSegment(conversation: string, segment: number): void {
    const known = this.#current.get(conversation) ?? segment;
    setBounded(this.#current, conversation, Math.max(segment, known), this.#options.maxCachedConversations);
  }
}

/** A create with `If-None-Match: *` on an existing blob: 409 BlobAlreadyExists (Azure) or 412 (some emulators). */
export function isAlreadyExists(error: unknown): boolean {
  return error instanceof RestError && (error.statusCode === 409 || error.statusCode === 412);
}

function errorCode(error: unknown): string | undefined {
  if (!(error instanceof RestError)) return undefined;
  return error.code ?? (error.details as { errorCode?: string } | undefined)?.errorCode;
}

/** A first-in first-out queue whose `shift` is O(1) amortised (an array's `shift` moves every element). */
class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  peek(): T | undefined {
    return this.#items[this.#head];
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      // Drop the consumed half: each element is moved at most once per halving, so O(1) amortised.
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
}
