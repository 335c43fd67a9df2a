/**
 * Lists and read positions moved into the users' folders (`_members/<user>/$list`, `$reads`): those still at
 * their old names (`_lists/<user>`, `_reads/<user>`) are shown at a join and moved by the user's next write,
 * through the whole local stack; and the stores alone, against the same Azurite: an old name is read only
 * while blobs at old names exist, the probe for them is made again after its interval, a list or positions
 * at the ETag an instance last read or wrote are not read again, two instances moving one user's list both
 * land, and each probe moves a batch of old names until none is left, around users' own writes.
 */
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { describe, expect, it } from 'vitest';
import { MembershipStore } from '../../src/lib/chat/groups/memberships.js';
import { ReadPositionStore } from '../../src/lib/chat/reading/positions.js';
import type { ConversationEntry } from '../../src/lib/conversations/entry.js';
import { ConversationListStore } from '../../src/lib/conversations/list-store.js';
import {
  type LegacyBatchOutcome,
  LIST_BLOB,
  READS_BLOB,
  type UserBlobOptions,
  userFolderPrefix,
} from '../../src/lib/user-folder.js';
import { ask, type ChatClient, isGroupRecord, isMessage } from '../support/chat-clients.js';
import { useChatStack } from '../support/fixtures.js';
import { type RecordingProxy, startRecordingProxy } from '../support/recording-proxy.js';

const chat = useChatStack();

const containerOf = (name: string): ContainerClient =>
  BlobServiceClient.fromConnectionString(chat.stack.blob.connectionString).getContainerClient(name);

async function putJson(container: ContainerClient, name: string, value: unknown): Promise<void> {
  const body = JSON.stringify(value);
  await container.getBlockBlobClient(name).upload(body, Buffer.byteLength(body));
}

async function getText(container: ContainerClient, name: string): Promise<string | undefined> {
  const blob = container.getBlockBlobClient(name);
  if (!(await blob.exists())) return undefined;
  return (await blob.downloadToBuffer()).toString('utf8');
}

async function namesUnder(container: ContainerClient, prefix: string): Promise<string[]> {
  const names: string[] = [];
  for await (const item of container.listBlobsFlat({ prefix })) names.push(item.name);
  return names;
}

/** A container client whose requests go through `proxy`. */
function throughProxy(proxy: RecordingProxy, name: string): ContainerClient {
  return BlobServiceClient.fromConnectionString(
    chat.stack.blob.connectionString.replace(
      /BlobEndpoint=[^;]+/,
      `BlobEndpoint=${proxy.url}/devstoreaccount1`,
    ),
  ).getContainerClient(name);
}

