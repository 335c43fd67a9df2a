/**
 * An instance's titles of group records (src/lib/chat/groups/listed-titles.ts): a read serves the welcomes of
 * its time, welcomes that need a record while it is read share the read, a failed read is not kept, and a
 * record the instance wrote is shown at once.
 */
import { describe, expect, it } from 'vitest';
import { ListedTitles } from '../../src/lib/chat/groups/listed-titles.js';
import type { GroupRecord } from '../../src/lib/conversations/index.js';

function record(group: string, title: string): GroupRecord {
  return { group, kind: 'channel', title, owners: ['ann'], members: ['ann'], version: 1 };
}

/** A record store of one group whose reads are counted and answered when the test says. */
function store(title: () => string | Error) {
  const reads: ((value?: unknown) => void)[] = [];
  return {
    reads,
    read: (group: string) =>
      new Promise<GroupRecord>((resolve, reject) => {
        reads.push(() => {
          const found = title();
          if (found instanceof Error) reject(found);
          else resolve(record(group, found));
        });
      }),
  };
}

describe('listed titles', () => {
  it('serves one read to every welcome of its time, shared while it runs, then reads again', async () => {
    let now = 0;
    let current = 'News';
    const records = store(() => current);
    const titles = new ListedTitles(records, { ttlMs: 1_000, now: () => now });
    const [a, b] = [titles.read('news'), titles.read('news')];
    expect(records.reads).toHaveLength(1);
    records.reads[0]?.();
    expect(await Promise.all([a, b])).toEqual([
      { title: 'News', kind: 'channel' },
      { title: 'News', kind: 'channel' },
    ]);
    current = 'Latest';
    now = 999;
    expect(await titles.read('news')).toEqual({ title: 'News', kind: 'channel' });
    now = 1_000;
    const fresh = titles.read('news');
    expect(records.reads).toHaveLength(2);
    records.reads[1]?.();
    expect(await fresh).toEqual({ title: 'Latest', kind: 'channel' });
  });

  it('keeps no failed read, and shows a record it wrote without a read', async () => {
    let answer: string | Error = new Error('Blob unreachable');
    const records = store(() => answer);
    const titles = new ListedTitles(records, { now: () => 0 });
    const failed = titles.read('news');
    records.reads[0]?.();
    await expect(failed).rejects.toThrow('Blob unreachable');
    answer = 'News';
    const again = titles.read('news');
    expect(records.reads).toHaveLength(2);
    records.reads[1]?.();
    expect(await again).toEqual({ title: 'News', kind: 'channel' });

    titles.learn({ ...record('news', 'Renamed'), version: 2 });
    expect(await titles.read('news')).toEqual({ title: 'Renamed', kind: 'channel' });
    expect(records.reads).toHaveLength(2);
  });

  it('forgets the groups read longest ago past its bound', async () => {
    const records = store(() => 'T');
    const titles = new ListedTitles(records, { maxGroups: 2, now: () => 0 });
    for (const group of ['a', 'b', 'c']) {
      const read = titles.read(group);
      records.reads.at(-1)?.();
      await read;
    }
    await titles.read('c');
    expect(records.reads).toHaveLength(3);
    const a = titles.read('a');
    expect(records.reads).toHaveLength(4);
    records.reads.at(-1)?.();
    await a;
  });
});
