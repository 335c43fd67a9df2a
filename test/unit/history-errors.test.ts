import { describe, expect, it } from 'vitest';
import { HISTORY_ERRORS, HistoryError, type HistoryErrorCode } from '../../src/lib/history/errors.js';

describe('history error catalogue', () => {
  it('gives every code a message, and every error its code, its catalogue text and the detail', () => {
    for (const [code, text] of Object.entries(HISTORY_ERRORS)) {
      expect(code).toMatch(/^[a-z]+(_[a-z]+)*$/);
      expect(text.length).toBeGreaterThan(10);
      const error = new HistoryError(code as HistoryErrorCode, 'what to fix');
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe('HistoryError');
      expect(error.code).toBe(code);
      expect(error.message).toBe(`${text}: what to fix`);
    }
  });
});
