import { describe, expect, it } from 'vitest';
import { Rejection } from '../../src/local/service/errors.js';
import { RateLimiter } from '../../src/local/service/rate-limit.js';
import { FairScheduler, SHED } from '../../src/local/service/upstream/fair-scheduler.js';

/** A task that runs until released, recording when it started. */
function gated(log: string[], name: string) {
  let release!: () => void;
  const done = new Promise<void>((resolve) => {
    release = resolve;
  });
  return {
    task: async () => {
      log.push(name);
      await done;
      return name;
    },
    release: () => release(),
  };
}

describe('FairScheduler', () => {
  it("runs at most a lane's share at once, and another lane's call at once while the first waits", async () => {
    const scheduler = new FairScheduler(64, 2);
    const started: string[] = [];
    const flood = Array.from({ length: 5 }, (_, i) => gated(started, `flood-${i}`));
    const results = flood.map((g) => scheduler.run('flood', g.task));
    expect(started).toEqual(['flood-0', 'flood-1']);
    const ann = gated(started, 'ann-0');
    const annResult = scheduler.run('ann', ann.task);
    expect(started).toEqual(['flood-0', 'flood-1', 'ann-0']);
    flood[0]?.release();
    await results[0];
    await Promise.resolve();
    expect(started).toEqual(['flood-0', 'flood-1', 'ann-0', 'flood-2']);
    ann.release();
    for (const g of flood) g.release();
    await Promise.all([...results, annResult]);
    expect(started).toHaveLength(6);
  });

  it('takes waiting calls from the lanes in turn, so a long lane delays others by one turn at most', async () => {
    const scheduler = new FairScheduler(1);
    const started: string[] = [];
    const calls = [
      ...Array.from({ length: 6 }, (_, i) => ['flood', `flood-${i}`] as const),
      ['ann', 'ann-0'] as const,
      ['bo', 'bo-0'] as const,
      ['flood', 'flood-6'] as const,
      ['ann', 'ann-1'] as const,
    ];
    const byName = new Map<string, { release: () => void; result: Promise<unknown> }>(
      calls.map(([lane, name]) => {
        const g = gated(started, name);
        return [name, { ...g, result: scheduler.run(lane, g.task) }] as const;
      }),
    );
    expect(scheduler.stats).toMatchObject({ inFlight: 1, queued: 9, lanes: 3 });
    // Finish whichever call runs now; the scheduler then starts the next one.
    for (let i = 0; i < calls.length; i++) {
      const running = byName.get(started[i] as string);
      running?.release();
      await running?.result;
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(started).toEqual([
      'flood-0',
      'flood-1',
      'ann-0',
      'bo-0',
      'flood-2',
      'ann-1',
      'flood-3',
      'flood-4',
      'flood-5',
      'flood-6',
    ]);
  });

  it('skips a waiting call that is no longer wanted, without running it', async () => {
    const scheduler = new FairScheduler(1);
    const started: string[] = [];
    const first = gated(started, 'first');
    const firstResult = scheduler.run('a', first.task);
    let wanted = true;
    const skipped = scheduler.run('b', gated(started, 'gone').task, () => wanted);
    const next = gated(started, 'next');
    const nextResult = scheduler.run('c', next.task);
    wanted = false;
    first.release();
    expect(await firstResult).toBe('first');
    expect(await skipped).toBe(SHED);
    next.release();
    expect(await nextResult).toBe('next');
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual(['first', 'next']);
    expect(scheduler.stats).toMatchObject({ inFlight: 0, queued: 0, shed: 1, started: 2 });
  });
});

describe('RateLimiter', () => {
  it('allows a burst, then the sustained rate, and says when to retry', () => {
    let now = 0;
    const limiter = new RateLimiter(
      {
        perSecond: 2,
        burst: 3,
        optionNames: 'connectBurstPerUser, connectsPerSecondPerUser',
        who: 'this user',
      },
      () => now,
    );
    for (let i = 0; i < 3; i++) limiter.take('ann');
    let refused: unknown;
    try {
      limiter.take('ann');
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(Rejection);
    expect(refused).toMatchObject({
      status: 429,
      code: 'too-many-requests',
      headers: { 'Retry-After': '1' },
    });
    expect((refused as Error).message).toContain('connectBurstPerUser, connectsPerSecondPerUser');
    limiter.take('bo'); // another key has its own bucket
    now = 500; // one token back
    limiter.take('ann');
    expect(() => limiter.take('ann')).toThrow(Rejection);
  });
});
