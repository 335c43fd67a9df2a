import { describe, expect, it } from 'vitest';
import { commandConversation, parseCommand, parseCommandFrame } from '../../src/lib/chat/commands.js';
import { CHAT_ERRORS } from '../../src/lib/chat/errors.js';
import { fromServiceUserId, toServiceUserId } from '../../src/lib/chat/people/user-id.js';
import { signalrCodec, websocketCodec } from '../../src/lib/chat/wire/codec.js';
import {
  directConversation,
  MAX_TEXT_LENGTH,
  nameProblem,
  parseConversation,
} from '../../src/lib/conversation.js';

describe('names', () => {
  it.each(['ann', 'Zoë', 'a.b-c_d e', '张伟', 'x'.repeat(32)])('accepts %j', (name) => {
    expect(nameProblem(name)).toBeUndefined();
  });
  it.each(['', 'x'.repeat(33), 'a:b', 'a/b', '<b>', ' ann', 'ann ', 'a\u0000'])('refuses %j', (name) => {
    expect(nameProblem(name)).toBeTypeOf('string');
  });
  it.each(['Ελένη', 'Иван', '田中さん', 'Tanaka田中', '김민준', '...', 'a.b'])(
    'accepts %j (one script, or Latin with CJK)',
    (name) => {
      expect(nameProblem(name)).toBeUndefined();
    },
  );
  it.each([
    ['.', /path step/],
    ['..', /path step/],
    ['\u0430nn', /mixes scripts \(Cyrillic, Latin\)/], // Cyrillic а
    ['p\u0430yp\u0430l', /mixes scripts/],
    ['Ελένη x', /mixes scripts/],
    ['\uff41\uff4e\uff4e', /plain form: "ann"/], // fullwidth
    ['\ufb01sh', /plain form: "fish"/], // the ligature fi
    ['Zoe\u0308', /plain form: "Zo\u00eb"/], // e + combining diaeresis
    ['ann\u200b', /invisible.*U\+200B/], // zero-width space
    ['ann\u200d', /invisible.*U\+200D/], // zero-width joiner
    ['a\u202eb', /text-direction.*U\+202E/], // right-to-left override
    ['a\u2066b', /U\+2066/], // left-to-right isolate
    ['\u3164', /invisible.*U\+3164/], // Hangul filler, a letter that shows as nothing
    ['a\u00adb', /U\+00AD/], // soft hyphen
  ])('refuses %j with a reason', (name, reason) => {
    expect(nameProblem(name)).toMatch(reason);
    expect(nameProblem(name, 'group')).toMatch(/^The group name/);
  });
  it('builds and parses conversation ids (dm names sorted)', () => {
    expect(directConversation('bob', 'ann')).toBe('dm:ann:bob');
    expect(parseConversation('dm:ann:bob')).toEqual({ kind: 'dm', users: ['ann', 'bob'] });
    expect(parseConversation('dm:bob:ann')).toBeUndefined();
    expect(parseConversation('group:team a')).toEqual({ kind: 'group', group: 'team a' });
    expect(parseConversation('room')).toEqual({ kind: 'room' });
    expect(parseConversation('lobby')).toBeUndefined();
  });
});

