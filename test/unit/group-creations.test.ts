/**
 * The daily bound on the groups one user creates, as a rule over the stored times (src/lib/conversations/
 * group-creations.ts): which creations count, when the next one is possible, and what a give-back leaves.
 */
import { describe, expect, it } from 'vitest';
import {
  admitCreation,
  CREATION_WINDOW_MS,
  countedCreations,
  DEFAULT_MAX_GROUPS_CREATED_PER_DAY,
  withoutCreation,
} from '../../src/lib/conversations/index.js';

const HOUR = 60 * 60_000;
const T0 = Date.parse('2026-12-08T10:00:00.000Z');

describe('the daily count of created groups', () => {
  it('is 20 in any 24 hours by default', () => {
    expect(DEFAULT_MAX_GROUPS_CREATED_PER_DAY).toBe(20);
    expect(CREATION_WINDOW_MS).toBe(24 * HOUR);
  });

  it('counts the creations of the last 24 hours, oldest first, and drops older ones', () => {
    const now = T0 + 30 * HOUR;
    const stored = [T0 + 29 * HOUR, T0, T0 + 6 * HOUR + 1, T0 + 6 * HOUR];
    // T0 + 6 h is exactly 24 hours old: out of the window.
    expect(countedCreations(stored, now)).toEqual([T0 + 6 * HOUR + 1, T0 + 29 * HOUR]);
  });

  it('does not count a time a day or more ahead of the clock (a clock set wrong)', () => {
    expect(countedCreations([T0 + 24 * HOUR, T0 + HOUR], T0)).toEqual([T0 + HOUR]);
  });

  it('admits up to the bound, storing the new time with the counted ones', () => {
    const stored = [T0 - 2 * HOUR, T0 - HOUR];
    expect(admitCreation(stored, T0, 3)).toEqual({ ok: true, created: [T0 - 2 * HOUR, T0 - HOUR, T0] });
    expect(admitCreation([T0 - 25 * HOUR, ...stored], T0, 3)).toEqual({
      ok: true,
      created: [T0 - 2 * HOUR, T0 - HOUR, T0],
    });
  });

  it('refuses one past the bound until the oldest counted creation is 24 hours old', () => {
    const stored = [T0 - 5 * HOUR, T0 - 3 * HOUR, T0 - HOUR];
    expect(admitCreation(stored, T0, 3)).toEqual({ ok: false, nextAt: T0 + 19 * HOUR });
    expect(admitCreation(stored, T0 + 19 * HOUR - 1, 3)).toMatchObject({ ok: false });
    expect(admitCreation(stored, T0 + 19 * HOUR, 3)).toEqual({
      ok: true,
      created: [T0 - 3 * HOUR, T0 - HOUR, T0 + 19 * HOUR],
    });
  });

  it('after the bound was lowered, waits until one fewer than the new bound counts', () => {
    const stored = [T0 - 5 * HOUR, T0 - 4 * HOUR, T0 - 3 * HOUR, T0 - HOUR];
    // Four count and two are allowed: the next waits until three have left the window, the third at T0 + 21 h.
    expect(admitCreation(stored, T0, 2)).toEqual({ ok: false, nextAt: T0 + 21 * HOUR });
  });

  it('gives back one creation at a given time, and only one', () => {
    const stored = [T0 - HOUR, T0, T0];
    expect(withoutCreation(stored, T0, T0)).toEqual([T0 - HOUR, T0]);
    expect(withoutCreation(stored, T0 - 2 * HOUR, T0)).toEqual([T0 - HOUR, T0, T0]);
  });
});
