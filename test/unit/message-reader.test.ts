import { describe, expect, it } from 'vitest';
import {
  PendingBytes,
  RecordReader,
  RecordTooLargeError,
} from '../../src/local/service/signalr/message-reader.js';

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

describe('RecordReader.pushFirst', () => {
  it('returns the first record as bytes and the rest of its frame untouched, whatever the split', () => {
    const reader = new RecordReader('\x1e', 1024);
    expect(reader.pushFirst(Buffer.from('{"protocol":'))).toBeUndefined();
    const first = reader.pushFirst(Buffer.from([...Buffer.from('"messagepack"}\x1e'), 0x95, 0x01]));
    expect(first?.record.toString()).toBe('{"protocol":"messagepack"}');
    expect([...(first?.rest ?? [])]).toEqual([0x95, 0x01]);
    expect(reader.pendingBytes).toBe(0);
  });
});

describe('PendingBytes', () => {
  it('joins a length-prefixed message split into many frames once, when it is complete', () => {
    const pending = new PendingBytes();
    // A 10 000-byte message whose 2-byte prefix arrives first, then the rest 1 byte per frame.
    expect(pending.push(Buffer.from([0x90, 0x4e]))).toBeDefined(); // the caller learns the announced length
    pending.keep(Buffer.from([0x90, 0x4e]), 10_002);
    let whole: Buffer | undefined;
    for (let i = 0; i < 10_000; i++) whole = pending.push(Buffer.from([i % 256])) ?? whole;
    expect(whole?.length).toBe(10_002);
    // Each byte was copied at most twice (kept, then joined), not once per frame.
    expect(pending.work.copiedBytes).toBeLessThanOrEqual(2 * 10_002);
  });
});
