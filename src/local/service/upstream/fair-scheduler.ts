/**
 * Fair sharing of the upstream: a cap on calls in flight, and one lane per user taken in turn
 * (docs/local-service.md, "Upstream calls").
 */

/** What a skipped call resolves with. */
export const SHED: unique symbol = Symbol('shed');

interface Waiter {
  readonly start: () => void;
  readonly wanted: (() => boolean) | undefined;
  readonly skip: () => void;
}

/** Counts of what the scheduler did, for logs and tests. */
export interface SchedulerStats {
  inFlight: number;
  queued: number;
  lanes: number;
  started: number;
  shed: number;
}

export class FairScheduler {
  readonly #maxInFlight: number;
  readonly #maxInFlightPerLane: number;
  /** Lanes with waiting calls, in turn order: the first lane is served next, then moves to the back. */
  readonly #lanes = new Map<string, Waiter[]>();
  /** Calls running per lane (lanes with none are not kept). */
  readonly #running = new Map<string, number>();
  #inFlight = 0;
  #queued = 0;
  #started = 0;
  #shed = 0;

  /**
   * @param maxInFlight calls running at once in all.
   * @param maxInFlightPerLane calls of one lane running at once: one user's flood never holds more of the
   *   upstream than this, whatever else is idle, so everyone else's call starts at once.
   */
  constructor(maxInFlight: number, maxInFlightPerLane = maxInFlight) {
    this.#maxInFlight = maxInFlight;
    this.#maxInFlightPerLane = maxInFlightPerLane;
  }

  get stats(): SchedulerStats {
    return {
      inFlight: this.#inFlight,
      queued: this.#queued,
      lanes: this.#lanes.size,
      started: this.#started,
      shed: this.#shed,
    };
  }

  /**
   * Runs `task` in `lane` when a slot is free and it is the lane's turn; resolves with {@link SHED} instead when
   * `wanted` says no at that moment.
   */
  run<T>(lane: string, task: () => Promise<T>, wanted?: () => boolean): Promise<T | typeof SHED> {
    if (this.#inFlight < this.#maxInFlight && !this.#lanes.has(lane) && this.#free(lane)) {
      // A free slot, the lane's share not used up and nobody of the lane waiting: the task runs now.
      if (wanted && !wanted()) {
        this.#shed++;
        return Promise.resolve(SHED);
      }
      return this.#start(lane, task);
    }
    return new Promise<T | typeof SHED>((resolve, reject) => {
      const start = () => this.#start(lane, task).then(resolve, reject);
      const skip = () => resolve(SHED);
      const waiters = this.#lanes.get(lane);
      if (waiters) waiters.push({ start, wanted, skip });
      else this.#lanes.set(lane, [{ start, wanted, skip }]);
      this.#queued++;
    });
  }

  /** Runs a task in a slot; the slot is free again (and the next waiter started) when it settles. */
  #start<T>(lane: string, task: () => Promise<T>): Promise<T> {
    this.#inFlight++;
    this.#started++;
    this.#running.set(lane, (this.#running.get(lane) ?? 0) + 1);
    const done = () => {
      this.#inFlight--;
      const running = (this.#running.get(lane) ?? 1) - 1;
      if (running > 0) this.#running.set(lane, running);
      else this.#running.delete(lane);
      this.#next();
    };
    const result = task();
    result.then(done, done);
    return result;
  }

  #free(lane: string): boolean {
    return (this.#running.get(lane) ?? 0) < this.#maxInFlightPerLane;
  }

  /** Starts waiting calls while slots are free, one per lane in turn (lanes at their share wait). */
  #next(): void {
    while (this.#inFlight < this.#maxInFlight) {
      let first: [string, Waiter[]] | undefined;
      for (const entry of this.#lanes) {
        if (this.#free(entry[0])) {
          first = entry;
          break;
        }
      }
      if (first === undefined) return;
      const [lane, waiters] = first;
      const waiter = waiters.shift() as Waiter;
      this.#queued--;
      this.#lanes.delete(lane);
      if (waiters.length > 0) this.#lanes.set(lane, waiters); // to the back: the other lanes go first
      if (waiter.wanted && !waiter.wanted()) {
        this.#shed++;
        waiter.skip();
        continue;
      }
      waiter.start();
    }
  }
}
