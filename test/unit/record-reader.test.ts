import { describe, expect, it } from 'vitest';
import { RecordReader, RecordTooLargeError } from '../../src/local/service/record-reader.js';

describe('RecordReader', () => {
  it('returns the records a frame completes, joining parts split anywhere (multi-byte characters too)', () => {
    const reader = new RecordReader('\x1e', 1024);
    const bytes = Buffer.from('{"a":"é€"}\x1e{"b":2}\x1e{"c"', 'utf8');
    const records: string[] = [];
    for (let i = 0; i < bytes.length; i++) records.push(...reader.push(bytes.subarray(i, i + 1)));
    expect(records).toEqual(['{"a":"é€"}', '{"b":2}']);
    expect(reader.pendingBytes).toBe(4);
    expect(reader.push(Buffer.from(':3}\x1e'))).toEqual(['{"c":3}']);
  });

  it('scans and copies each byte a bounded number of times, however many frames a record is split into', () => {
    // The cost that made 1 MiB sent as 22 000 tiny frames take 15 s of CPU was quadratic in the frame count.
    const work = (frames: number) => {
      const reader = new RecordReader('\x1e', 10 * 1024 * 1024);
      const frame = Buffer.from('x'.repeat(48));
      for (let i = 0; i < frames; i++) reader.push(frame);
      expect(reader.push(Buffer.from('\x1e'))).toHaveLength(1);
      return { ...reader.work, total: frames * frame.length + 1 };
    };
    for (const frames of [1_000, 22_000]) {
      const { scannedBytes, copiedBytes, total } = work(frames);
      expect(scannedBytes).toBe(total); // each byte searched exactly once
      expect(copiedBytes).toBeLessThanOrEqual(2 * total);
    }
  });

  it('refuses an unfinished record over the limit and keeps nothing of it', () => {
    const reader = new RecordReader('\x1e', 10);
    reader.push(Buffer.from('12345'));
    expect(() => reader.push(Buffer.from('678901'))).toThrow(RecordTooLargeError);
    expect(reader.pendingBytes).toBe(0);
    expect(() => reader.push(Buffer.from('12345678901\x1e'))).toThrow(RecordTooLargeError);
    expect(reader.push(Buffer.from('1234567890\x1e'))).toEqual(['1234567890']);
  });
});
