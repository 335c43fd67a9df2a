import { describe, expect, it } from 'vitest';
import { BACKLOG_LOG_INTERVAL_MS, UserBacklog } from '../../src/local/service/upstream/user-backlog.js';

describe('UserBacklog', () => {
  it('admits up to the bound per key, whatever connection the message came from, and again once one ends', () => {
    const backlog = new UserBacklog({ perUser: 3, total: 100 });
    expect([1, 2, 3].map(() => backlog.admit('user:ann').admitted)).toEqual([true, true, true]);
    expect(backlog.admit('user:ann')).toMatchObject({ admitted: false, bound: 'perUser' });
    // Another user is not held up by the first.
    expect(backlog.admit('user:bob').admitted).toBe(true);
    backlog.release('user:ann');
    expect(backlog.waiting('user:ann')).toBe(2);
    expect(backlog.admit('user:ann').admitted).toBe(true);
    expect(backlog.refused).toBe(1);
  });

  it('past the total admits only a key with nothing waiting, one message each, until some end', () => {
    const backlog = new UserBacklog({ perUser: 10, total: 4 });
    // Two flooders fill the total between them.
    expect([1, 2].map(() => backlog.admit('user:f1').admitted)).toEqual([true, true]);
    expect([1, 2].map(() => backlog.admit('user:f2').admitted)).toEqual([true, true]);
    expect(backlog.admit('user:f1')).toMatchObject({ admitted: false, bound: 'total' });
    expect(backlog.admit('user:f3').admitted).toBe(true);
    expect(backlog.admit('user:f3')).toMatchObject({ admitted: false, bound: 'total' });
    // Someone with nothing waiting is still served, once.
    expect(backlog.admit('user:calm').admitted).toBe(true);
    expect(backlog.admit('user:calm')).toMatchObject({ admitted: false, bound: 'total' });
    expect(backlog.total).toBe(6);
    // Below the total again, a key with messages waiting gets more.
    for (const key of ['user:f1', 'user:f2', 'user:f3']) backlog.release(key);
    expect(backlog.total).toBe(3);
    expect(backlog.admit('user:f1').admitted).toBe(true);
    expect(backlog.admit('user:f1')).toMatchObject({ admitted: false, bound: 'total' });
  });

  it('asks for one log line per interval, with the refusals counted since the last', () => {
    let now = 0;
    const backlog = new UserBacklog({ perUser: 1, total: 100 }, () => now);
    backlog.admit('u');
    expect(backlog.admit('u')).toEqual({ admitted: false, bound: 'perUser', toLog: 1 });
    expect(backlog.admit('u')).toEqual({ admitted: false, bound: 'perUser', toLog: 0 });
    expect(backlog.admit('u')).toEqual({ admitted: false, bound: 'perUser', toLog: 0 });
    now += BACKLOG_LOG_INTERVAL_MS;
    expect(backlog.admit('u')).toEqual({ admitted: false, bound: 'perUser', toLog: 3 });
    expect(backlog.refused).toBe(4);
  });
});
