import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_TYPING_AUDIENCE,
  DEFAULT_TYPING_MIN_INTERVAL_MS,
  parseCommand,
  relayTyping,
  type TypingDependencies,
  TypingThrottle,
} from '../../src/lib/chat/index.js';

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

describe('typing in a crowd', () => {
  /** Where each relayed typing went, as the fan-out was asked to deliver it. */
  function relay(online: number, privateMembers?: number, extra: Partial<TypingDependencies> = {}) {
    const delivered: string[] = [];
    const deps = {
      members: { isMember: async () => true },
      fanout: {
        toAll: async () => void delivered.push('everyone'),
        toGroup: async (group: string) => void delivered.push(`group ${group}`),
        toUser: async (user: string) => void delivered.push(`user ${user}`),
      },
      presence: { count: () => online },
      groups: {
        records: {
          read: async (group: string) =>
            privateMembers === undefined
              ? { group, kind: 'channel' as const, title: group, owners: [], members: [], version: 1 }
              : {
                  group,
                  kind: 'private' as const,
                  title: group,
                  owners: ['ann'],
                  members: Array.from({ length: privateMembers }, (_, n) => `u${n}`),
                  version: 1,
                },
        },
      },
      maxTypingAudience: 3,
      ...extra,
    };
    const caller = { user: 'ann', connectionId: 'c1', dialect: 'signalr' as const };
    return {
      delivered,
      send: (conversation: string) => relayTyping(deps, caller, conversation),
    };
  }

  it('is relayed while the conversation has at most the bound online', async () => {
    const { delivered, send } = relay(3);
    await send('room');
    await send('group:crew');
    expect(delivered).toEqual(['everyone', 'group crew']);
  });

  it('is not relayed in the room or a channel with more online than the bound, always in a private conversation', async () => {
    const { delivered, send } = relay(DEFAULT_MAX_TYPING_AUDIENCE);
    await send('room');
    await send('group:lobby');
    await send('dm:ann:bob');
    expect(delivered).toEqual(['user bob']);
  });

  it('is relayed in a small private group however many are online', async () => {
    const small = relay(500, 3);
    await small.send('group:crew');
    expect(small.delivered).toEqual(['group crew']);
    const large = relay(500, 4);
    await large.send('group:crew');
    expect(large.delivered).toEqual([]);
  });

  it('is dropped without an answer from a muted or banned user, asked about only once the throttle lets it through', async () => {
    const asked: string[] = [];
    const silenced = async (user: string) => {
      asked.push(user);
      return true;
    };
    const muted = relay(1, undefined, { silenced, typing: new TypingThrottle({ now: () => 0 }) });
    expect(await muted.send('room')).toBeUndefined();
    expect(await muted.send('room')).toBeUndefined();
    expect(await muted.send('dm:ann:bob')).toBeUndefined();
    expect(muted.delivered).toEqual([]);
    // The second `room` one was throttled before the question.
    expect(asked).toEqual(['ann', 'ann']);
    const free = relay(1, undefined, { silenced: async () => false });
    await free.send('room');
    expect(free.delivered).toEqual(['everyone']);
  });
});
