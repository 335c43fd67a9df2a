/**
 * The hub messages of one SignalR connection, read from frames that split them anywhere: separator-ended text
 * records (the handshake, JSON) and length-prefixed MessagePack messages, each kept with the exact bytes that go
 * upstream when it is an invocation, in time linear in the bytes received (docs/local-service.md, "The SignalR
 * wing").
 */
import type { HubCodec } from '../../../lib/signalr/hub-codec.js';
import {
  type HubMessage,
  HubProtocolError,
  parseHubMessages,
  RECORD_SEPARATOR,
} from '../../../lib/signalr/hub-protocol.js';
import {
  announcedFrameLength,
  parseMessagePackMessages,
  splitFrames,
  withoutLengthPrefix,
} from '../../../lib/signalr/messagepack.js';
/** The frame's bytes would make the unfinished record larger than the limit. */
export class RecordTooLargeError extends RangeError {
  override readonly name = 'RecordTooLargeError';
  constructor(readonly maxBytes: number) {
    super(`A record is larger than ${maxBytes} bytes`);
  }
}

/** How much work the reader did: the seam tests use to show the cost is linear in the input. */
export interface RecordReaderWork {
  /** Bytes searched for the separator. */
  scannedBytes: number;
  /** Bytes copied to join the parts of a record split over frames. */
  copiedBytes: number;
}

export class RecordReader {
  readonly work: RecordReaderWork = { scannedBytes: 0, copiedBytes: 0 };
  readonly #separator: number;
  readonly #maxRecordBytes: number;
  /** Parts of the unfinished record, in order, and their total length. */
  #parts: Buffer[] = [];
  #pending = 0;

  /** `maxRecordBytes` bounds one unfinished record (separator excluded). */
  constructor(separator: string, maxRecordBytes: number) {
    if (separator.length !== 1 || separator.charCodeAt(0) >= 0x80) {
      throw new RangeError('The separator must be one ASCII character');
    }
    this.#separator = separator.charCodeAt(0);
    this.#maxRecordBytes = maxRecordBytes;
  }

  /** Bytes of the unfinished record held. */
  get pendingBytes(): number {
    return this.#pending;
  }

