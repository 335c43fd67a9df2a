/**
 * The service's side of `json.reliable.webpubsub.azure.v1` for one connection: every data message numbered
 * (`sequenceId`, from 1) and kept until the client's `sequenceAck` covers it, so a recovered connection gets
 * again what the dropped socket may have lost; the client drops what it already had by its sequence id
 * (Learn, "Create reliable WebSocket clients"; docs/local-service.md, "The Web PubSub wing").
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

export class ReliableOutbox {
  /** The frames kept, oldest first; the first has sequence id `#firstKept`, the next one more, and so on. */
  #kept: Buffer[] = [];
  #firstKept = 1;
  #keptBytes = 0;

  constructor(private readonly limitBytes: number) {}

  /** The sequence id the next message kept gets. */
  get nextSequenceId(): number {
    return this.#firstKept + this.#kept.length;
  }

  /**
   * Keeps the frame of the message numbered {@link nextSequenceId}. False when keeping it would pass the
   * limit (the client acknowledges too little): nothing is kept and the number stays free.
   */
  keep(frame: Buffer): boolean {
    if (this.#keptBytes + frame.length > this.limitBytes) return false;
    this.#kept.push(frame);
    this.#keptBytes += frame.length;
    return true;
  }

  /** The client's `sequenceAck`: it has every message up to `sequenceId`. */
  ack(sequenceId: number): void {
    const drop = Math.min(this.#kept.length, sequenceId - this.#firstKept + 1);
    if (drop <= 0) return;
    for (let i = 0; i < drop; i++) this.#keptBytes -= (this.#kept[i] as Buffer).length;
    this.#kept.splice(0, drop);
    this.#firstKept += drop;
  }

  /** What a recovered connection is sent again, oldest first. */
  unacknowledged(): readonly Buffer[] {
    return [...this.#kept];
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
