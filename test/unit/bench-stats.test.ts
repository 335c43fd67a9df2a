import { describe, expect, it } from 'vitest';
import { makePayload, readPayload } from '../../bench/payload.js';
import { Histogram } from '../../bench/stats.js';

describe('bench histogram', () => {
  it('counts values below 128 µs exactly', () => {
    const histogram = new Histogram();
    for (let v = 1; v <= 100; v++) histogram.record(v);
    expect(histogram.percentile(0.5)).toBe(50);
    expect(histogram.percentile(0.99)).toBe(99);
    expect(histogram.percentile(1)).toBe(100);
    expect(histogram.total).toBe(100);
  });

  it('reports every percentile of a wide distribution within 1/64 of the true sample', () => {
    const samples = Array.from({ length: 10_000 }, (_, i) => Math.round(10 * 1.0009 ** i)); // 10 µs … ~80 s
    const histogram = new Histogram();
    for (const sample of samples) histogram.record(sample);
    const sorted = [...samples].sort((a, b) => a - b);
    for (const q of [0.1, 0.5, 0.9, 0.99, 0.999]) {
      const exact = sorted[Math.ceil(q * sorted.length) - 1] as number;
      expect(Math.abs(histogram.percentile(q) - exact) / exact).toBeLessThanOrEqual(1 / 64);
    }
  });

  it('merges histograms from several processes into the same counts as one histogram', () => {
    const all = new Histogram();
    const parts = [new Histogram(), new Histogram()];
    for (let i = 0; i < 5_000; i++) {
      const value = (i * 7919) % 250_000;
      all.record(value);
      parts[i % 2]?.record(value);
    }
    const merged = Histogram.from(JSON.parse(JSON.stringify(parts[0])));
    merged.merge(JSON.parse(JSON.stringify(parts[1])));
    expect(merged.toJSON()).toEqual(all.toJSON());
    expect(merged.summary()).toEqual(all.summary());
  });

  it('summarises an empty histogram as zeros', () => {
    expect(new Histogram().summary()).toEqual({
      count: 0,
      meanMs: 0,
      p50Ms: 0,
      p90Ms: 0,
      p99Ms: 0,
      maxMs: 0,
    });
  });
});

describe('bench payload', () => {
  it('is exactly the requested size and carries its sequence number and send time', () => {
    const payload = makePayload(42, 1024);
    expect(payload).toHaveLength(1024);
    const read = readPayload(payload);
    expect(read?.seq).toBe(42);
    expect(read?.sentMicros).toBeGreaterThan(0);
  });

  it('ignores text that is not a bench payload', () => {
    expect(readPayload('hello world')).toBeUndefined();
    expect(readPayload('{"type":"presence"}')).toBeUndefined();
  });
});
