import { describe, expect, it } from 'vitest';
import { MAX_TEXT_LENGTH } from '../../src/lib/conversation.js';
import {
  DEFAULT_MAX_BLOCK_BYTES,
  DEFAULT_READ_CHUNK_BYTES,
  DEFAULT_SEGMENT_BLOCK_LIMIT,
  HISTORY_LIMITS,
  type HistoryLimitName,
  type HistoryLimitSpec,
  historyStoreOptionsFromSettings,
  storeLimits,
} from '../../src/lib/history/options.js';

const names = Object.keys(HISTORY_LIMITS) as HistoryLimitName[];

describe('history store limits, declared once', () => {
  it('fills in each default as it was documented', () => {
    expect(storeLimits({})).toEqual({
      segmentBlockLimit: 49_000,
      readChunkBytes: 64 * 1024,
      maxTextLength: MAX_TEXT_LENGTH,
      dedupeWindowMs: 3_600_000,
      dedupeTailBytes: 1024 * 1024,
      maxDedupeIds: 100_000,
      reorderWindowMs: 300_000,
      maxCachedConversations: 10_000,
      maxMessagesPerBlock: 100,
      maxBlockBytes: 1024 * 1024,
      maxQueuedAppends: 1_000,
      contendedBlockIntervalMs: 100,
    });
    expect([DEFAULT_SEGMENT_BLOCK_LIMIT, DEFAULT_READ_CHUNK_BYTES, DEFAULT_MAX_BLOCK_BYTES]).toEqual([
      49_000, 65_536, 1_048_576,
    ]);
  });

  it('takes each limit at its bounds and refuses one past them or not whole, naming it and its range', () => {
    for (const name of names) {
      const { min, max }: HistoryLimitSpec = HISTORY_LIMITS[name];
      const range = `${name} must be a whole number from ${min} to ${max ?? Number.MAX_SAFE_INTEGER}`;
      expect(storeLimits({ [name]: min })[name], name).toBe(min);
      expect(() => storeLimits({ [name]: min - 1 }), name).toThrow(
        new RangeError(`The history store option ${range}; got ${min - 1}`),
      );
      expect(() => storeLimits({ [name]: min + 0.5 }), name).toThrow(RangeError);
      if (max !== undefined) {
        expect(storeLimits({ [name]: max })[name], name).toBe(max);
        expect(() => storeLimits({ [name]: max + 1 }), name).toThrow(`${range}; got ${max + 1}`);
      }
    }
  });

  it('reads CHAT_HISTORY_SEGMENT_BLOCK_LIMIT within the same range', () => {
    const env = { CHAT_HISTORY_STORAGE: 'UseDevelopmentStorage=true' };
    expect(historyStoreOptionsFromSettings(env).segmentBlockLimit).toBe(49_000);
    expect(
      historyStoreOptionsFromSettings({ ...env, CHAT_HISTORY_SEGMENT_BLOCK_LIMIT: '50000' })
        .segmentBlockLimit,
    ).toBe(50_000);
    expect(() => historyStoreOptionsFromSettings({ ...env, CHAT_HISTORY_SEGMENT_BLOCK_LIMIT: '0' })).toThrow(
      'The app setting CHAT_HISTORY_SEGMENT_BLOCK_LIMIT must be a whole number from 1 to 50000, not "0"',
    );
  });
});
