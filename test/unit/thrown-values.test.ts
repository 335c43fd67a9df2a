import { describe, expect, it } from 'vitest';
import { describeError, messageOf } from '../../src/lib/error-message.js';
import { isRecord } from '../../src/lib/is-record.js';

describe('the text of a thrown value', () => {
  it("is an Error's message, and anything else thrown as a string", () => {
    expect(messageOf(new TypeError('x is undefined'))).toBe('x is undefined');
    expect(messageOf('plain text')).toBe('plain text');
    expect(messageOf(42)).toBe('42');
    expect(messageOf(undefined)).toBe('undefined');
  });

  it("is led by the error's name when described for a log", () => {
    expect(describeError(new TypeError('x is undefined'))).toBe('TypeError: x is undefined');
    expect(describeError('plain text')).toBe('plain text');
  });
});

describe('isRecord', () => {
  it('accepts a JSON object and nothing else', () => {
    expect(isRecord(JSON.parse('{"a":1}'))).toBe(true);
    expect(isRecord({})).toBe(true);
    for (const value of [null, [], [1], 'text', 1, true, undefined]) expect(isRecord(value)).toBe(false);
  });
});
