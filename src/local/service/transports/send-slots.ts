/**
 * The Server-Sent Events and Long Polling sends (POST bodies) one client address has in flight, across its
 * connections: past `maxConcurrentSendsPerAddress` a POST is refused with 429 before its body is read, so one
 * address cannot make the service hold many bodies of up to `maxMessageBytes` at once. One connection has one
 * POST in flight at most besides (`HttpTransport.exclusively`). See docs/local-service.md, "The SignalR wing".
 */
import { Rejection } from '../errors.js';

/** POST bodies one address may have in flight at once (read, or waiting for a paused session). */
export const DEFAULT_MAX_CONCURRENT_SENDS_PER_ADDRESS = 32;

export class SendSlots {
  readonly #max: number;
  readonly #inFlight = new Map<string, number>();

  constructor(max: number) {
    this.#max = max;
  }

  /** Sends of `address` in flight now. */
  inFlight(address: string): number {
    return this.#inFlight.get(address) ?? 0;
  }

  /**
   * Takes a slot for one send from `address`, or throws a 429 {@link Rejection} (with `headers`, e.g. CORS).
   * The function returned gives the slot back; calling it again does nothing.
   */
  take(address: string, headers: Readonly<Record<string, string>> = {}): () => void {
    const inFlight = this.inFlight(address);
    if (inFlight >= this.#max) {
      throw new Rejection(
        'too-many-sends',
        `This address already has ${this.#max} sends in flight (maxConcurrentSendsPerAddress): wait for their answers, then send again`,
        { 'Retry-After': '1', ...headers },
      );
    }
    this.#inFlight.set(address, inFlight + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = this.inFlight(address) - 1;
      if (left > 0) this.#inFlight.set(address, left);
      else this.#inFlight.delete(address);
    };
  }
}
