/**
 * The service's side of `json.reliable.webpubsub.azure.v1` for one connection: every data message numbered
 * (`sequenceId`, from 1) and kept until the client's `sequenceAck` covers it, so a recovered connection gets
 * again what the dropped socket may have lost; the client drops what it already had by its sequence id
 * (Learn, "Create reliable WebSocket clients"; docs/local-service.md, "The Web PubSub wing").
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { sequencedBytes, sequencedPayload } from './outbound-frames.js';

export class ReliableOutbox {
  /**
   * The messages kept, as their shared JSON frames (outbound-frames.ts), oldest first: the first has sequence id
   * `#firstKept`, the next one more, and so on. A connection's own frame is written again from these on a
   * recovery, so keeping a message costs a reference, not a copy.
   */
  #kept: Buffer[] = [];
  #firstKept = 1;
  #keptBytes = 0;

  constructor(private readonly limitBytes: number) {}

  /** The sequence id the next message kept gets. */
  get nextSequenceId(): number {
    return this.#firstKept + this.#kept.length;
  }

  /**
   * Keeps the message (its shared JSON frame) numbered {@link nextSequenceId}. False when keeping its frame
   * would pass the limit (the client acknowledges too little): nothing is kept and the number stays free.
   */
  keep(json: Buffer): boolean {
    const bytes = sequencedBytes(json, this.nextSequenceId);
    if (this.#keptBytes + bytes > this.limitBytes) return false;
    this.#kept.push(json);
    this.#keptBytes += bytes;
    return true;
  }

  /** The client's `sequenceAck`: it has every message up to `sequenceId`. */
  ack(sequenceId: number): void {
    const drop = Math.min(this.#kept.length, sequenceId - this.#firstKept + 1);
    if (drop <= 0) return;
    for (let i = 0; i < drop; i++) {
      this.#keptBytes -= sequencedBytes(this.#kept[i] as Buffer, this.#firstKept + i);
    }
    this.#kept.splice(0, drop);
    this.#firstKept += drop;
  }

  /** The frames a recovered connection is sent again, oldest first. */
  unacknowledged(): Buffer[] {
    return this.#kept.map((json, i) => sequencedPayload(json, this.#firstKept + i));
  }

  /** The bytes of the frames kept. */
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
