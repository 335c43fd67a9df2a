/**
 * The bookkeeping of stateful reconnect (Ack and Sequence messages) on the service's side of one connection
 * (docs/local-service.md, "The SignalR wing").
 */
import { HubMessageType } from '../../../lib/signalr/hub-protocol.js';

/** Hub message types that are numbered: Invocation, StreamItem, Completion, StreamInvocation, CancelInvocation. */
export function isSequenced(type: number): boolean {
  return type >= 1 && type <= 5;
}

/** How long the service waits before acknowledging what it received (the client waits 1 s too). */
export const ACK_DELAY_MS = 1_000;

interface Kept {
  readonly id: number;
  readonly data: string | Buffer;
  readonly binary: boolean;
  readonly bytes: number;
}

export class ReconnectBuffer {
  #kept: Kept[] = [];
  #keptBytes = 0;
  #sentCount = 0;
  #nextReceiving = 1;
  #latestReceived = 0;
  #waitForSequence = false;
  #ackTimer: NodeJS.Timeout | undefined;

  constructor(limitBytes: number, sendAck: (sequenceId: number) => void) {
    this.#limitBytes = limitBytes;
    this.#sendAck = sendAck;
  }

  readonly #limitBytes: number;
  readonly #sendAck: (sequenceId: number) => void;

  /** Bytes sent and not yet acknowledged. */
  get keptBytes(): number {
    return this.#keptBytes;
  }

  /** Keeps a sent message until it is acknowledged; false when that would pass the limit. */
  keep(data: string | Buffer, binary: boolean): boolean {
    const bytes = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    if (this.#keptBytes + bytes > this.#limitBytes) return false;
    this.#sentCount++;
    this.#kept.push({ id: this.#sentCount, data, binary, bytes });
    this.#keptBytes += bytes;
    return true;
  }

  /** The client's Ack: everything up to `sequenceId` arrived. */
  ack(sequenceId: number): void {
    let drop = 0;
    while (drop < this.#kept.length && (this.#kept[drop] as Kept).id <= sequenceId) {
      this.#keptBytes -= (this.#kept[drop] as Kept).bytes;
      drop++;
    }
    if (drop > 0) this.#kept = this.#kept.slice(drop);
  }

  /**
   * Whether a message from the client is to be handled: false for everything but a Sequence message while one
   * is awaited after a reconnect, and for a resent message that already arrived.
   */
  accept(type: number): boolean {
    if (this.#waitForSequence) return false;
    if (!isSequenced(type)) return true;
    const id = this.#nextReceiving++;
    if (id <= this.#latestReceived) return false;
    this.#latestReceived = id;
    this.#scheduleAck();
    return true;
  }

  /** The client's Sequence message: its resend starts at `sequenceId`. False when that skips messages. */
  sequence(sequenceId: number): boolean {
    this.#waitForSequence = false;
    if (sequenceId > this.#nextReceiving) return false;
    this.#nextReceiving = sequenceId;
    return true;
  }

  /** The transport dropped: until the client's Sequence message, nothing it sends is handled. */
  disconnected(): void {
    this.#waitForSequence = true;
    clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
  }

  /** What to send after a reconnect: the Sequence message's id and the kept messages, oldest first. */
  resend(): { sequenceId: number; messages: ReadonlyArray<Pick<Kept, 'data' | 'binary'>> } {
    const first = this.#kept[0];
    return { sequenceId: first ? first.id : this.#sentCount + 1, messages: [...this.#kept] };
  }

  dispose(): void {
    clearTimeout(this.#ackTimer);
    this.#kept = [];
    this.#keptBytes = 0;
  }

  #scheduleAck(): void {
    if (this.#ackTimer !== undefined) return;
    this.#ackTimer = setTimeout(() => {
      this.#ackTimer = undefined;
      this.#sendAck(this.#latestReceived);
    }, ACK_DELAY_MS);
    this.#ackTimer.unref();
  }
}

/**
 * What stateful reconnect makes of one received message before the hub protocol sees it: an Ack or a Sequence
 * is its own (`consumed`), a duplicate resent by the client is dropped (`duplicate`), a malformed one is a
 * protocol error (its text), anything else goes on (`deliver`).
 */
export function gateMessage(
  reconnect: ReconnectBuffer,
  message: { readonly type: number; readonly sequenceId?: unknown },
): 'consumed' | 'duplicate' | 'deliver' | { readonly error: string } {
  if (message.type === HubMessageType.Ack) {
    const sequenceId = Number(message.sequenceId);
    if (!Number.isInteger(sequenceId)) return { error: 'An Ack message must carry an integer "sequenceId"' };
    reconnect.ack(sequenceId);
    return 'consumed';
  }
  if (message.type === HubMessageType.Sequence) {
    const sequenceId = Number(message.sequenceId);
    if (!Number.isInteger(sequenceId) || sequenceId < 1 || !reconnect.sequence(sequenceId)) {
      return { error: 'The Sequence message names a message the service has not received yet' };
    }
    return 'consumed';
  }
  return reconnect.accept(message.type) ? 'deliver' : 'duplicate';
}
