/**
 * `cleanLine`: what a display name, a group's title or topic and a moderator's reason keep (known answers), and
 * the refusal of a title with nothing printable left.
 */
import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/lib/chat/index.js';
import { cleanLine, MAX_COMBINING_MARKS_IN_A_ROW } from '../../src/lib/display-name.js';

describe('cleanLine', () => {
  it.each([
    [' abc\u202edef ', 'abcdef'],
    ['x\u0000y\r\nz', 'xy z'],
    ['a\u200b\u200db', 'ab'],
    // Composed where Unicode composes: one character, no mark left.
    ['e\u0301', '\u00e9'],
    // Vietnamese: a vowel with two marks stays as it is.
    ['\u1ec7', '\u1ec7'],
    ['e\u0323\u0302', '\u1ec7'],
    // Devanagari: consonant, virama, consonant, vowel sign.
    ['\u0915\u094d\u0937\u093f', '\u0915\u094d\u0937\u093f'],
  ])('%j becomes %j', (raw, clean) => {
    expect(cleanLine(raw)).toBe(clean);
  });

  it(`keeps at most ${MAX_COMBINING_MARKS_IN_A_ROW} combining marks in a row`, () => {
    // NFC puts the marks in canonical order and composes what it can: á, then the rest of the pile.
    const cleaned = cleanLine(`a${'\u0301\u0316'.repeat(30)}b`);
    expect(cleaned).toBe(`\u00e1${'\u0316'.repeat(MAX_COMBINING_MARKS_IN_A_ROW)}b`);
    expect(cleanLine(`e${'\u0301'.repeat(63)}`)).toBe(
      `\u00e9${'\u0301'.repeat(MAX_COMBINING_MARKS_IN_A_ROW)}`,
    );
  });
});

describe('a title with nothing printable left', () => {
  it('is refused saying so, not with a length it never had', () => {
    const parsed = parseCommand('renameGroup', { group: 'team', title: '\u202e\u200b' });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.error.code).toBe('invalid-title');
    expect(parsed.error.message).toContain('nothing printable is left');
    expect(parsed.error.message).not.toContain('256');
  });
});
