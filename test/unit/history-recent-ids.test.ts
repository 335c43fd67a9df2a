/**
 * The index of recent clientMessageIds each instance keeps per conversation: what it finds, what the window and
 * the bounds drop, and that any sender name is just a key. How it is kept true against real storage (conditional
 * appends, reads of new bytes) is in test/integration/history-concurrency.test.ts.
 */
import { ulid } from 'ulid';
import { describe, expect, it } from 'vitest';
import { RecentClientIds, type StoredLine } from '../../src/lib/history/recent-ids.js';

const options = { dedupeWindowMs: 60_000, maxDedupeIds: 100, maxCachedConversations: 10 };

let offset = 0;
function line(time = Date.now()): StoredLine {
  offset += 100;
  return { id: ulid(time), segment: 1, offset, length: 99 };
}

describe('RecentClientIds', () => {
  it('finds the first stored line of each (sender, clientMessageId), never another sender’s', () => {
    const ids = new RecentClientIds(options);
    const tail = ids.start('room', 1, 0);
    const first = line();
    ids.add(tail, { from: 'ann', clientMessageId: 'c1' }, first);
    ids.add(tail, { from: 'ann', clientMessageId: 'c1' }, line());
    ids.add(tail, { from: '__proto__', clientMessageId: 'constructor' }, line());
    ids.add(tail, { from: 'bob' }, line());
    expect(ids.find(tail, 'ann', 'c1')).toBe(first);
    expect(ids.find(tail, 'bob', 'c1')).toBeUndefined();
    expect(ids.find(tail, '__proto__', 'constructor')).toBeDefined();
    expect(ids.find(tail, 'ann', 'toString')).toBeUndefined();
  });

  it('drops lines older than the window, oldest first', () => {
    const ids = new RecentClientIds(options);
    const tail = ids.start('room', 1, 0);
    ids.add(tail, { from: 'ann', clientMessageId: 'old' }, line(Date.now() - 120_000));
    ids.add(tail, { from: 'ann', clientMessageId: 'new' }, line());
    expect(ids.find(tail, 'ann', 'old')).toBeUndefined();
    expect(ids.find(tail, 'ann', 'new')).toBeDefined();
  });

  it('keeps within maxDedupeIds by forgetting the least recently used conversations first, then the oldest lines', () => {
    const ids = new RecentClientIds({ ...options, maxDedupeIds: 5 });
    const idle = ids.start('group:idle', 1, 0);
    for (let i = 0; i < 3; i++) ids.add(idle, { from: 'ann', clientMessageId: `i${i}` }, line());
    const busy = ids.start('room', 1, 0);
    for (let i = 0; i < 4; i++) ids.add(busy, { from: 'ann', clientMessageId: `b${i}` }, line());
    // The idle conversation went first: its next append reads its tail again.
    expect(ids.get('group:idle')).toBeUndefined();
    expect(idle.forgotten).toBe(true);
    expect(ids.find(busy, 'ann', 'b0')).toBeDefined();
    for (let i = 4; i < 8; i++) ids.add(busy, { from: 'ann', clientMessageId: `b${i}` }, line());
    // Alone and still over: its oldest lines go.
    expect(ids.find(busy, 'ann', 'b2')).toBeUndefined();
    expect(ids.find(busy, 'ann', 'b3')).toBeDefined();
    expect(ids.find(busy, 'ann', 'b7')).toBeDefined();
  });

  it('knows at most maxCachedConversations conversations', () => {
    const ids = new RecentClientIds({ ...options, maxCachedConversations: 2 });
    ids.start('a', 1, 0);
    ids.start('b', 1, 0);
    ids.get('a');
    ids.start('c', 1, 0);
    expect([ids.get('a'), ids.get('b'), ids.get('c')].map((t) => t !== undefined)).toEqual([
      true,
      false,
      true,
    ]);
  });
});
