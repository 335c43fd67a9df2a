/**
 * Reassembly of separator-ended text records from frames that split them anywhere, linear in the bytes
 * received (docs/local-service.md, "The SignalR wing").
 */

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
