/**
 * Lists and read positions moved into the users' folders (`_members/<user>/$list`, `$reads`): those still at
 * their old names (`_lists/<user>`, `_reads/<user>`) are shown at a join and moved by the user's next write,
 * through the whole local stack; and the stores alone, against the same Azurite: an old name is read only
 * while blobs at old names exist, the probe for them is made again after its interval, a list or positions
 * at the ETag an instance last read or wrote are not read again, and two instances moving one user's list
 * both land.
 */
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { describe, expect, it } from 'vitest';
import { MembershipStore } from '../../src/lib/chat/groups/memberships.js';
import { ReadPositionStore } from '../../src/lib/chat/reading/positions.js';
import type { ConversationEntry } from '../../src/lib/conversations/entry.js';
import { ConversationListStore } from '../../src/lib/conversations/list-store.js';
import { LIST_BLOB, READS_BLOB, userFolderPrefix } from '../../src/lib/user-folder.js';
import { ask, type ChatClient, isGroupRecord, isMessage } from '../support/chat-clients.js';
import { useChatStack } from '../support/fixtures.js';
import { startRecordingProxy } from '../support/recording-proxy.js';

const chat = useChatStack();

const containerOf = (name: string): ContainerClient =>
  BlobServiceClient.fromConnectionString(chat.stack.blob.connectionString).getContainerClient(name);

async function putJson(container: ContainerClient, name: string, value: unknown): Promise<void> {
  const body = JSON.stringify(value);
  await container.getBlockBlobClient(name).upload(body, Buffer.byteLength(body));
}

async function getJson(container: ContainerClient, name: string): Promise<unknown> {
  const blob = container.getBlockBlobClient(name);
  if (!(await blob.exists())) return undefined;
  return JSON.parse((await blob.downloadToBuffer()).toString('utf8'));
}

/** The conversations of the client's welcome. */
function listed(client: ChatClient): string[] {
  const welcome = client.events.find((e) => e.type === 'welcome');
  if (welcome === undefined) throw new Error(`${client.user} has no welcome`);
  const list = welcome.payload.conversations as { entries: { conversation: string }[] };
  return list.entries.map((e) => e.conversation);
}

const dm = (a: string, b: string): ConversationEntry => ({
  conversation: `dm:${[a, b].sort().join(':')}`,
  kind: 'dm',
  with: b,
  addedAt: '2024-01-01T00:00:00.000Z',
});

describe('lists and read positions at their old names', () => {
  // First in the file: the Functions instance probes for old names at its first join, and finds these.
  it('are shown at a join, and moved by the next list change and read mark', async () => {
    const container = containerOf('chat-history');
    await container.createIfNotExists();
    const user = 'mover';
    const old = { list: `_lists/${user}`, reads: `_reads/${user}` };
    const fresh = {
      list: `${userFolderPrefix(user)}${LIST_BLOB}`,
      reads: `${userFolderPrefix(user)}${READS_BLOB}`,
    };
    const oldRead = '01ARZ3NDEKTSV4RRFFQ69G5FAV';
    await putJson(container, old.list, { version: 4, entries: [dm(user, 'friend')] });
    await putJson(container, old.reads, { version: 2, positions: [['room', oldRead]] });

    const mover = await chat.connect(user, 'signalr');
    expect(listed(mover)).toEqual([`dm:friend:${user}`]);
    const reads = (mover.events.find((e) => e.type === 'welcome')?.payload.reads ?? []) as {
      conversation: string;
      lastReadId?: string;
    }[];
    expect(reads.find((r) => r.conversation === 'room')?.lastReadId).toBe(oldRead);

    // The next change of the list writes it at the new name, with what the old one held, and drops the old.
    await ask(mover, 'createGroup', { group: 'movers', members: [] }, isGroupRecord('movers'));
    await mover.waitFor(
      (e) => e.type === 'conversations' && JSON.stringify(e.payload).includes('group:movers'),
    );
    expect(await getJson(container, fresh.list)).toMatchObject({
      version: 5,
      entries: [{ conversation: `dm:friend:${user}` }, { conversation: 'group:movers' }],
    });
    expect(await container.getBlockBlobClient(old.list).exists()).toBe(false);

    // The next write of the read positions likewise (a disconnect writes at once).
    await mover.send('sendMessage', { text: 'moved' });
    const id = String((await mover.waitFor(isMessage('moved'))).payload.id);
    await mover.send('markRead', { conversation: 'room', messageId: id });
    await mover.waitFor((e) => e.type === 'read' && e.payload.lastReadId === id);
    await mover.close();
    for (;;) {
      if ((await getJson(container, fresh.reads)) !== undefined) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await getJson(container, fresh.reads)).toEqual({ version: 3, positions: [['room', id]] });
    expect(await container.getBlockBlobClient(old.reads).exists()).toBe(false);

    // Back again: read from the new names.
    const back = await chat.connect(user, 'webpubsub');
    expect(listed(back)).toEqual([`dm:friend:${user}`, 'group:movers']);
    await back.close();
  });
});

