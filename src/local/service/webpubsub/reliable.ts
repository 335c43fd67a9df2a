/**
 * The service's side of `json.reliable.webpubsub.azure.v1` for one connection: every data message numbered
 * (`sequenceId`, from 1) and kept until the client's `sequenceAck` covers it, so a recovered connection gets
 * again what the dropped socket may have lost; the client drops what it already had by its sequence id
 * (Learn, "Create reliable WebSocket clients"; docs/local-service.md, "The Web PubSub wing").
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

interface Kept {
  readonly sequenceId: number;
  readonly frame: string;
  readonly bytes: number;
}

export class ReliableOutbox {
  #next = 1;
  #kept: Kept[] = [];
  #keptBytes = 0;

  constructor(private readonly limitBytes: number) {}

  /**
   * Numbers a message and keeps it: `write` gets its sequence id and returns its frame. Undefined when keeping
   * it would pass the limit (the client acknowledges too little).
   */
  keep(write: (sequenceId: number) => string): string | undefined {
    const frame = write(this.#next);
    const bytes = Buffer.byteLength(frame);
    if (this.#keptBytes + bytes > this.limitBytes) return undefined;
    this.#kept.push({ sequenceId: this.#next, frame, bytes });
    this.#keptBytes += bytes;
    this.#next++;
    return frame;
  }

  /** The client's `sequenceAck`: it has every message up to `sequenceId`. */
  ack(sequenceId: number): void {
    let drop = 0;
    while (drop < this.#kept.length && (this.#kept[drop] as Kept).sequenceId <= sequenceId) {
      this.#keptBytes -= (this.#kept[drop] as Kept).bytes;
      drop++;
    }
    if (drop > 0) this.#kept = this.#kept.slice(drop);
  }

  /** What a recovered connection is sent again, oldest first. */
  unacknowledged(): readonly string[] {
    return this.#kept.map((kept) => kept.frame);
  }

  get keptBytes(): number {
    return this.#keptBytes;
  }
}

/** A reconnection token: 32 random bytes, URL-safe (it travels in the recovery URL's query). */
export function newReconnectionToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Compares a presented reconnection token with the connection's in constant time. */
export function sameToken(expected: string, presented: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(presented, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