describe('commands', () => {
  it('parses each command of both dialects', () => {
    expect(parseCommandFrame('{"type":"sendMessage","text":"hi","clientMessageId":"c1"}')).toEqual({
      ok: true,
      command: { type: 'sendMessage', text: 'hi', clientMessageId: 'c1' },
    });
    expect(parseCommand('loadHistory', { conversation: 'room' })).toEqual({
      ok: true,
      command: { type: 'loadHistory', conversation: 'room', limit: 50 },
    });
    expect(parseCommand('joinGroup', { group: 'team' })).toEqual({
      ok: true,
      command: { type: 'joinGroup', group: 'team' },
    });
  });

  it.each([
    ['not json', 'malformed'],
    ['[1]', 'malformed'],
    ['{"type":"explode"}', 'unknown-command'],
    ['{"type":"sendMessage"}', 'text-missing'],
    ['{"type":"sendMessage","text":"   "}', 'text-missing'],
    [JSON.stringify({ type: 'sendMessage', text: 'x'.repeat(MAX_TEXT_LENGTH + 1) }), 'text-too-long'],
    ['{"type":"sendMessage","text":"x","group":"g","to":"bob"}', 'group-and-to'],
    ['{"type":"sendMessage","text":"x","group":"a:b"}', 'invalid-group'],
    ['{"type":"sendMessage","text":"x","to":5}', 'invalid-user'],
    ['{"type":"sendMessage","text":"x","clientMessageId":""}', 'invalid-client-message-id'],
    ['{"type":"loadHistory","conversation":"lobby"}', 'invalid-conversation'],
    ['{"type":"loadHistory","conversation":"room","limit":101}', 'invalid-limit'],
    ['{"type":"loadHistory","conversation":"room","limit":1.5}', 'invalid-limit'],
    ['{"type":"loadHistory","conversation":"room","before":7}', 'invalid-before'],
    ['{"type":"joinGroup"}', 'invalid-group'],
  ])('refuses %s with %s', (frame, code) => {
    const result = parseCommandFrame(frame);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe(code);
  });

  it('says what is wrong with a `before` that is no message id', () => {
    const result = parseCommandFrame('{"type":"loadHistory","conversation":"room","before":7}');
    expect(result.ok ? undefined : result.error.message).toBe(
      '"before" must be the id of a message of this conversation, as the previous page or searchResults gave it: a number is not a string of 1 to 64 characters',
    );
  });

  describe('message text', () => {
    const refusal = (name: string, payload: object) => {
      const result = parseCommand(name, payload);
      return result.ok ? 'ok' : { code: result.error.code, message: result.error.message };
    };
    const edit = { conversation: 'room', messageId: '01JDZ5Q8W3C0M6T5V4P2N1K9XH' };

    it.each([
      ['zero-width spaces only', '\u200b\u200b', 'text-missing', 'invisible'],
      ['a word joiner, a BOM and a Hangul filler', '\u2060\ufeff\u3164 ', 'text-missing', 'invisible'],
      [
        'a lone high surrogate',
        'a\ud800b',
        'invalid-text',
        'U+D800 (half of a surrogate pair, alone) at character 2',
      ],
      [
        'a lone low surrogate at the end',
        '😀\udc00',
        'invalid-text',
        'U+DC00 (half of a surrogate pair, alone) at character 2',
      ],
      ['a NUL', 'a\u0000b', 'invalid-text', 'U+0000 (a control character) at character 2'],
      ['an escape', 'red\u001b[31m', 'invalid-text', 'U+001B'],
      ['DEL', 'a\u007f', 'invalid-text', 'U+007F'],
      ['a C1 control', 'a\u0085', 'invalid-text', 'U+0085'],
    ])('refuses %s in a send and an edit', (_, text, code, said) => {
      for (const [name, payload] of [
        ['sendMessage', { text }],
        ['editMessage', { ...edit, text }],
      ] as const) {
        const refused = refusal(name, payload);
        expect(refused, name).toMatchObject({ code });
        expect((refused as { message: string }).message, name).toContain(said);
      }
    });

    it('keeps newlines, tabs, joiners inside emoji and right-to-left marks, and makes CRLF and CR newlines', () => {
      for (const text of ['a\n\tb', '👩\u200d💻', 'שלום\u200f!', '❤\ufe0f']) {
        expect(parseCommand('sendMessage', { text })).toEqual({
          ok: true,
          command: { type: 'sendMessage', text },
        });
      }
      expect(parseCommand('sendMessage', { text: 'a\r\nb\rc' })).toEqual({
        ok: true,
        command: { type: 'sendMessage', text: 'a\nb\nc' },
      });
      expect(parseCommand('editMessage', { ...edit, text: 'x\r\ny' })).toEqual({
        ok: true,
        command: { type: 'editMessage', ...edit, text: 'x\ny' },
      });
    });

    it('lets a message with an attachment have no visible text, but not a broken one', () => {
      const attachment = { blob: 'b', name: 'a.png', type: 'image/png', size: 1 };
      expect(refusal('sendMessage', { text: '\u200b', attachment })).toBe('ok');
      expect(refusal('sendMessage', { text: '\u0000', attachment })).toMatchObject({ code: 'invalid-text' });
    });
  });

  it('accepts a text of exactly the maximum length in characters, not UTF-16 units', () => {
    expect(parseCommand('sendMessage', { text: '😀'.repeat(MAX_TEXT_LENGTH) }).ok).toBe(true);
  });

  it('has kebab-case codes, each with a message that says what to fix', () => {
    for (const [code, message] of Object.entries(CHAT_ERRORS)) {
      expect(code).toMatch(/^[a-z]+(-[a-z]+)*$/);
      expect(message.length).toBeGreaterThan(10);
    }
  });

  it('states the limit a command broke in the message', () => {
    const message = (name: string, payload: unknown) => {
      const result = parseCommand(name, payload);
      return result.ok ? undefined : result.error.message;
    };
    expect(message('loadHistory', { conversation: 'room', limit: 101 })).toContain('from 1 to 100');
    expect(message('sendMessage', { text: 'x', clientMessageId: 'x'.repeat(101) })).toContain('1–100');
    expect(message('sendMessage', { text: 'x'.repeat(4001) })).toContain('at most 4000');
    expect(message('listOnline', { limit: 501 })).toContain('from 1 to 500');
    expect(message('listOnline', { after: 'x'.repeat(33) })).toContain('1–32');
  });

  it('listOnline takes an optional cursor and limit', () => {
    expect(parseCommand('listOnline', {})).toEqual({ ok: true, command: { type: 'listOnline', limit: 100 } });
    expect(parseCommand('listOnline', { after: 'bob', limit: 2 })).toEqual({
      ok: true,
      command: { type: 'listOnline', after: 'bob', limit: 2 },
    });
    expect(parseCommand('listOnline', { after: 3 })).toMatchObject({
      ok: false,
      error: { code: 'invalid-after' },
    });
    expect(parseCommand('listOnline', { limit: 0 })).toMatchObject({
      ok: false,
      error: { code: 'invalid-limit' },
    });
  });
});