/** Options whose batches of moves can be awaited: `next()` resolves with the end of the next batch. */
function batches(): Required<Pick<UserBlobOptions, 'onLegacyBatch'>> & {
  next(): Promise<LegacyBatchOutcome>;
} {
  const waiting: ((outcome: LegacyBatchOutcome) => void)[] = [];
  return {
    onLegacyBatch: (outcome) => {
      for (const resolve of waiting.splice(0)) resolve(outcome);
    },
    next: () => new Promise((resolve) => waiting.push(resolve)),
  };
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
  // First in the file: the Functions instance probes for old names at its first join, and finds these. The
  // probe also moves them in the background: whichever of the move and the user's write comes first, the
  // outcome is the same.
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
    // The probe's background move may put the old positions at the new name first (version 2); the mark's
    // write, at the disconnect, lands on top of it.
    await expect
      .poll(() => getJson(container, fresh.reads), { timeout: 10_000, interval: 100 })
      .toEqual({ version: 3, positions: [['room', id]] });
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

  it('move a batch of old names per probe until none is left, and then read none', async () => {
    const direct = await fresh('folder-moves');
    const users = ['u1', 'u2', 'u3', 'u4', 'u5'];
    const seeded = new Map<string, string>();
    for (const [i, user] of users.entries()) {
      const list = { version: i + 1, entries: [dm(user, 'zed')] };
      const reads = { version: i + 2, positions: [[`group:g${i}`, '01ARZ3NDEKTSV4RRFFQ69G5FAV']] };
      seeded.set(user, JSON.stringify([list, reads]));
      await putJson(direct, `_lists/${user}`, list);
      await putJson(direct, `_reads/${user}`, reads);
    }
    const proxy = await startRecordingProxy(`http://127.0.0.1:${chat.stack.blob.port}`);
    try {
      const container = throughProxy(proxy, 'folder-moves');
      let now = 0;
      const [listBatches, readBatches] = [batches(), batches()];
      const options = { legacyProbeIntervalMs: 1_000, legacyMovesPerProbe: 2, now: () => now };
      const lists = new ConversationListStore(container, { ...options, ...listBatches });
      const reads = new ReadPositionStore(container, { ...options, ...readBatches });
      const none = { groups: [] };
      // A newcomer's read probes, once per interval: each probe moves two, and the third the last one.
      for (const [round, left] of [3, 1, 0].entries()) {
        now = round * 1_000;
        const ended = Promise.all([listBatches.next(), readBatches.next()]);
        expect((await lists.read('newcomer', none)).entries).toEqual([]);
        expect((await reads.positions('newcomer', none)).size).toBe(0);
        await ended;
        expect(await namesUnder(direct, '_lists/')).toHaveLength(left);
        expect(await namesUnder(direct, '_reads/')).toHaveLength(left);
      }
      for (const user of users) {
        const moved = [
          await getText(direct, `${userFolderPrefix(user)}${LIST_BLOB}`),
          await getText(direct, `${userFolderPrefix(user)}${READS_BLOB}`),
        ];
        expect(JSON.stringify(moved.map((text) => JSON.parse(text ?? 'null')))).toBe(seeded.get(user));
      }
      const oldNameRequests = (from: number) =>
        proxy.exchanges
          .slice(from)
          .filter(({ url }) => /_(lists|reads)(\/|%2F)/i.test(url))
          .map(
            ({ method, url }) => `${method} ${new URL(url, 'http://proxy').searchParams.get('comp') ?? ''}`,
          );
      // The last batch emptied the whole listing: no old name is read until the next probe is due...
      let from = proxy.exchanges.length;
      await lists.read('second', none);
      await reads.positions('second', none);
      expect(oldNameRequests(from)).toEqual([]);
      // ...which finds none: it lists each old prefix once, and nothing more is read there.
      now = 3_000;
      from = proxy.exchanges.length;
      await lists.read('third', none);
      await reads.positions('third', none);
      await lists.read('fourth', none);
      await reads.positions('fourth', none);
      expect(oldNameRequests(from)).toEqual(['GET list', 'GET list']);
    } finally {
      await proxy.close();
    }
  });

  it('read the new name again when a move passed between the listing and the old name', async () => {
    const container = await fresh('folder-move-gap');
    // Another old name keeps the mode on; pia's blobs were moved after her folder was listed without them.
    await putJson(container, '_lists/zoe', { version: 1, entries: [dm('zoe', 'zed')] });
    await putJson(container, '_reads/zoe', {
      version: 1,
      positions: [['room', '01ARZ3NDEKTSV4RRFFQ69G5FAV']],
    });
    await putJson(container, `${userFolderPrefix('pia')}${LIST_BLOB}`, {
      version: 3,
      entries: [dm('pia', 'quin')],
    });
    await putJson(container, `${userFolderPrefix('pia')}${READS_BLOB}`, {
      version: 2,
      positions: [['room', '01ARZ3NDEKTSV4RRFFQ69G5FAW']],
    });
    const options = { legacyMovesPerProbe: 0 };
    const listedBeforeTheMove = { groups: [] };
    const lists = new ConversationListStore(container, options);
    const reads = new ReadPositionStore(container, options);
    expect((await lists.read('pia', listedBeforeTheMove)).entries).toEqual([dm('pia', 'quin')]);
    expect((await reads.positions('pia', listedBeforeTheMove)).get('room')).toBe(
      '01ARZ3NDEKTSV4RRFFQ69G5FAW',
    );
  });

  it('delete an old name whose new name exists, and leave the new one as it is', async () => {
    const container = await fresh('folder-obsolete');
    await putJson(container, '_lists/ned', { version: 1, entries: [dm('ned', 'old')] });
    const name = `${userFolderPrefix('ned')}${LIST_BLOB}`;
    await putJson(container, name, { version: 6, entries: [dm('ned', 'new')] });
    const before = await container.getBlockBlobClient(name).getProperties();
    const moves = batches();
    const lists = new ConversationListStore(container, moves);
    const ended = moves.next();
    await lists.read('newcomer', { groups: [] });
    expect(await ended).toEqual({ moved: 1, left: 0 });
    expect(await container.getBlockBlobClient('_lists/ned').exists()).toBe(false);
    expect((await container.getBlockBlobClient(name).getProperties()).etag).toBe(before.etag);
    expect(await getJson(container, name)).toEqual({ version: 6, entries: [dm('ned', 'new')] });
    expect((await lists.read('ned')).entries).toEqual([dm('ned', 'new')]);
  });

  it('leave an old name rewritten while it moved for a later probe', async () => {
    const direct = await fresh('folder-move-rewritten');
    await putJson(direct, '_reads/ola', { version: 1, positions: [['room', '01ARZ3NDEKTSV4RRFFQ69G5FAV']] });
    const rewritten = { version: 2, positions: [['room', '01ARZ3NDEKTSV4RRFFQ69G5FAW']] };
    // An instance of the older version writes the old name again while the first copy is under way.
    let copies = 0;
    const proxy = await startRecordingProxy(`http://127.0.0.1:${chat.stack.blob.port}`, {
      intercept: async ({ method, url }) => {
        if (method === 'PUT' && /(\$|%24)reads/.test(url) && copies++ === 0) {
          await putJson(direct, '_reads/ola', rewritten);
        }
        return undefined;
      },
    });
    try {
      let now = 0;
      const moves = batches();
      const reads = new ReadPositionStore(throughProxy(proxy, 'folder-move-rewritten'), {
        legacyProbeIntervalMs: 1_000,
        now: () => now,
        ...moves,
      });
      let ended = moves.next();
      await reads.positions('newcomer', { groups: [] });
      expect(await ended).toEqual({ moved: 0, left: 1 });
      expect(await getJson(direct, '_reads/ola')).toEqual(rewritten);
      // The next probe finds the new name there: the old one is obsolete, and goes.
      now = 1_000;
      ended = moves.next();
      await reads.positions('newcomer', { groups: [] });
      expect(await ended).toEqual({ moved: 1, left: 0 });
      expect(await namesUnder(direct, '_reads/')).toEqual([]);
      expect(await getJson(direct, `${userFolderPrefix('ola')}${READS_BLOB}`)).toEqual({
        version: 1,
        positions: [['room', '01ARZ3NDEKTSV4RRFFQ69G5FAV']],
      });
    } finally {
      await proxy.close();
    }
  });

  it("keep a user's changes read from the old names and written after another instance moved them", async () => {
    const direct = await fresh('folder-move-race');
    const oldRead = '01ARZ3NDEKTSV4RRFFQ69G5FAV';
    const newRead = '01ARZ3NDEKTSV4RRFFQ69G5FAW';
    await putJson(direct, '_lists/pat', { version: 3, entries: [dm('pat', 'quinn')] });
    await putJson(direct, '_reads/pat', { version: 2, positions: [['room', oldRead]] });
    const moved = {
      list: `${userFolderPrefix('pat')}${LIST_BLOB}`,
      reads: `${userFolderPrefix('pat')}${READS_BLOB}`,
    };
    // Another instance's probe moves both of pat's blobs.
    const [listMoves, readMoves] = [batches(), batches()];
    const elsewhere = {
      lists: new ConversationListStore(direct, listMoves),
      reads: new ReadPositionStore(direct, readMoves),
    };
    const moveElsewhere = async () => {
      const ended = Promise.all([listMoves.next(), readMoves.next()]);
      await elsewhere.lists.read('newcomer', { groups: [] });
      await elsewhere.reads.positions('newcomer', { groups: [] });
      await ended;
    };
    // The user's instance (which moves nothing itself) holds its first write of the list until then.
    let held = false;
    let movedBeforeWrite: unknown;
    const proxy = await startRecordingProxy(`http://127.0.0.1:${chat.stack.blob.port}`, {
      intercept: async ({ method, url }) => {
        if (method === 'PUT' && /(\$|%24)list/.test(url) && !held) {
          held = true;
          await moveElsewhere();
          movedBeforeWrite = await getJson(direct, moved.list);
        }
        return undefined;
      },
    });
    try {
      const container = throughProxy(proxy, 'folder-move-race');
      const options = { legacyMovesPerProbe: 0 };
      const [lists, reads] = [
        new ConversationListStore(container, options),
        new ReadPositionStore(container, options),
      ];
      // Read from the old names...
      expect((await reads.positions('pat', { groups: [] })).get('room')).toBe(oldRead);
      await lists.add('pat', dm('pat', 'rae'));
      // ...moved before the list's write (and so the positions' too)...
      expect(movedBeforeWrite).toEqual({ version: 3, entries: [dm('pat', 'quinn')] });
      expect(await getJson(direct, moved.reads)).toEqual({ version: 2, positions: [['room', oldRead]] });
      await reads.mark('pat', 'group:g', newRead);
      await reads.flush('pat');
      // ...and both changes land on the moved blobs, with nothing left at the old names.
      expect(await getJson(direct, moved.list)).toEqual({
        version: 4,
        entries: [dm('pat', 'quinn'), dm('pat', 'rae')],
      });
      expect(await getJson(direct, moved.reads)).toEqual({
        version: 3,
        positions: [
          ['group:g', newRead],
          ['room', oldRead],
        ],
      });
      expect(await namesUnder(direct, '_lists/')).toEqual([]);
      expect(await namesUnder(direct, '_reads/')).toEqual([]);
    } finally {
      await proxy.close();
    }
  });
});