describe('the stores alone', () => {
  async function fresh(name: string): Promise<ContainerClient> {
    const container = containerOf(name);
    await container.create();
    return container;
  }

  it('read no old name while none exists, and probe again only after the interval', async () => {
    const container = await fresh('folder-probe');
    let now = 0;
    const options = { legacyProbeIntervalMs: 1_000, now: () => now };
    const lists = new ConversationListStore(container, options);
    const reads = new ReadPositionStore(container, options);
    const none = { groups: [] };
    expect((await lists.read('ann', none)).entries).toEqual([]);
    expect((await reads.positions('ann', none)).size).toBe(0);
    // Written by an instance of the older version after the probe: not seen within the interval...
    await putJson(container, '_lists/ann', { version: 1, entries: [dm('ann', 'bob')] });
    await putJson(container, '_reads/ann', {
      version: 1,
      positions: [['room', '01ARZ3NDEKTSV4RRFFQ69G5FAV']],
    });
    now = 999;
    expect((await lists.read('ann', none)).entries).toEqual([]);
    expect((await reads.positions('ann', none)).size).toBe(0);
    // ...and seen after it, with or without a listing of the folder.
    now = 1_000;
    expect((await lists.read('ann', none)).entries).toEqual([dm('ann', 'bob')]);
    expect((await lists.read('ann')).entries).toEqual([dm('ann', 'bob')]);
    expect((await reads.positions('ann', none)).get('room')).toBe('01ARZ3NDEKTSV4RRFFQ69G5FAV');
  });

  it('serve a list and positions at the ETag they last read or wrote without a read, and read a newer one', async () => {
    const direct = await fresh('folder-etags');
    const proxy = await startRecordingProxy(`http://127.0.0.1:${chat.stack.blob.port}`);
    try {
      const container = BlobServiceClient.fromConnectionString(
        chat.stack.blob.connectionString.replace(
          /BlobEndpoint=[^;]+/,
          `BlobEndpoint=${proxy.url}/devstoreaccount1`,
        ),
      ).getContainerClient('folder-etags');
      const members = new MembershipStore(direct);
      const [lists, reads] = [new ConversationListStore(container), new ReadPositionStore(container)];
      await lists.add('gus', dm('gus', 'hal'));
      await reads.mark('gus', 'room', '01ARZ3NDEKTSV4RRFFQ69G5FAV');
      await reads.flush('gus');
      const from = proxy.exchanges.length;
      const folder = await members.folderOf('gus');
      expect((await lists.read('gus', folder)).entries).toEqual([dm('gus', 'hal')]);
      expect((await reads.positions('gus', folder)).get('room')).toBe('01ARZ3NDEKTSV4RRFFQ69G5FAV');
      expect(proxy.exchanges.slice(from).map((e) => e.method)).toEqual([]);
      // Written by another instance: the listing shows new ETags, and both are read.
      await new ConversationListStore(direct).add('gus', dm('gus', 'ida'));
      const elsewhere = new ReadPositionStore(direct);
      await elsewhere.mark('gus', 'room', '01ARZ3NDEKTSV4RRFFQ69G5FAW');
      await elsewhere.flush('gus');
      const newer = await members.folderOf('gus');
      expect((await lists.read('gus', newer)).entries).toEqual([dm('gus', 'hal'), dm('gus', 'ida')]);
      expect((await reads.positions('gus', newer)).get('room')).toBe('01ARZ3NDEKTSV4RRFFQ69G5FAW');
      expect(proxy.exchanges.slice(from).map((e) => e.method)).toEqual(['GET', 'GET']);
    } finally {
      await proxy.close();
    }
  });

  it('two instances moving one list both land, and the old name goes', async () => {
    const container = await fresh('folder-race');
    await putJson(container, '_lists/cy', { version: 7, entries: [dm('cy', 'dee')] });
    const [a, b] = [new ConversationListStore(container), new ConversationListStore(container)];
    await Promise.all([a.add('cy', dm('cy', 'eve')), b.add('cy', dm('cy', 'fay'))]);
    const stored = (await getJson(container, `${userFolderPrefix('cy')}${LIST_BLOB}`)) as {
      version: number;
      entries: ConversationEntry[];
    };
    expect(stored.version).toBe(9);
    expect(stored.entries.map((e) => e.conversation).sort()).toEqual(['dm:cy:dee', 'dm:cy:eve', 'dm:cy:fay']);
    expect(await container.getBlockBlobClient('_lists/cy').exists()).toBe(false);
  });
});
