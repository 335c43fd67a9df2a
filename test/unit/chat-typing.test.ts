import { describe, expect, it } from 'vitest';
import { DEFAULT_TYPING_MIN_INTERVAL_MS, parseCommand, TypingThrottle } from '../../src/lib/chat/index.js';

describe('TypingThrottle', () => {
  it('lets one typing per user and conversation through per interval', () => {
    let now = 1_000_000;
    const throttle = new TypingThrottle({ now: () => now });
    expect(throttle.allow('ann', 'room')).toBe(true);
    expect(throttle.allow('ann', 'room')).toBe(false);
    // Another conversation, another user: their own intervals.
    expect(throttle.allow('ann', 'dm:ann:bob')).toBe(true);
    expect(throttle.allow('bob', 'room')).toBe(true);
    now += DEFAULT_TYPING_MIN_INTERVAL_MS - 1;
    expect(throttle.allow('ann', 'room')).toBe(false);
    now += 1;
    expect(throttle.allow('ann', 'room')).toBe(true);
  });

  it('forgets the oldest keys beyond its bound, which only lets one through', () => {
    const throttle = new TypingThrottle({ maxKeys: 2, now: () => 0 });
    expect(throttle.allow('a', 'room')).toBe(true);
    expect(throttle.allow('b', 'room')).toBe(true);
    expect(throttle.allow('c', 'room')).toBe(true);
    expect(throttle.allow('a', 'room')).toBe(true);
    expect(throttle.allow('c', 'room')).toBe(false);
  });
});

describe('the typing command', () => {
  it('takes a valid conversation id', () => {
    expect(parseCommand('typing', { conversation: 'group:x' })).toEqual({
      ok: true,
      command: { type: 'typing', conversation: 'group:x' },
    });
  });

  it.each([[{}], [{ conversation: 'nowhere' }], [{ conversation: 7 }]])('refuses %j', (payload) => {
    const result = parseCommand('typing', payload);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatchObject({ code: 'invalid-conversation', command: 'typing' });
  });
});
