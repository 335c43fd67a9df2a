/**
 * The page's twin of the conversation rules (static/conversation.js) against the server's
 * (src/lib/conversation.ts): the same exports, the same constants, and the same answer from every function
 * on one table of inputs, so the page never accepts a name the server refuses (or the other way round) and
 * writes every conversation id as the server does.
 */
import { describe, expect, it } from 'vitest';
import * as server from '../../src/lib/conversation.js';

// The page is plain JavaScript loaded by URL (the test build does not compile static/); its exports are
// compared with the server's, whose types describe it.
const page = (await import(new URL('../../static/conversation.js', import.meta.url).href)) as typeof server;

/** Names: valid, invalid and edge cases, including every name that means something to a plain object. */
const NAMES = [
  // valid
  'ann',
  'Ann Smith',
  'a_b-c.d',
  'Zoë',
  '李小龙',
  '田中さん',
  'Tanaka田中',
  'Иван',
  'x'.repeat(32),
  '𝒳'.repeat(32), // 32 code points, 64 UTF-16 units
  'a.',
  'ann.', // a trailing dot is a valid name (blob names escape it)
  '...',
  // names an object prototype knows
  '__proto__',
  'constructor',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  '__defineGetter__',
  'prototype',
  // invalid
  '',
  ' ',
  ' ann',
  'ann ',
  'an\tn',
  'x'.repeat(33),
  '𝒳'.repeat(33),
  'ann<script>',
  'a/b',
  'a:b',
  'a\\b',
  '🙂',
  '.',
  '..',
  'аnn', // Cyrillic а with Latin nn
  'ａｎｎ', // fullwidth
  '\ufb01sh', // the ligature fi
  'Zoe\u0308', // e + combining diaeresis
  'ann\u200b',
  'a\u202eb',
  'a\u3164b',
  '\u0000',
  'x²',
  'ΑΒΓ',
  'Ωmega',
];

const CONVERSATION_IDS = [
  'room',
  'Room',
  'room ',
  '',
  'group:hikers',
  'group:',
  'group:..',
  'group:.',
  'group:__proto__',
  'group:constructor',
  'group:a:b',
  'group: ann',
  `group:${'x'.repeat(32)}`,
  `group:${'x'.repeat(33)}`,
  'dm:ann:bob',
  'dm:bob:ann',
  'dm:Bob:ann',
  'dm:ann:ann',
  'dm:__proto__:constructor',
  'dm:constructor:__proto__',
  'dm:ann',
  'dm:ann:bob:carol',
  'dm::bob',
  'dm:..:ann',
  'dm:Zoë:李小龙',
  'elsewhere',
  '__proto__',
  'constructor',
];

const PAIRS: [string, string][] = [
  ['ann', 'bob'],
  ['bob', 'ann'],
  ['ann', 'Bob'],
  ['Zoë', 'zoe'],
  ['a.b', 'a-b'],
  ['ann', 'ann'],
  ['__proto__', 'constructor'],
  ['toString', 'valueOf'],
  ['李小龙', 'Иван'],
  ['𝒳', '\uffff'], // a surrogate pair against a high BMP unit: UTF-16 order, not code point order
  ['', 'ann'],
];

describe('the page twin of the conversation rules', () => {
  it('exports the same names as the server', () => {
    expect(Object.keys(page).sort()).toEqual(Object.keys(server).sort());
  });

  it('has the same constants', () => {
    const constants = Object.entries(server).filter(([, value]) => typeof value !== 'function');
    expect(constants.length).toBeGreaterThan(0);
    for (const [name, value] of constants)
      expect([name, page[name as keyof typeof page]]).toEqual([name, value]);
  });

  it('tests every function of the server module', () => {
    const functions = Object.entries(server)
      .filter(([, value]) => typeof value === 'function')
      .map(([name]) => name)
      .sort();
    expect(functions).toEqual(
      [
        'directConversation',
        'groupConversation',
        'isValidName',
        'nameProblem',
        'parseConversation',
        'scriptsOf',
      ].sort(),
    );
  });

  it.each(NAMES)('judges the name %j as the server does', (name) => {
    expect(page.nameProblem(name)).toBe(server.nameProblem(name));
    expect(page.nameProblem(name, 'user')).toBe(server.nameProblem(name, 'user'));
    expect(page.nameProblem(name, 'group')).toBe(server.nameProblem(name, 'group'));
    expect(page.isValidName(name)).toBe(server.isValidName(name));
    expect([...page.scriptsOf(name)]).toEqual([...server.scriptsOf(name)]);
    expect(page.groupConversation(name)).toBe(server.groupConversation(name));
  });

  it.each([undefined, null, 42, {}, ['ann']])('refuses the non-name %j as the server does', (value) => {
    expect(page.isValidName(value)).toBe(false);
    expect(server.isValidName(value)).toBe(false);
  });

  it.each(CONVERSATION_IDS)('parses the conversation id %j as the server does', (id) => {
    expect(page.parseConversation(id)).toEqual(server.parseConversation(id));
  });

  it.each(PAIRS)('writes the private conversation of %j and %j as the server does', (a, b) => {
    expect(page.directConversation(a, b)).toBe(server.directConversation(a, b));
  });

  it('agrees with the server on known answers, so both are not wrong together', () => {
    expect(page.directConversation('ann', 'Bob')).toBe('dm:Bob:ann');
    expect(page.parseConversation('group:hikers')).toEqual({ kind: 'group', group: 'hikers' });
    expect(page.parseConversation('dm:bob:ann')).toBeUndefined(); // not in sorted order
    expect(page.isValidName('constructor')).toBe(true);
    expect(page.isValidName('..')).toBe(false);
    expect(page.nameProblem('ａｎｎ')).toMatch(/plain form: "ann"/);
  });
});