  /**
   * Adds a frame and returns the records it completes, without their separators, decoded as UTF-8.
   * @throws RecordTooLargeError when the unfinished record would exceed the limit (nothing is kept then).
   */
  push(frame: Buffer): string[] {
    const records: string[] = [];
    let start = 0;
    for (;;) {
      const end = frame.indexOf(this.#separator, start);
      this.work.scannedBytes += (end < 0 ? frame.length : end + 1) - start;
      if (end < 0) break;
      records.push(this.#take(frame.subarray(start, end)));
      start = end + 1;
    }
    if (start < frame.length) {
      const rest = frame.subarray(start);
      if (this.#pending + rest.length > this.#maxRecordBytes) {
        this.#parts = [];
        this.#pending = 0;
        throw new RecordTooLargeError(this.#maxRecordBytes);
      }
      // A copy: the frame may be a view into a larger socket chunk that must not stay alive with it.
      this.#parts.push(Buffer.from(rest));
      this.work.copiedBytes += rest.length;
      this.#pending += rest.length;
    }
    return records;
  }

  /**
   * Adds a frame and returns the first record it completes, as bytes, with the frame's bytes after that
   * record (which the reader does not keep): for a handshake that may be followed by another protocol.
   * @throws RecordTooLargeError as {@link push}.
   */
  pushFirst(frame: Buffer): { record: Buffer; rest: Buffer } | undefined {
    const end = frame.indexOf(this.#separator);
    this.work.scannedBytes += end < 0 ? frame.length : end + 1;
    const head = end < 0 ? frame : frame.subarray(0, end);
    if (this.#pending + head.length > this.#maxRecordBytes) {
      this.#parts = [];
      this.#pending = 0;
      throw new RecordTooLargeError(this.#maxRecordBytes);
    }
    if (end < 0) {
      this.#parts.push(Buffer.from(frame));
      this.work.copiedBytes += frame.length;
      this.#pending += frame.length;
      return undefined;
    }
    this.#parts.push(head);
    const record = Buffer.concat(this.#parts, this.#pending + head.length);
    this.work.copiedBytes += record.length;
    this.#parts = [];
    this.#pending = 0;
    return { record, rest: frame.subarray(end + 1) };
  }

  /** The unfinished record plus `last` (its final part), as text; the reader is then empty. */
  #take(last: Buffer): string {
    if (this.#pending + last.length > this.#maxRecordBytes) {
      this.#parts = [];
      this.#pending = 0;
      throw new RecordTooLargeError(this.#maxRecordBytes);
    }
    if (this.#parts.length === 0) return last.toString('utf8');
    this.#parts.push(last);
    const whole = Buffer.concat(this.#parts, this.#pending + last.length);
    this.work.copiedBytes += whole.length;
    this.#parts = [];
    this.#pending = 0;
    return whole.toString('utf8');
  }
}

/**
 * Bytes that wait for a length-prefixed message (MessagePack) to complete, kept as parts and joined only when
 * enough have arrived for the next message (`need`), so a message split into many frames is copied a bounded
 * number of times instead of once per frame.
 */
export class PendingBytes {
  readonly work: RecordReaderWork = { scannedBytes: 0, copiedBytes: 0 };
  #parts: Buffer[] = [];
  #length = 0;
  #need = 1;

  /** Bytes held. */
  get length(): number {
    return this.#length;
  }

  /** Adds a frame; returns every byte held once at least `need` are there, else `undefined` (all kept). */
  push(frame: Buffer): Buffer | undefined {
    if (frame.length === 0) return undefined;
    this.#parts.push(frame);
    this.#length += frame.length;
    if (this.#length < this.#need) return undefined;
    const whole = this.#parts.length === 1 ? frame : Buffer.concat(this.#parts, this.#length);
    if (this.#parts.length > 1) this.work.copiedBytes += whole.length;
    this.#parts = [];
    this.#length = 0;
    this.#need = 1;
    return whole;
  }

  /** Keeps the bytes of an unfinished message; nothing is returned until `need` bytes are held. */
  keep(rest: Buffer, need: number): void {
    if (rest.length === 0) return;
    this.#parts = [Buffer.from(rest)]; // a copy: `rest` may be a view into a larger chunk
    this.work.copiedBytes += rest.length;
    this.#length = rest.length;
    this.#need = Math.max(need, rest.length + 1);
  }
}

/** One message read, and what goes upstream if it is an invocation. */
export interface ReadMessage {
  message: HubMessage;
  body: string | Uint8Array;
}

/**
 * Reads the messages of one connection. Records and messages larger than `maxBytes` throw
 * {@link RecordTooLargeError}; malformed ones throw {@link HubProtocolError}, both while the messages before
 * them have already been read.
 */
export class HubMessageReader {
  readonly #maxBytes: number;
  /** Before the handshake, and for JSON after it: records that span frames (linear in the bytes received). */
  readonly #records: RecordReader;
  /** MessagePack: bytes of a message not complete yet, joined only once it can be. */
  readonly #pending = new PendingBytes();

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
    this.#records = new RecordReader(RECORD_SEPARATOR, maxBytes);
  }

  /** The handshake record once complete (else `undefined`), and the frame's bytes after it. */
  readFirst(data: Buffer): { record: Buffer; rest: Buffer } | undefined {
    return this.#records.pushFirst(data);
  }

  /** The messages a frame completes, read one at a time so the caller can stop after any of them. */
  *read(data: Buffer, isBinary: boolean, codec: HubCodec): Generator<ReadMessage> {
    if (codec.binary) yield* this.#bytes(data);
    else yield* this.#text(data, isBinary);
  }

  *#text(data: Buffer, isBinary: boolean): Generator<ReadMessage> {
    if (isBinary) {
      throw new HubProtocolError(
        'invalid-message',
        'The json hub protocol is sent in text frames, not binary ones',
      );
    }
    for (const record of this.#records.push(data)) {
      // Each record is parsed on its own so the invocation upstream gets the client's exact JSON.
      for (const message of parseHubMessages(`${record}${RECORD_SEPARATOR}`)) {
        yield { message, body: record };
      }
    }
  }

  *#bytes(data: Buffer): Generator<ReadMessage> {
    const bytes = this.#pending.push(data);
    if (bytes === undefined) return; // the message announced is not complete yet
    const { frames, rest } = splitFrames(bytes);
    // A message announced larger than the limit is refused as soon as its length prefix arrives.
    const announced = rest.length > 0 ? announcedFrameLength(rest) : undefined;
    const pending = rest.length > 0 ? (announced ?? rest.length) : 0;
    if (Math.max(pending, ...frames.map((frame) => frame.length)) > this.#maxBytes) {
      throw new RecordTooLargeError(this.#maxBytes);
    }
    this.#pending.keep(Buffer.from(rest), announced ?? rest.length + 1);
    for (const frame of frames) {
      // Azure sends the invocation upstream as the MessagePack array alone, without its length prefix.
      for (const message of parseMessagePackMessages(frame)) {
        yield { message, body: withoutLengthPrefix(frame) };
      }
    }
  }
}
