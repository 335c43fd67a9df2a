/**
 * The append path: whole JSON lines into the conversation's current segment by `appendBlock`, each block
 * conditional on the length this instance has read up to, so a (sender, clientMessageId) already stored is found
 * before it could be stored again; the lines queued meanwhile are sent together as one block (group commit), spaced
 * out while other instances append to the same conversation, and full segments are rolled and sealed
 * (docs/architecture.md, "History in Blob Storage").
 */
import { type ContainerClient, RestError } from '@azure/storage-blob';
import { Fifo } from './fifo.js';
import type { AppendResult, ChatMessage } from './message.js';
import {
  DEFAULT_CONTENDED_BLOCK_INTERVAL_MS,
  DEFAULT_DEDUPE_TAIL_BYTES,
  DEFAULT_DEDUPE_WINDOW_MS,
  DEFAULT_MAX_DEDUPE_IDS,
} from './options.js';
import { type KnownTail, pairKey } from './recent-ids.js';
import { ConversationTails, type Watch } from './tails.js';

export { isAlreadyExists } from './tails.js';

/** Attempts of one append across rollovers and segment creation before it gives up. */
export const MAX_APPEND_ATTEMPTS = 10;
/**
 * Appends of one block refused because other instances appended first, before it gives up: each refusal means
 * someone else's block was stored (progress), and each instance has one block of a conversation in flight.
 */
export const MAX_POSITION_CONFLICTS = 50;
/**
 * How long after it last found another instance's lines ahead of its own (an append refused for them, or the read
 * before a spaced-out block) this instance counts the conversation as contended, and spaces its blocks of it
 * (`contendedBlockIntervalMs`).
 */
export const CONTENTION_WINDOW_MS = 1_000;

/** What a {@link SegmentAppender} needs to know. */
export interface AppenderOptions {
  /** Blocks per segment before writers move to the next one. */
  readonly segmentBlockLimit: number;
  /** Conversations known at most (segment, position, recent clientMessageIds). */
  readonly maxCachedConversations: number;
  /** Lines per block at most when queued appends go out together. */
  readonly maxMessagesPerBlock: number;
  /** Bytes per block at most when queued appends go out together (a single line larger than this goes alone). */
  readonly maxBlockBytes: number;
  /** Lines queued per conversation at most; further appends wait for room. */
  readonly maxQueuedAppends: number;
  /**
   * The spacing in ms of this instance's blocks of a conversation other instances append to too (from one block's
   * start to the next, jittered from three quarters to five quarters); 0 never waits. Its default when absent.
   */
  readonly contendedBlockIntervalMs?: number;
  /** The dedupe window and its bounds (`options.ts`); their defaults when absent. */
  readonly dedupeWindowMs?: number;
  readonly dedupeTailBytes?: number;
  readonly maxDedupeIds?: number;
}

/** One queued line and its caller. */
interface QueuedLine {
  readonly message: ChatMessage;
  readonly line: Buffer;
  readonly resolve: (result: AppendResult) => void;
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

/**
 * Appends messages to the conversations of one container, each (conversation, sender, clientMessageId) once,
 * rolling segments as they fill.
 */
export class SegmentAppender {
  /** The conversations with appends under way (queued or in flight); an entry goes when its queue empties. */
  readonly #queues = new Map<string, ConversationQueue>();
  /** Sends with a clientMessageId under way on this instance, by conversation, sender and clientMessageId. */
  readonly #sending = new Map<string, Promise<AppendResult>>();
  readonly #tails: ConversationTails;
  readonly #options: AppenderOptions;
  readonly #intervalMs: number;

