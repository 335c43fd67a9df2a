import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/lib/chat/commands.js';
import { MAX_TEXT_LENGTH } from '../../src/lib/conversation.js';
import { MAX_PEOPLE_PAGE_SIZE } from '../../src/lib/conversations/index.js';

const ID = '01JDZ5Q8W3C0M6T5V4P2N1K9XH';
const at = { conversation: 'group:crew', messageId: ID };

describe('editMessage and deleteMessage at the edge', () => {
  it('accepts an edit and a delete of a message id in a valid conversation', () => {
    expect(parseCommand('editMessage', { ...at, text: 'fixed', clientMessageId: 'c1' })).toEqual({
      ok: true,
      command: { type: 'editMessage', ...at, text: 'fixed', clientMessageId: 'c1' },
    });
    expect(parseCommand('deleteMessage', { ...at, text: 'ignored' })).toEqual({
      ok: true,
      command: { type: 'deleteMessage', ...at },
    });
  });

  it.each([
    [
      'a conversation that is not one',
      { ...at, conversation: 'dm:bob:ann', text: 'x' },
      'invalid-conversation',
    ],
    ['an id that is not a message id', { ...at, messageId: 'x'.repeat(26), text: 'x' }, 'invalid-message-id'],
    ['a blank text', { ...at, text: '  ' }, 'text-missing'],
    ['a text over the limit', { ...at, text: 'x'.repeat(MAX_TEXT_LENGTH + 1) }, 'text-too-long'],
    ['an empty clientMessageId', { ...at, text: 'x', clientMessageId: '' }, 'invalid-client-message-id'],
  ])('refuses an edit with %s', (_, payload, code) => {
    expect(parseCommand('editMessage', payload)).toMatchObject({ ok: false, error: { code } });
  });

  it('names the clientMessageId of a refused edit, so the sender knows which one', () => {
    expect(parseCommand('editMessage', { ...at, text: '', clientMessageId: 'c2' })).toMatchObject({
      ok: false,
      error: { code: 'text-missing', command: 'editMessage', clientMessageId: 'c2' },
    });
  });
});

describe('findPeople at the edge', () => {
  it('takes a query and a bounded limit, 20 by default', () => {
    expect(parseCommand('findPeople', { query: 'an' })).toEqual({
      ok: true,
      command: { type: 'findPeople', query: 'an', limit: 20 },
    });
    expect(parseCommand('findPeople', { query: 'an', limit: 2, after: 'token' })).toEqual({
      ok: true,
      command: { type: 'findPeople', query: 'an', limit: 2, after: 'token' },
    });
  });

  it.each([
    ['no query', {}, 'invalid-query'],
    ['a blank query', { query: ' ' }, 'invalid-query'],
    ['a query longer than a name', { query: 'x'.repeat(33) }, 'invalid-query'],
    ['a limit over the maximum', { query: 'a', limit: MAX_PEOPLE_PAGE_SIZE + 1 }, 'invalid-limit'],
    ['an empty cursor', { query: 'a', after: '' }, 'invalid-after'],
    ['a cursor that is not text', { query: 'a', after: 3 }, 'invalid-after'],
    ['a cursor longer than any next', { query: 'a', after: 'x'.repeat(1025) }, 'invalid-after'],
  ])('refuses %s', (_, payload, code) => {
    expect(parseCommand('findPeople', payload)).toMatchObject({ ok: false, error: { code } });
  });
});
