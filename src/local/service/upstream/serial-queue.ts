/**
 * The per-connection queue: one upstream call in flight per connection, in order
 * (docs/local-service.md, "Upstream calls").
 */

/**
 * Runs tasks one at a time in submission order: the per-connection queue. `size` counts queued and running
 * tasks so the caller can apply backpressure to the client socket.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** Queues a task; its result (or rejection) is returned, and never blocks later tasks. */
  run<T>(task: () => Promise<T>): Promise<T> {
    this.#size++;
    const result = this.#tail.then(task);
    this.#tail = result.then(this.#settled, this.#settled);
    return result;
  }

  readonly #settled = (): void => {
    this.#size--;
  };
}
