/**
 * Whether a `markRead` names a line stored in its conversation (docs/architecture.md, "Read state"), at a
 * bounded cost: the ids this instance stored or found stored are remembered (the page marks the newest message,
 * so every reader of a conversation marks the same few ids); any other is looked for in the conversation's
 * newest lines (one tail read, as a history page) and, when older than those, by the search `before` paging
 * uses, kept to the reorder window (never a scan of the history).
 */
import { setBounded } from '../../bounded-map.js';
import { MAX_HISTORY_LIMIT } from '../../conversation.js';
import type { ChatMessage, HistoryPage } from '../../history/index.js';

/** The newest lines of a conversation a mark's check reads (one ranged read for lines of a usual size). */
export const DEFAULT_MARK_CHECK_LINES = 100;
/** Ids found stored that an instance remembers, across conversations (the least recently marked forgotten first). */
export const DEFAULT_MAX_MARKED_IDS = 10_000;

/** What the check needs of the history store. */
export interface MarkedIdHistory {
  read(conversation: string, options: { limit: number }): Promise<HistoryPage>;
  find(
    conversation: string,
    id: string,
    options?: { exhaustive?: boolean },
  ): Promise<ChatMessage | undefined>;
}

export interface MarkedIdOptions {
  /** See {@link DEFAULT_MARK_CHECK_LINES}; at most `MAX_HISTORY_LIMIT` (100). */
  readonly checkLines?: number;
  /** See {@link DEFAULT_MAX_MARKED_IDS}. */
  readonly maxRemembered?: number;
}

/** One instance's check of marked ids, shared by its invocations. */
export class MarkedIds {
  readonly #history: MarkedIdHistory;
  readonly #checkLines: number;
  readonly #maxRemembered: number;
  /** `conversation \0 id` of the ids found stored, newest last. */
  readonly #stored = new Map<string, true>();
  /** The looks in flight, by the same key. */
  readonly #looking = new Map<string, Promise<boolean>>();

  constructor(history: MarkedIdHistory, options: MarkedIdOptions = {}) {
    this.#history = history;
    this.#checkLines = Math.min(options.checkLines ?? DEFAULT_MARK_CHECK_LINES, MAX_HISTORY_LIMIT);
    this.#maxRemembered = options.maxRemembered ?? DEFAULT_MAX_MARKED_IDS;
  }

  /** Remembers a line this instance stored: a mark of it then costs no read. */
  remember(conversation: string, id: string): void {
    setBounded(this.#stored, `${conversation}\u0000${id}`, true, this.#maxRemembered);
  }

  /**
   * Whether `conversation` holds a line (a message or a record) with the id `id`. Marks of the same id that
   * arrive while it is being looked for share the one look.
   */
  stored(conversation: string, id: string): Promise<boolean> {
    const key = `${conversation}\u0000${id}`;
    if (this.#stored.has(key)) {
      setBounded(this.#stored, key, true, this.#maxRemembered);
      return Promise.resolve(true);
    }
    const pending = this.#looking.get(key);
    if (pending !== undefined) return pending;
    const look = this.#look(conversation, id).then((found) => {
      if (found) setBounded(this.#stored, key, true, this.#maxRemembered);
      return found;
    });
    this.#looking.set(key, look);
    const done = () => this.#looking.delete(key);
    look.then(done, done);
    return look;
  }

  async #look(conversation: string, id: string): Promise<boolean> {
    const tail = await this.#history.read(conversation, { limit: this.#checkLines });
    if (tail.messages.some((line) => line.id === id)) return true;
    // Older than the tail, if anywhere (unless the tail is the whole conversation): one bounded search.
    return tail.hasMore && (await this.#history.find(conversation, id, { exhaustive: false })) !== undefined;
  }
}
