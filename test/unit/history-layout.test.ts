import { describe, expect, it } from 'vitest';
import { conversationFolder, segmentBlobName, segmentNumber } from '../../src/lib/history/layout.js';
import { isMessageId, newMessageId } from '../../src/lib/history/message.js';

describe('history blob names', () => {
  it.each([
    ['room', 'room'],
    ['group:team', 'group%3Ateam'],
    ['group:team a', 'group%3Ateam%20a'],
    ['group:a.b_c-d', 'group%3Aa.b_c-d'],
    // A path segment must not end in a dot.
    ['group:v2.', 'group%3Av2%2E'],
    ['group:...', 'group%3A..%2E'],
    ['dm:ann:bob', 'dm%3Aann%3Abob'],
    ['dm:Zoë:ann', 'dm%3AZo%C3%AB%3Aann'],
    ['group:日本', 'group%3A%E6%97%A5%E6%9C%AC'],
  ])('stores conversation %j under the folder %j', (conversation, folder) => {
    expect(conversationFolder(conversation)).toBe(folder);
    expect(decodeURIComponent(folder)).toBe(conversation);
    expect(folder.startsWith('_')).toBe(false);
  });

  it('names segments with ten zero-padded digits so that names sort in segment order', () => {
    expect(segmentBlobName('room', 1)).toBe('room/0000000001.jsonl');
    expect(segmentBlobName('group:a b', 12)).toBe('group%3Aa%20b/0000000012.jsonl');
    const names = [9, 10, 100, 2].map((n) => segmentBlobName('room', n)).sort();
    expect(names.map((name) => segmentNumber('room', name))).toEqual([2, 9, 10, 100]);
  });

  it('recognises only segment names of the same conversation', () => {
    expect(segmentNumber('room', 'room/0000000003.jsonl')).toBe(3);
    expect(segmentNumber('room', 'rooms/0000000003.jsonl')).toBeUndefined();
    expect(segmentNumber('room', 'room/3.jsonl')).toBeUndefined();
    expect(segmentNumber('room', 'room/0000000003.json')).toBeUndefined();
  });
});

describe('message ids', () => {
  it('are ULIDs that sort in the order they were made, even within one millisecond', () => {
    const now = Date.UTC(2026, 10, 27, 12, 0, 0);
    const ids = Array.from({ length: 50 }, () => newMessageId(now));
    expect(ids.every(({ id }) => isMessageId(id))).toBe(true);
    expect([...ids.map(({ id }) => id)].sort()).toEqual(ids.map(({ id }) => id));
    expect(ids[0]?.sentAt).toBe('2026-11-27T12:00:00.000Z');
    // The 48-bit millisecond time in Crockford base 32, computed independently of the ulid package.
    expect(ids[0]?.id.slice(0, 10)).toBe('01M8EE0VG0');
  });

  it('rejects what is not a ULID', () => {
    expect(isMessageId(`01M8EE0VG0${'Z'.repeat(16)}`)).toBe(true);
    expect(isMessageId('not-an-id')).toBe(false);
    expect(isMessageId('01m8ee0vg0zzzzzzzzzzzzzzzz')).toBe(false);
    expect(isMessageId(42)).toBe(false);
    expect(isMessageId('8ZZZZZZZZZZZZZZZZZZZZZZZZZ')).toBe(false);
  });
});
