/**
 * History reads of joins, shared: a join storm has every joiner read the room's newest page (and members of one
 * group its page), so a read one join started serves every join that arrived before it started. A read that
 * started after a connection arrived holds every message stored before then, and anything stored later is
 * delivered to the connection, which the service had by then: sharing changes no welcome
 * (docs/architecture.md, "Presence and group memberships"). Nothing is kept once a read ends.
 */
import type { HistoryPage } from '../../history/index.js';

/** What the shared reads need of the history store. */
export interface PageReader {
  read(conversation: string, options: { limit: number }): Promise<HistoryPage>;
}

/** A join's place in the order of arrivals: reads started after it serve it. */
export type Arrival = number;

export class JoinReads {
  readonly #history: PageReader;
  /** Arrivals so far: a read records how many there were when it started. */
  #arrivals = 0;
  /** The read in flight per conversation and limit, and the arrivals it serves (those up to `after`). */
  readonly #inFlight = new Map<string, { after: Arrival; page: Promise<HistoryPage> }>();

  constructor(history: PageReader) {
    this.#history = history;
  }

  /** Marks a join's arrival (call it when the join starts, before any of its reads). */
  arrive(): Arrival {
    this.#arrivals += 1;
    return this.#arrivals;
  }

  /** The newest `limit` messages of `conversation`, from a read that started after `arrival`. */
  read(arrival: Arrival, conversation: string, limit: number): Promise<HistoryPage> {
    const key = `${limit}\u0000${conversation}`;
    const current = this.#inFlight.get(key);
    if (current !== undefined && current.after >= arrival) return current.page;
    const page = this.#history.read(conversation, { limit });
    const entry = { after: this.#arrivals, page };
    this.#inFlight.set(key, entry);
    const done = () => {
      if (this.#inFlight.get(key) === entry) this.#inFlight.delete(key);
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
