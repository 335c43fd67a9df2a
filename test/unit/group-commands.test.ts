import { describe, expect, it } from 'vitest';
import { commandCost } from '../../src/lib/chat/command-quota.js';
import { parseCommand } from '../../src/lib/chat/commands.js';
import { MAX_CHANNEL_PAGE_SIZE } from '../../src/lib/conversations/index.js';

const codeOf = (name: string, payload: unknown) => {
  const result = parseCommand(name, payload);
  return result.ok ? 'ok' : result.error.code;
};

describe('group commands', () => {
  it('accepts a private group with members, deduplicated, and a channel with a topic', () => {
    expect(parseCommand('createGroup', { group: 'team', members: ['bob', 'bob', 'cy'] })).toEqual({
      ok: true,
      command: { type: 'createGroup', group: 'team', kind: 'private', members: ['bob', 'cy'] },
    });
    expect(parseCommand('createGroup', { group: 'lobby', kind: 'channel', topic: ' hello ' })).toEqual({
      ok: true,
      command: { type: 'createGroup', group: 'lobby', kind: 'channel', members: [], topic: 'hello' },
    });
  });

  it('refuses each malformed payload with its own code', () => {
    expect(codeOf('createGroup', { group: 'a', kind: 'secret' })).toBe('invalid-kind');
    expect(codeOf('createGroup', { group: 'a', members: 'bob' })).toBe('invalid-members');
    expect(codeOf('createGroup', { group: 'a', kind: 'channel', members: ['bob'] })).toBe('invalid-members');
    expect(codeOf('createGroup', { group: 'a', members: ['a\u200bb'] })).toBe('invalid-user');
    // Past the largest a setting may allow; the configured limits are the handlers' (chat-groups.test.ts).
    expect(codeOf('createGroup', { group: 'a', title: 'x'.repeat(257) })).toBe('invalid-title');
    expect(codeOf('createGroup', { group: 'a', topic: 'x'.repeat(2001) })).toBe('invalid-topic');
    expect(codeOf('createGroup', { group: '..' })).toBe('invalid-group');
    expect(codeOf('addMember', { group: 'a' })).toBe('invalid-user');
    expect(codeOf('addMember', { group: 'a', user: 'b', owner: 'yes' })).toBe('invalid-owner');
    expect(codeOf('renameGroup', { group: 'a', title: '   ' })).toBe('invalid-title');
    expect(codeOf('setTopic', { group: 'a' })).toBe('invalid-topic');
    expect(codeOf('listChannels', { limit: MAX_CHANNEL_PAGE_SIZE + 1 })).toBe('invalid-limit');
    expect(codeOf('listChannels', { after: '' })).toBe('invalid-after');
  });

  it('cleans titles and topics as display names: one line, no controls or invisible format characters', () => {
    const created = parseCommand('createGroup', {
      group: 'team',
      title: ' abc\u202edef ',
      topic: 'line one\nline\u200b two\u0007',
    });
    expect(created).toMatchObject({ ok: true, command: { title: 'abcdef', topic: 'line one line two' } });
    expect(parseCommand('renameGroup', { group: 'team', title: 'e\u0301\r\n\u2066x' })).toMatchObject({
      ok: true,
      command: { title: '\u00e9 x' },
    });
    // Nothing printable left: refused, never stored empty.
    expect(codeOf('createGroup', { group: 'a', title: '\u202e\u200b' })).toBe('invalid-title');
    expect(codeOf('renameGroup', { group: 'a', title: '\u0000' })).toBe('invalid-title');
    expect(codeOf('setTopic', { group: 'a', topic: '\u202e' })).toBe('invalid-topic');
    // The ceilings count what is left once cleaned.
    expect(codeOf('createGroup', { group: 'a', title: `${'x'.repeat(256)}\u200b\u200b` })).toBe('ok');
  });

  it('charges a createGroup one command per started ten members, its creator included', () => {
    const cost = (payload: unknown, per?: number) => {
      const parsed = parseCommand('createGroup', payload);
      if (!parsed.ok) throw new Error(parsed.error.message);
      return commandCost(parsed.command, 'ann', per);
    };
    const members = (n: number) => Array.from({ length: n }, (_, i) => `m${i}`);
    expect(cost({ group: 'a' })).toBe(1);
    expect(cost({ group: 'a', members: members(9) })).toBe(1);
    expect(cost({ group: 'a', members: [...members(9), 'ann'] })).toBe(1);
    expect(cost({ group: 'a', members: members(10) })).toBe(2);
    expect(cost({ group: 'a', members: members(255) })).toBe(26);
    expect(cost({ group: 'a', members: members(5) }, 2)).toBe(3);
    const join = parseCommand('joinGroup', { group: 'a' });
    expect(join.ok && commandCost(join.command, 'ann')).toBe(1);
  });

  it('lets an empty topic clear it and pages the directory by default size', () => {
    expect(codeOf('setTopic', { group: 'a', topic: '' })).toBe('ok');
    expect(parseCommand('listChannels', {})).toEqual({
      ok: true,
      command: { type: 'listChannels', limit: 20 },
    });
  });
});
