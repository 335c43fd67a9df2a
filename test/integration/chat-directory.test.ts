import { describe, expect, it } from 'vitest';
import { UserDirectory } from '../../src/lib/chat/people/directory.js';
import { useAzurite } from '../support/fixtures.js';

const blob = useAzurite();

describe('the directory of display names (Blob)', () => {
  it('records a name, reads it back on another instance, and leaves out ids without one', async () => {
    const container = blob.container();
    await container.create();
    await new UserDirectory(container).record('0f8fad5bd9cb469fa16570867728950e', 'Ann Lee');
    const other = new UserDirectory(container);
    await expect(other.nameOf('0f8fad5bd9cb469fa16570867728950e')).resolves.toBe('Ann Lee');
    await expect(other.nameOf('unknown')).resolves.toBeUndefined();
    await expect(other.namesOf(['0f8fad5bd9cb469fa16570867728950e', 'unknown'])).resolves.toEqual({
      '0f8fad5bd9cb469fa16570867728950e': 'Ann Lee',
    });
  });

  it('gives the names of ids named like Object.prototype members as own keys', async () => {
    const container = blob.container();
    await container.create();
    const ids = Object.getOwnPropertyNames(Object.prototype);
    const directory = new UserDirectory(container);
    for (const id of ids) await directory.record(id, `Name of ${id}`);
    const names = await new UserDirectory(container).namesOf([...ids, 'unknown']);
    expect(Object.keys(names).sort()).toEqual([...ids].sort());
    for (const id of ids) expect(Object.hasOwn(names, id) && names[id], id).toBe(`Name of ${id}`);
  });

  it('sees a rename once what it remembered is older than the cache time', async () => {
    const container = blob.container();
    await container.create();
    let now = 0;
    const reader = new UserDirectory(container, { cacheTtlMs: 1000, now: () => now });
    await new UserDirectory(container).record('ann', 'Ann');
    await expect(reader.nameOf('ann')).resolves.toBe('Ann');
    await new UserDirectory(container).record('ann', 'Ann Smith');
    await expect(reader.nameOf('ann')).resolves.toBe('Ann');
    now = 1000;
    await expect(reader.nameOf('ann')).resolves.toBe('Ann Smith');
  });

  it('shows no name for an entry that is not a clean display name', async () => {
    const container = blob.container();
    await container.create();
    const body = JSON.stringify({ name: '\u202e' });
    await container.getBlockBlobClient('_users/eve').upload(body, Buffer.byteLength(body));
    await expect(new UserDirectory(container).nameOf('eve')).resolves.toBeUndefined();
  });
});
