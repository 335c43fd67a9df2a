/**
 * `appendRecord` for reactions against an in-memory history: a `react` that stands already and an `unreact` of
 * nothing are not stored, found from the conversation's newest lines alone; a retry of the record that stands
 * comes back as a duplicate; a target older than those lines is stored unchecked, as before the check.
 */
import { describe, expect, it } from 'vitest';
import {
  appendRecord,
  DEFAULT_REACTION_CHECK_LINES,
  type RecordHistory,
} from '../../src/lib/conversations/reactions.js';
import type { ChatMessage, NewMessage } from '../../src/lib/history/index.js';

const CONVERSATION = 'group:crew';
const id = (n: number) => `01JDZ5Q8W3C0M6T5V4P2N1K${String(n).padStart(3, '0')}`;

/** A conversation's lines in memory, with every read, search and append counted. */
function memoryHistory(count: number) {
  const lines: ChatMessage[] = [];
  const calls = { read: 0, find: 0, append: 0 };
  const add = (line: NewMessage): ChatMessage => {
    const stored = { ...line, id: id(lines.length + 1), sentAt: '2026-12-07T03:00:00.000Z' };
    lines.push(stored);
    return stored;
  };
  for (let n = 0; n < count; n++)
    add({ conversation: CONVERSATION, from: 'ann', group: 'crew', text: `m${n}` });
  const history: RecordHistory = {
    async read(_conversation, { limit }) {
      calls.read++;
      return { conversation: CONVERSATION, messages: lines.slice(-limit), hasMore: lines.length > limit };
    },
    async find(_conversation, wanted) {
      calls.find++;
      return lines.find((line) => line.id === wanted);
    },
    async append(line) {
      calls.append++;
      const known = lines.find((l) => l.clientMessageId === line.clientMessageId && l.from === line.from);
      if (line.clientMessageId !== undefined && known !== undefined)
        return { message: known, duplicate: true };
      return { message: add(line), duplicate: false };
    },
  };
  return { lines, calls, history };
}

const change = (kind: 'react' | 'unreact', target: string, clientMessageId: string) => ({
  kind,
  conversation: CONVERSATION,
  target,
  from: 'bob',
  text: '👍',
  clientMessageId,
});

describe('reaction records', () => {
  it('store only what changes a reaction, checked in the newest lines without a search', async () => {
    const { lines, calls, history } = memoryHistory(3);
    const target = id(2);
    expect(await appendRecord(history, change('unreact', target, 'u-0'))).toEqual({
      ok: true,
      unchanged: true,
    });
    const reacted = await appendRecord(history, change('react', target, 'r-1'));
    expect(reacted).toMatchObject({ ok: true, stored: { duplicate: false, message: { kind: 'react' } } });
    expect(await appendRecord(history, change('react', target, 'r-2'))).toEqual({
      ok: true,
      unchanged: true,
    });
    // A retry of the record that stands is that record again, to be delivered again.
    expect(await appendRecord(history, change('react', target, 'r-1'))).toEqual({
      ok: true,
      stored: { message: lines[3], duplicate: true },
    });
    expect(await appendRecord(history, change('unreact', target, 'u-1'))).toMatchObject({
      ok: true,
      stored: { duplicate: false, message: { kind: 'unreact' } },
    });
    expect(await appendRecord(history, change('unreact', target, 'u-2'))).toEqual({
      ok: true,
      unchanged: true,
    });
    // Someone else's reaction is theirs: bob's stands or not on its own.
    const other = { ...change('react', target, 'c-1'), from: 'cy' };
    expect(await appendRecord(history, other)).toMatchObject({ ok: true, stored: { duplicate: false } });
    expect(await appendRecord(history, change('unreact', target, 'u-3'))).toEqual({
      ok: true,
      unchanged: true,
    });

    expect(lines.filter((l) => l.kind !== undefined).map((l) => [l.from, l.kind, l.clientMessageId])).toEqual(
      [
        ['bob', 'react', 'r-1'],
        ['bob', 'unreact', 'u-1'],
        ['cy', 'react', 'c-1'],
      ],
    );
    expect(calls.find).toBe(0);
  });

  it('refuse a record or an unknown id as the target, whether or not the newest lines hold it', async () => {
    const { history, lines } = memoryHistory(2);
    await appendRecord(history, change('react', id(1), 'r-1'));
    const record = lines[2]?.id as string;
    expect(await appendRecord(history, change('react', record, 'r-2'))).toEqual({
      ok: false,
      code: 'message-not-found',
    });
    expect(await appendRecord(history, change('unreact', id(99), 'u-1'))).toEqual({
      ok: false,
      code: 'message-not-found',
    });
  });

  it('store a reaction to a message older than the newest lines unchecked, after one search', async () => {
    const { lines, calls, history } = memoryHistory(DEFAULT_REACTION_CHECK_LINES + 1);
    const oldest = id(1);
    const stored = await appendRecord(history, change('unreact', oldest, 'u-1'));
    expect(stored).toMatchObject({ ok: true, stored: { duplicate: false, message: { kind: 'unreact' } } });
    expect(calls).toEqual({ read: 1, find: 1, append: 1 });
    // With fewer lines to check, a message inside them is still checked.
    const inside = await appendRecord(history, change('unreact', id(lines.length - 1), 'u-2'), {
      checkLines: 2,
    });
    expect(inside).toEqual({ ok: true, unchanged: true });
  });
});
