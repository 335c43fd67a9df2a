import { describe, expect, it } from 'vitest';
import { BACKLOG_LOG_INTERVAL_MS, UserBacklog } from '../../src/local/service/upstream/user-backlog.js';

describe('UserBacklog', () => {
  it('admits up to the bound per key, whatever connection the message came from, and again once one ends', () => {
    const backlog = new UserBacklog(3);
    expect([1, 2, 3].map(() => backlog.admit('user:ann').admitted)).toEqual([true, true, true]);
    expect(backlog.admit('user:ann').admitted).toBe(false);
    // Another user is not held up by the first.
    expect(backlog.admit('user:bob').admitted).toBe(true);
    backlog.release('user:ann');
    expect(backlog.waiting('user:ann')).toBe(2);
    expect(backlog.admit('user:ann').admitted).toBe(true);
    expect(backlog.refused).toBe(1);
  });

  it('asks for one log line per interval, with the refusals counted since the last', () => {
    let now = 0;
    const backlog = new UserBacklog(1, () => now);
    backlog.admit('u');
    expect(backlog.admit('u')).toEqual({ admitted: false, toLog: 1 });
    expect(backlog.admit('u')).toEqual({ admitted: false, toLog: 0 });
    expect(backlog.admit('u')).toEqual({ admitted: false, toLog: 0 });
    now += BACKLOG_LOG_INTERVAL_MS;
    expect(backlog.admit('u')).toEqual({ admitted: false, toLog: 3 });
    expect(backlog.refused).toBe(4);
  });
});
