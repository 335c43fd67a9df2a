import { describe, expect, it } from 'vitest';
import { ChannelDirectory, GroupRecordStore } from '../../src/lib/conversations/index.js';
import { useAzurite } from '../support/fixtures.js';

const blob = useAzurite();

describe('group records (Blob, ETag-conditional writes)', () => {
  it('keeps every one of many concurrent member changes made by two owners on two instances', async () => {
    const container = blob.container();
    await container.create();
    const [one, two] = [
      new GroupRecordStore(container),
      new GroupRecordStore(container, { writeAttempts: 50 }),
    ];
    await one.create({
      group: 'g',
      kind: 'private',
      title: 'g',
      owners: ['ann', 'bob'],
      members: ['ann', 'bob'],
    });
    const added = Array.from({ length: 16 }, (_, i) => `m${String(i).padStart(2, '0')}`);
    await Promise.all(
      added.map((user, i) =>
        (i % 2 === 0 ? one : two).change('g', (r) => ({ ...r, members: [...r.members, user] })),
      ),
    );
    const record = await one.read('g');
    expect([...(record?.members ?? [])].sort()).toEqual(['ann', 'bob', ...added]);
    expect(record?.version).toBe(1 + added.length);
  });

  it('refuses a second creation of one name and a change of a group without a record', async () => {
    const container = blob.container();
    await container.create();
    const store = new GroupRecordStore(container);
    await store.create({ group: 'x', kind: 'channel', title: 'x', owners: ['ann'], members: [] });
    await expect(
      store.create({ group: 'x', kind: 'private', title: 'x', owners: ['eve'], members: ['eve'] }),
    ).rejects.toMatchObject({ code: 'group-exists' });
    await expect(store.change('nothing', (r) => r)).rejects.toMatchObject({ code: 'unknown-group' });
    expect((await store.read('x'))?.owners).toEqual(['ann']);
  });

  it('pages the channel directory by name with a cursor', async () => {
    const container = blob.container();
    await container.create();
    const channels = new ChannelDirectory(container);
    for (const group of ['c', 'a', 'b'])
      await channels.put({
        group,
        kind: 'channel',
        title: group.toUpperCase(),
        owners: [],
        members: [],
        version: 1,
      });
    const first = await channels.page(2);
    expect(first.channels.map((c) => c.group)).toEqual(['a', 'b']);
    const second = await channels.page(2, first.next);
    expect(second).toEqual({ channels: [{ group: 'c', title: 'C' }] });
  });
});