  constructor(container: ContainerClient, options: AppenderOptions) {
    this.#options = options;
    this.#intervalMs = options.contendedBlockIntervalMs ?? DEFAULT_CONTENDED_BLOCK_INTERVAL_MS;
    this.#tails = new ConversationTails(container, {
      dedupeWindowMs: options.dedupeWindowMs ?? DEFAULT_DEDUPE_WINDOW_MS,
      dedupeTailBytes: options.dedupeTailBytes ?? DEFAULT_DEDUPE_TAIL_BYTES,
      maxDedupeIds: options.maxDedupeIds ?? DEFAULT_MAX_DEDUPE_IDS,
      maxCachedConversations: options.maxCachedConversations,
    });
  }

  /**
   * Appends one message as one line, alone in a block when nothing else of its conversation is in flight on this
   * instance, else with the others queued meanwhile. Resolves once its block is appended; rejects with its block's
   * error, as a lone append would (a refusal, 4xx, means none of the block's lines was written). A message whose
   * sender's clientMessageId is stored already (or being stored on this instance) is not stored again: the stored
   * one comes back with `duplicate: true`.
   */
  async append(message: ChatMessage): Promise<AppendResult> {
    if (message.clientMessageId === undefined) return this.#enqueue(message);
    const key = `${message.conversation}\u0000${pairKey(message.from, message.clientMessageId)}`;
    for (;;) {
      const earlier = this.#sending.get(key);
      if (earlier === undefined) break;
      try {
        return { message: (await earlier).message, duplicate: true };
      } catch {
        // That send failed, and may not have stored anything: this one tries (the index finds it if it did).
      }
    }
    const sent = this.#enqueue(message);
    this.#sending.set(key, sent);
    const done = () => {
      if (this.#sending.get(key) === sent) this.#sending.delete(key);
    };
    sent.then(done, done);
    return sent;
  }

  /** Conversations with appends queued or in flight on this instance (the others keep no queue). */
  get conversationsUnderWay(): number {
    return this.#queues.size;
  }

  async #enqueue(message: ChatMessage): Promise<AppendResult> {
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
    const stored = new Promise<AppendResult>((resolve, reject) =>
      queue.lines.push({ message, line, resolve, reject }),
    );
    if (!queue.writing) void this.#drain(message.conversation, queue);
    return stored;
  }

  #queueOf(conversation: string): ConversationQueue {
    let queue = this.#queues.get(conversation);
    if (queue === undefined) {
      queue = { lines: new Fifo(), waiting: new Fifo(), admitted: 0, writing: false };
      this.#queues.set(conversation, queue);
    }
    return queue;
  }

  /**
   * Whether this instance found another instance's lines ahead of its own in the conversation within
   * {@link CONTENTION_WINDOW_MS} (never when `contendedBlockIntervalMs` is 0).
   */
  #contended(conversation: string): boolean {
    if (this.#intervalMs <= 0) return false;
    const tail = this.#tails.index.get(conversation);
    return tail !== undefined && Date.now() - tail.contendedAt < CONTENTION_WINDOW_MS;
  }

  /**
   * Waits until `contendedBlockIntervalMs` after the start of this instance's previous block of the conversation,
   * times a random factor from 0.75 to 1.25 (so that instances that started alike drift apart).
   */
  async #spaceOut(conversation: string): Promise<void> {
    const tail = this.#tails.index.get(conversation);
    if (tail === undefined) return;
    const wait = tail.blockStartedAt + this.#intervalMs * (0.75 + Math.random() / 2) - Date.now();
    if (wait > 0) await sleep(wait);
  }

  /** Writes the queued lines of a conversation, block after block, until none is left. Never rejects. */
  async #drain(conversation: string, queue: ConversationQueue): Promise<void> {
    queue.writing = true;
    while (queue.lines.length > 0) {
      // Others are appending to this conversation: one block per interval, so the lines queued meanwhile go out
      // together, and the position is read just before it rather than learnt from a refusal.
      const contended = this.#contended(conversation);
      if (contended) await this.#spaceOut(conversation);
      const batch = this.#takeBatch(queue, [], 0);
      this.#admit(queue);
      let written: { tail: KnownTail; full: boolean };
      try {
        written = await this.#write(conversation, batch, queue, contended);
      } catch (error) {
        // Lines already answered (found stored) keep their answer: a settled promise ignores this.
        for (const entry of batch) entry.reject(error);
        continue;
      }
      if (written.full) {
        // This block filled the segment: move on now, so the next block goes to the new one. A failure here
        // changes nothing stored; the next append is refused by the count or the seal and rolls again.
        await this.#tails.roll(conversation, written.tail).catch(() => undefined);
      }
    }
    queue.writing = false;
    // Callers admitted from `waiting` still to queue keep the entry (the first of them starts the next drain).
    if (queue.admitted === 0 && queue.waiting.length === 0) this.#queues.delete(conversation);
  }

  /**
   * Adds the oldest queued lines to a block of `bytes` bytes so far, within `maxMessagesPerBlock` and
   * `maxBlockBytes` (an empty block takes its first line whatever its size); returns the block.
   */
  #takeBatch(queue: ConversationQueue, batch: QueuedLine[], bytes: number): QueuedLine[] {
    for (;;) {
      const next = queue.lines.peek();
      if (next === undefined || batch.length >= this.#options.maxMessagesPerBlock) break;
      if (batch.length > 0 && bytes + next.line.length > this.#options.maxBlockBytes) break;
      batch.push(queue.lines.shift() as QueuedLine);
      bytes += next.line.length;
    }
    return batch;
  }

  /** Room freed in the queue: lets waiting callers queue for the next block, in the order they came. */
  #admit(queue: ConversationQueue): void {
    while (queue.waiting.length > 0 && queue.lines.length + queue.admitted < this.#options.maxQueuedAppends) {
      queue.admitted++;
      (queue.waiting.shift() as () => void)();
    }
  }

  /**
   * Appends one block of whole lines at the position this instance has read the conversation's current segment
   * up to; under contention (`refresh`) it reads what others appended since first. Refused because someone
   * appended meanwhile: reads the new lines, answers the lines already stored
   * (its own, when an earlier try landed and its answer was lost; a clientMessageId stored by another send) and
   * tries again with the rest. Moves on past sealed or full segments and creates a missing one.
   */
  async #write(
    conversation: string,
    batch: QueuedLine[],
    queue: ConversationQueue,
    refresh: boolean,
  ): Promise<{ tail: KnownTail; full: boolean }> {
    const watch: Watch = { ids: new Set<string>(batch.map((entry) => entry.message.id)), found: new Map() };
    let tail = await this.#tails.known(conversation, watch);
    tail.blockStartedAt = Date.now();
    // Others append here too: their lines are most likely ahead of the known position, so one ranged read now
    // rather than a refused append and the same read after it. Only a saving: the append stays conditional,
    // so a failed read changes nothing but that.
    if (refresh && (await this.#tails.catchUp(conversation, tail, watch).catch(() => false)))
      tail.contendedAt = Date.now();
    let open = batch;
    let rolls = 0;
    let conflicts = 0;
    for (;;) {
      open = await this.#settleStored(conversation, tail, open, watch);
      if (open.length === 0) return { tail, full: false };
      const body = open.length === 1 ? (open[0] as QueuedLine).line : Buffer.concat(open.map((e) => e.line));
      try {
        const response = await this.#tails
          .client(conversation, tail.segment)
          .appendBlock(body, body.length, { conditions: { appendPosition: tail.position } });
        let offset = tail.position;
        for (const { message, line } of open) {
          this.#tails.index.add(tail, message, {
            id: message.id,
            segment: tail.segment,
            offset,
            length: line.length - 1,
          });
          offset += line.length;
        }
        tail.position = offset;
        for (const entry of open) entry.resolve({ message: entry.message, duplicate: false });
        const full = (response.blobCommittedBlockCount ?? 0) >= this.#options.segmentBlockLimit;
        return { tail, full };
      } catch (error) {
        const code = errorCode(error);
        if (code === 'AppendPositionConditionNotMet') {
          if (++conflicts > MAX_POSITION_CONFLICTS)
            throw tooManyTries(conversation, conflicts, 'others kept appending');
          // Nothing new where the service says the blob has grown: what this instance knew is wrong (the segment
          // was deleted and made again): read the conversation afresh.
          if (!(await this.#tails.catchUp(conversation, tail, watch))) {
            tail = await this.#tails.load(conversation, watch);
          }
          // Someone else's block landed first: this instance spaces its next blocks out for a while (#drain),
          // but not this retry, which goes at once with what was just read.
          tail.contendedAt = Date.now();
          // The lines queued meanwhile go with the retry: one bigger block rather than a chase with the same one.
          const start = open.length;
          this.#takeBatch(
            queue,
            open,
            open.reduce((sum, entry) => sum + entry.line.length, 0),
          );
          for (const entry of open.slice(start)) {
            batch.push(entry);
            watch.ids.add(entry.message.id);
          }
          this.#admit(queue);
        } else if (code === 'BlobNotFound') {
          if (++rolls > MAX_APPEND_ATTEMPTS)
            throw tooManyTries(conversation, rolls, 'segments kept vanishing');
          if (tail.position > 0) tail = await this.#tails.load(conversation, watch);
          else await this.#tails.createSegment(conversation, tail.segment);
        } else if (code === 'BlockCountExceedsLimit' || code === 'BlobIsSealed') {
          if (++rolls > MAX_APPEND_ATTEMPTS)
            throw tooManyTries(conversation, rolls, 'segments kept filling or sealed');
          tail = await this.#tails.roll(conversation, tail, watch);
        } else {
          throw error;
        }
      }
    }
  }

  /**
   * Answers the lines of a block that are stored already, by what the index and the reads since the block was
   * taken say; returns the others, in order.
   */
  async #settleStored(
    conversation: string,
    tail: KnownTail,
    open: QueuedLine[],
    watch: Watch,
  ): Promise<QueuedLine[]> {
    const left: QueuedLine[] = [];
    for (const entry of open) {
      const { message } = entry;
      // Its own line, written by an earlier try whose answer was lost.
      const landed = watch.found.get(message.id);
      if (landed !== undefined) {
        entry.resolve({ message: landed, duplicate: false });
        continue;
      }
      const stored =
        message.clientMessageId === undefined
          ? undefined
          : this.#tails.index.find(tail, message.from, message.clientMessageId);
      if (stored === undefined) {
        left.push(entry);
      } else if (stored.id === message.id) {
        entry.resolve({ message, duplicate: false });
      } else {
        const original = watch.found.get(stored.id) ?? (await this.#tails.readLine(conversation, stored));
        entry.resolve({ message: original, duplicate: true });
      }
    }
    return left;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function tooManyTries(conversation: string, tries: number, why: string): Error {
  return new Error(`Could not append to conversation ${conversation} after ${tries} attempts (${why})`);
}

function errorCode(error: unknown): string | undefined {
  if (!(error instanceof RestError)) return undefined;
  return error.code ?? (error.details as { errorCode?: string } | undefined)?.errorCode;
}
