import { describe, expect, it } from 'vitest';
import { FULL } from '../../bench/scenarios/chat.js';
import {
  BISECT_RESOLUTION,
  nextBisection,
  TRIES_PER_RATE,
  tryRate,
} from '../../bench/scenarios/chat-search.js';

/** The rates a bisection tries when every rate up to `limit` passes and every one above fails. */
function bisect(low: number, high: number, limit: number, budget = 10): number[] {
  const tried: number[] = [];
  for (let i = 0; i < budget; i++) {
    const rate = nextBisection(low, high);
    if (rate === undefined) break;
    tried.push(rate);
    if (rate <= limit) low = rate;
    else high = rate;
  }
  return tried;
}

describe('the chat rate search', () => {
  it('halves the gap between the last pass and the first fail', () => {
    expect(nextBisection(320, 640)).toBe(480);
    expect(nextBisection(0, 10)).toBe(5);
  });

  it('stops once the gap is within the resolution of the failing rate', () => {
    expect(nextBisection(480, 500)).toBeUndefined(); // 20 ≤ 5 % of 500
    expect(nextBisection(470, 500)).toBe(485);
    expect(nextBisection(1, 2)).toBeUndefined(); // no integer rate between them
  });

  it('finds a limit between two steps to 5 % in a few steps', () => {
    const tried = bisect(320, 640, 437);
    expect(tried).toEqual([480, 400, 440, 420]);
    expect(tried.length).toBeLessThanOrEqual(FULL.maxBisections);
    const passed = Math.max(...tried.filter((r) => r <= 437));
    const failed = Math.min(...tried.filter((r) => r > 437));
    expect(failed - passed).toBeLessThanOrEqual(BISECT_RESOLUTION * failed);
  });

  it('tries a failing rate again, and fails it only when every try fails', async () => {
    const runs = async (outcomes: boolean[]) => {
      const tried: number[] = [];
      const passed = await tryRate(async (attempt) => {
        tried.push(attempt);
        return outcomes[attempt - 1] ?? false;
      });
      return { passed, tried };
    };
    expect(TRIES_PER_RATE).toBe(2);
    expect(await runs([true])).toEqual({ passed: true, tried: [1] });
    expect(await runs([false, true])).toEqual({ passed: true, tried: [1, 2] });
    expect(await runs([false, false, true])).toEqual({ passed: false, tried: [1, 2] });
  });
});
