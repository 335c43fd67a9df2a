import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_CONCURRENT_HISTORY_READS, isHistoryRead } from '../../src/lib/chat/history-reads.js';
import { parseCommand } from '../../src/lib/chat/index.js';
import { ConcurrencyLimit } from '../../src/lib/concurrency-limit.js';
import { SETTINGS } from '../../src/lib/settings.js';

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

  it("bounds the chat's searches and history pages, with the setting's default written once", () => {
    expect(Number(SETTINGS.maxConcurrentHistoryReads.default)).toBe(DEFAULT_MAX_CONCURRENT_HISTORY_READS);
    const read = (target: string, payload: Record<string, unknown>) => {
      const parsed = parseCommand(target, payload);
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.error));
      return isHistoryRead(parsed.command);
    };
    expect(read('searchMessages', { conversation: 'room', query: 'hello' })).toBe(true);
    expect(read('loadHistory', { conversation: 'room' })).toBe(true);
    expect(read('sendMessage', { text: 'hello' })).toBe(false);
  });
});
