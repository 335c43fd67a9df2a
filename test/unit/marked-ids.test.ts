/**
 * The check of `markRead`'s id (src/lib/chat/reading/marked-ids.ts) against an in-memory history: an id of the
 * newest lines is found there, an older one by a search kept to the reorder window, an id found is remembered,
 * looks for one id at once are shared, and an id the conversation does not hold is not found.
 */
import { describe, expect, it } from 'vitest';
import { type MarkedIdHistory, MarkedIds } from '../../src/lib/chat/index.js';
import type { ChatMessage } from '../../src/lib/history/index.js';

// Even ids, so an odd one falls between two stored lines.
const id = (n: number) => `01JDZ5Q8W3C0M6T5V4P2N1K${String(2 * n).padStart(3, '0')}`;
const BETWEEN_1_AND_2 = '01JDZ5Q8W3C0M6T5V4P2N1K003';

function memoryHistory(count: number) {
  const lines: ChatMessage[] = Array.from({ length: count }, (_, n) => ({
    id: id(n + 1),
    conversation: 'room',
    from: 'ann',
    text: `m${n}`,
    sentAt: '2026-12-07T03:00:00.000Z',
  }));
  const calls = { read: 0, find: [] as { id: string; exhaustive: boolean | undefined }[] };
  const history: MarkedIdHistory = {
    async read(conversation, { limit }) {
      calls.read++;
      const held = conversation === 'room' ? lines : [];
      return { conversation, messages: held.slice(-limit), hasMore: held.length > limit };
    },
    async find(conversation, wanted, options) {
      calls.find.push({ id: wanted, exhaustive: options?.exhaustive });
      return conversation === 'room' ? lines.find((line) => line.id === wanted) : undefined;
    },
  };
  return { calls, history };
}

describe('marked ids', () => {
  it('finds an id of the newest lines in one read, and remembers it', async () => {
    const { calls, history } = memoryHistory(5);
    const marked = new MarkedIds(history, { checkLines: 3 });
    expect(await marked.stored('room', id(5))).toBe(true);
    expect(await marked.stored('room', id(5))).toBe(true);
    expect(calls).toEqual({ read: 1, find: [] });
  });

  it('knows the lines this instance stored without a read', async () => {
    const { calls, history } = memoryHistory(5);
    const marked = new MarkedIds(history);
    marked.remember('room', id(5));
    expect(await marked.stored('room', id(5))).toBe(true);
    // Remembered for its conversation only.
    expect(await marked.stored('group:crew', id(5))).toBe(false);
    expect(calls.read).toBe(1);
  });

  it('looks for an older id by a search that never scans the whole history', async () => {
    const { calls, history } = memoryHistory(5);
    const marked = new MarkedIds(history, { checkLines: 3 });
    expect(await marked.stored('room', id(1))).toBe(true);
    expect(await marked.stored('room', id(99))).toBe(false);
    // An id between stored ones (the probe's `01KZZZ…` kind) is no stored message either.
    expect(await marked.stored('room', BETWEEN_1_AND_2)).toBe(false);
    expect(calls.find.map((f) => f.exhaustive)).toEqual([false, false, false]);
  });

  it('does not search when the newest lines are the whole conversation', async () => {
    const { calls, history } = memoryHistory(2);
    const marked = new MarkedIds(history);
    expect(await marked.stored('room', id(3))).toBe(false);
    expect(calls).toEqual({ read: 1, find: [] });
  });

  it('shares one look among the marks of an id that arrive together, and forgets past its bound', async () => {
    const { calls, history } = memoryHistory(5);
    const marked = new MarkedIds(history, { maxRemembered: 1 });
    const answers = await Promise.all([1, 2, 3].map(() => marked.stored('room', id(5))));
    expect(answers).toEqual([true, true, true]);
    expect(calls.read).toBe(1);
    await marked.stored('room', id(4));
    await marked.stored('room', id(5));
    expect(calls.read).toBe(3);
  });
});
