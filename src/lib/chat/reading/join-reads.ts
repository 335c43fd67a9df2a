/**
 * History reads of joins, shared: a join storm has every joiner read the room's newest page (and members of one
 * group its page), so a read one join started serves every join that arrived before it started. A read that
 * started after a connection arrived holds every message stored before then, and anything stored later is
 * delivered to the connection, which the service had by then: sharing changes no welcome
 * (docs/architecture.md, "Presence and group memberships"). A join that arrives while a read it cannot use is in
 * flight waits for the next read, which starts when that one ends and serves every join that arrived meanwhile:
 * a storm makes one read of a page at a time, not one per join. Nothing is kept once a read ends.
 */
import type { HistoryPage } from '../../history/index.js';

/** What the shared reads need of the history store. */
export interface PageReader {
  read(conversation: string, options: { limit: number }): Promise<HistoryPage>;
}

/** A join's place in the order of arrivals: reads started after it serve it. */
export type Arrival = number;

/** The reads of one page: the one in flight (serving the arrivals up to `after`) and the one queued after it. */
interface Reads {
  current?: { readonly after: Arrival; readonly page: Promise<HistoryPage> };
  next?: Promise<HistoryPage>;
}

export class JoinReads {
  readonly #history: PageReader;
  /** Arrivals so far: a read records how many there were when it started. */
  #arrivals = 0;
  /** Per conversation and limit: the read in flight and the arrivals it serves, and the read queued after it. */
  readonly #reads = new Map<string, Reads>();

  constructor(history: PageReader) {
    this.#history = history;
  }

  /** Marks a join's arrival (call it when the join starts, before any of its reads). */
  arrive(): Arrival {
    this.#arrivals += 1;
    return this.#arrivals;
  }

  /**
   * The newest `limit` messages of `conversation`, from a read that started after `arrival`: the one in flight
   * if it did, else the next one, started once the one in flight ends (now when none is).
   */
  read(arrival: Arrival, conversation: string, limit: number): Promise<HistoryPage> {
    const key = `${limit}\u0000${conversation}`;
    const reads = this.#reads.get(key) ?? {};
    const current = reads.current;
    if (current === undefined) return this.#start(key, reads, conversation, limit);
    if (current.after >= arrival) return current.page;
    reads.next ??= current.page
      .then(
        () => undefined,
        () => undefined,
      )
      .then(() => {
        reads.next = undefined;
        return this.#start(key, reads, conversation, limit);
      });
    return reads.next;
  }

  #start(key: string, reads: Reads, conversation: string, limit: number): Promise<HistoryPage> {
    const page = this.#history.read(conversation, { limit });
    const current = { after: this.#arrivals, page };
    reads.current = current;
    this.#reads.set(key, reads);
    const done = () => {
      if (reads.current !== current) return;
      reads.current = undefined;
      if (reads.next === undefined) this.#reads.delete(key);
    };
    page.then(done, done);
    return page;
  }

  /** A reader for one join: every read it makes is shared as {@link read} says. */
  forArrival(arrival: Arrival): PageReader {
    return { read: (conversation, { limit }) => this.read(arrival, conversation, limit) };
  }
}

/**
 * The newest `limit` messages of a page read with a larger limit: what a read with `limit` would have given
 * (a read keeps the newest messages, so the newest of more are the same, and there were more exactly when the
 * larger page had more than `limit` or had more itself).
 */
export function newestOf(page: HistoryPage, limit: number): HistoryPage {
  if (page.messages.length <= limit) return page;
  return { conversation: page.conversation, messages: page.messages.slice(-limit), hasMore: true };
}

/** `reader`, with `conversation`'s newest pages served from `page`, read with a limit at least as large. */
export function withPage(reader: PageReader, conversation: string, page: Promise<HistoryPage>): PageReader {
  return {
    read: async (asked, { limit }) => {
      if (asked !== conversation) return reader.read(asked, { limit });
      const read = await page;
      return read.messages.length >= limit || !read.hasMore
        ? newestOf(read, limit)
        : reader.read(asked, { limit });
    },
  };
}
