import { describe, expect, it } from 'vitest';
import { ConcurrencyLimit } from '../../src/lib/concurrency-limit.js';

describe('ConcurrencyLimit', () => {
  it('starts up to its bound, refuses past it at once, and starts again once one ends (each end counted once)', () => {
    const limit = new ConcurrencyLimit(2);
    const first = limit.tryStart();
    const second = limit.tryStart();
    expect(first).toBeTypeOf('function');
    expect(second).toBeTypeOf('function');
    expect(limit.tryStart()).toBeUndefined();
    first?.();
    first?.();
    expect(limit.running).toBe(1);
    expect(limit.tryStart()).toBeTypeOf('function');
    expect(limit.tryStart()).toBeUndefined();
  });
});
