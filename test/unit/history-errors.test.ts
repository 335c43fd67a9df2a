import { describe, expect, it } from 'vitest';
import { HISTORY_ERRORS, HistoryError, type HistoryErrorCode } from '../../src/lib/history/errors.js';

const KEBAB_CASE = /^[a-z]+(-[a-z]+)*$/;

describe('history error catalogue', () => {
  const entries = Object.entries(HISTORY_ERRORS);

  it('lists each code once, in kebab-case, with its own message and an error status', () => {
    expect(entries.length).toBeGreaterThan(0);
    for (const [code, entry] of entries) {
      expect(code).toMatch(KEBAB_CASE);
      expect(entry.message.trim().length).toBeGreaterThan(10);
      expect(Number.isInteger(entry.status) && entry.status >= 400 && entry.status <= 599, code).toBe(true);
    }
    const messages = entries.map(([, entry]) => entry.message);
    expect(new Set(messages).size).toBe(messages.length);
  });

  it('gives every error its code, its catalogue text and the detail', () => {
    for (const [code, entry] of entries) {
      const error = new HistoryError(code as HistoryErrorCode, 'what to fix');
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe('HistoryError');
      expect(error.code).toBe(code);
      expect(error.message).toBe(`${entry.message}: what to fix`);
    }
  });
});
