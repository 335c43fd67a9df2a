/**
 * What one instance knows of each conversation it appends to: the segment and the byte position up to which it
 * has read that segment, and the (sender, clientMessageId) pairs stored in the conversation's recent lines up to
 * there. Every append is conditional on that position, so the index is never trusted past what was read
 * (docs/architecture.md, "History in Blob Storage").
 */
import { decodeTime } from 'ulid';
import { Fifo } from './fifo.js';
import type { ChatMessage } from './message.js';

/** Where a stored line is: enough to read it back with one ranged download. */
export interface StoredLine {
  readonly id: string;
  readonly segment: number;
  readonly offset: number;
  /** Bytes of the line without its `\n`. */
  readonly length: number;
}

/** One conversation as this instance knows it. */
export interface KnownTail {
  /** The segment this instance appends to. */
  segment: number;
  /** Bytes of `segment` read (or written) by this instance: its next append is conditional on this length. */
  position: number;
  /** The lines with a clientMessageId within the window, by sender and clientMessageId. */
  readonly ids: Map<string, StoredLine>;
  /** The same lines in storage order, oldest first, with their id time: what the window drops first. */
  readonly order: Fifo<{ readonly key: string; readonly time: number; readonly line: StoredLine }>;
  /**
   * When this instance last found another writer's lines ahead of its own: an append refused for them, or the
   * read before a spaced-out block (ms since the epoch; 0: never).
   */
  contendedAt: number;
  /** When this instance last started a block of the conversation (ms since the epoch; 0: never). */
  blockStartedAt: number;
  /** Forgotten to keep within the index's bounds (a write under way may still hold it: it then counts nothing). */
  forgotten: boolean;
}

/** What a {@link RecentClientIds} keeps at most. */
export interface RecentIdsOptions {
  /** Lines whose id time is older than this are dropped from a conversation's index. */
  readonly dedupeWindowMs: number;
  /** Pairs kept across all conversations; the least recently used conversations are forgotten first. */
  readonly maxDedupeIds: number;
  /** Conversations known at most (the least recently used are forgotten first). */
  readonly maxCachedConversations: number;
}

/** The key of a sender's clientMessageId (NUL cannot occur in a user name, so pairs cannot collide). */
export function pairKey(from: string, clientMessageId: string): string {
  return `${from}\u0000${clientMessageId}`;
}

/** The known tails of the conversations of one container, within the window and the bounds. */
export class RecentClientIds {
  readonly #tails = new Map<string, KnownTail>();
  readonly #options: RecentIdsOptions;
  #total = 0;

  constructor(options: RecentIdsOptions) {
    this.#options = options;
  }

  /** The conversation's known tail, made the most recently used; `undefined` when it must be read first. */
  get(conversation: string): KnownTail | undefined {
    const tail = this.#tails.get(conversation);
    if (tail === undefined) return undefined;
    this.#tails.delete(conversation);
    this.#tails.set(conversation, tail);
    return tail;
  }

  /** Starts a conversation afresh at a segment and position (its earlier knowledge, if any, is dropped). */
  start(conversation: string, segment: number, position: number): KnownTail {
    this.forget(conversation);
    const tail: KnownTail = {
      segment,
      position,
      ids: new Map(),
      order: new Fifo(),
      contendedAt: 0,
      blockStartedAt: 0,
      forgotten: false,
    };
    this.#tails.set(conversation, tail);
    for (const oldest of this.#tails.keys()) {
      if (this.#tails.size <= this.#options.maxCachedConversations) break;
      this.forget(oldest);
    }
    return tail;
  }

  /** Drops what is known of a conversation: its next append reads the tail again. */
  forget(conversation: string): void {
    const tail = this.#tails.get(conversation);
    if (tail === undefined) return;
    this.#tails.delete(conversation);
    tail.forgotten = true;
    this.#total -= tail.ids.size;
  }

  /** The stored line of a sender's clientMessageId, if the index holds it. */
  find(tail: KnownTail, from: string, clientMessageId: string): StoredLine | undefined {
    return tail.ids.get(pairKey(from, clientMessageId));
  }

  /** Records a line read or written at `line`; lines without a clientMessageId need no entry. */
  add(tail: KnownTail, message: Pick<ChatMessage, 'from' | 'clientMessageId'>, line: StoredLine): void {
    if (message.clientMessageId === undefined || typeof message.from !== 'string') return;
    const key = pairKey(message.from, message.clientMessageId);
    // A later copy of a pair (stored twice outside the window) does not hide the first: the first is the answer.
    if (!tail.ids.has(key)) {
      tail.ids.set(key, line);
      if (!tail.forgotten) this.#total++;
    }
    tail.order.push({ key, time: decodeTime(line.id), line });
    this.#prune(tail, Date.now() - this.#options.dedupeWindowMs);
    this.#bound(tail);
  }

  /** Drops the entries older than `cutoff` from the front of a conversation's index. */
  #prune(tail: KnownTail, cutoff: number): void {
    for (;;) {
      const oldest = tail.order.peek();
      if (oldest === undefined || oldest.time >= cutoff) break;
      this.#drop(tail);
    }
  }

  /** Within `maxDedupeIds`: other conversations are forgotten first, then this one's oldest entries. */
  #bound(current: KnownTail): void {
    if (this.#total <= this.#options.maxDedupeIds) return;
    for (const [conversation, tail] of this.#tails) {
      if (this.#total <= this.#options.maxDedupeIds) return;
      if (tail !== current) this.forget(conversation);
    }
    while (this.#total > this.#options.maxDedupeIds && current.order.length > 0) this.#drop(current);
  }

  #drop(tail: KnownTail): void {
    const oldest = tail.order.shift();
    if (oldest === undefined) return;
    if (tail.ids.get(oldest.key) === oldest.line) {
      tail.ids.delete(oldest.key);
      if (!tail.forgotten) this.#total--;
    }
  }
}
