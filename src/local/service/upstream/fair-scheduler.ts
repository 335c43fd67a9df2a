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
  /** Lanes with waiting calls, in turn order: the first lane is served next, then moves to the back. */
  readonly #lanes = new Map<string, Waiter[]>();
  #inFlight = 0;
  #queued = 0;
  #started = 0;
  #shed = 0;

  constructor(maxInFlight: number) {
    this.#maxInFlight = maxInFlight;
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
    if (this.#inFlight < this.#maxInFlight && this.#lanes.size === 0) {
      // A free slot and nobody waiting: the task runs now, its own promise is the answer.
      if (wanted && !wanted()) {
        this.#shed++;
        return Promise.resolve(SHED);
      }
      return this.#start(task);
    }
    return new Promise<T | typeof SHED>((resolve, reject) => {
      const start = () => this.#start(task).then(resolve, reject);
      const skip = () => resolve(SHED);
      const waiters = this.#lanes.get(lane);
      if (waiters) waiters.push({ start, wanted, skip });
      else this.#lanes.set(lane, [{ start, wanted, skip }]);
      this.#queued++;
    });
  }

  /** Runs a task in a slot; the slot is free again (and the next waiter started) when it settles. */
  #start<T>(task: () => Promise<T>): Promise<T> {
    this.#inFlight++;
    this.#started++;
    const result = task();
    result.then(this.#done, this.#done);
    return result;
  }

  readonly #done = (): void => {
    this.#inFlight--;
    this.#next();
  };

  /** Starts waiting calls while slots are free, one per lane in turn. */
  #next(): void {
    while (this.#inFlight < this.#maxInFlight) {
      const first = this.#lanes.entries().next();
      if (first.done) return;
      const [lane, waiters] = first.value;
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