describe('the conversation a command concerns', () => {
  it.each([
    ['sendMessage', { text: 'hi' }, 'room'],
    ['sendMessage', { text: 'hi', group: 'hikers' }, 'group:hikers'],
    ['sendMessage', { text: 'hi', to: 'ann' }, 'dm:ann:zed'],
    ['joinGroup', { group: 'hikers' }, 'group:hikers'],
    ['createGroup', { group: 'hikers', kind: 'nope' }, 'group:hikers'],
    ['removeFromChannel', { group: 'hikers', user: 'bob' }, 'group:hikers'],
    ['loadHistory', { conversation: 'dm:ann:bob' }, 'dm:ann:bob'],
    ['reportMessage', { conversation: 'room' }, 'room'],
  ])('%s %j: %s', (type, fields, conversation) => {
    expect(commandConversation(type, fields, 'zed')).toBe(conversation);
  });

  it.each([
    ['sendMessage', { text: 'hi', group: '..' }],
    ['sendMessage', { text: 'hi', group: null }],
    ['sendMessage', { text: 'hi', to: ' ann' }],
    ['sendMessage', { text: 'hi', group: 'hikers', to: 'ann' }],
    ['joinGroup', {}],
    ['joinGroup', { group: 'a\u200bb' }],
    ['loadHistory', { conversation: 'dm:bob:ann' }],
    ['typing', { conversation: 7 }],
    ['listChannels', { group: 'hikers' }],
    ['muteUser', { user: 'bob', conversation: 'room' }],
  ])('%s %j: none', (type, fields) => {
    expect(commandConversation(type, fields, 'zed')).toBeUndefined();
  });
});

describe('codecs', () => {
  it('encode an event per dialect (the chat protocol)', () => {
    const payload = { joined: ['ann'], left: [], count: 1, at: 5 };
    const event = { event: 'presence', payload } as const;
    expect(signalrCodec.encode(event)).toEqual({ target: 'presence', arguments: [payload] });
    expect(websocketCodec.encode(event)).toBe(
      '{"joined":["ann"],"left":[],"count":1,"at":5,"type":"presence"}',
    );
  });

  it('never let a payload override the frame type', () => {
    const payload = { joined: [], left: [], count: 0, at: 0, type: 'welcome' };
    const event = { event: 'presence', payload } as const;
    expect(JSON.parse(websocketCodec.encode(event))).toMatchObject({ type: 'presence' });
  });
});

describe('service user ids', () => {
  it('keep ASCII names as they are and percent-encode the rest reversibly', () => {
    expect(toServiceUserId('ann lee')).toBe('ann lee');
    expect(toServiceUserId('Zoë')).toBe('Zo%C3%AB');
    expect(toServiceUserId('张伟')).toBe('%E5%BC%A0%E4%BC%9F');
    for (const name of ['ann', 'Zoë', '张伟', 'a.b-c_d e'])
      expect(fromServiceUserId(toServiceUserId(name))).toBe(name);
  });
  it('refuse ids this app would not issue', () => {
    expect(fromServiceUserId(undefined)).toBeUndefined();
    expect(fromServiceUserId('%61nn')).toBeUndefined();
    expect(fromServiceUserId('%E5')).toBeUndefined();
    expect(fromServiceUserId('a:b')).toBeUndefined();
  });
});
