/**
 * A bound on work running at once that refuses instead of queueing: past it, `tryStart` answers at once that
 * nothing may start, so the caller can say "busy" rather than pile up work nobody waits for any more (an upstream
 * call the service gave up on still runs in the app). One instance's memory: with several instances each one
 * bounds its own work.
 */
export class ConcurrencyLimit {
  readonly max: number;
  #running = 0;

  constructor(max: number) {
    this.max = max;
  }

  /** Work running now. */
  get running(): number {
    return this.#running;
  }

  /**
   * Starts one piece of work when fewer than `max` run: returns the function that ends it (calling it again does
   * nothing); `undefined` when the bound is reached.
   */
  tryStart(): (() => void) | undefined {
    if (this.#running >= this.max) return undefined;
    this.#running++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.#running--;
    };
  }
}
