/**
 * Read state through the whole local stack, over SignalR and over Web PubSub: marks coalesce into one Blob
 * write per interval (and one at a disconnect), the position survives a restart of the Functions host, the
 * welcome counts the unread messages after it, the user's other connections hear `read`, a private
 * conversation's other person hears `seen`, nobody marks or learns the read state of a conversation they
 * cannot read, and nobody marks an id that no message of the conversation has.
 */
import { BlobServiceClient } from '@azure/storage-blob';
import { ulid } from 'ulid';
import { describe, expect, it } from 'vitest';
import { parseReads, type StoredReads } from '../../src/lib/chat/index.js';
import { READS_BLOB, userFolderPrefix } from '../../src/lib/user-folder.js';
import { type ChatClient, type ChatDialect, isMessage, type ReceivedEvent } from '../support/chat-clients.js';
import { useChatStack } from '../support/fixtures.js';

const chat = useChatStack();

interface ReadMark {
  conversation: string;
  lastReadId?: string;
  unread: number;
  more?: true;
}

const readsOf = (client: ChatClient): ReadMark[] =>
  ((client.events.find((e) => e.type === 'welcome')?.payload.reads as ReadMark[] | undefined) ?? []).slice();

/** The user's `_members/<user>/$reads` blob as stored (undefined until the first write). */
async function storedReads(user: string): Promise<StoredReads | undefined> {
  const blob = BlobServiceClient.fromConnectionString(chat.stack.blob.connectionString)
    .getContainerClient('chat-history')
    .getBlockBlobClient(`${userFolderPrefix(user)}${READS_BLOB}`);
  if (!(await blob.exists())) return undefined;
  return parseReads((await blob.downloadToBuffer()).toString('utf8'));
}

/** Waits (bounded by the test's timeout) until `check` holds of the user's stored positions. */
async function storedUntil(user: string, check: (reads: StoredReads) => boolean): Promise<StoredReads> {
  for (;;) {
    const reads = await storedReads(user);
    if (reads !== undefined && check(reads)) return reads;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const positionIn = (reads: StoredReads, conversation: string) =>
  reads.positions.find(([c]) => c === conversation)?.[1];

/** Sends `count` room messages from `sender` and returns their ids once `receiver` has them all. */
async function roomMessages(sender: ChatClient, receiver: ChatClient, prefix: string, count: number) {
  const ids: string[] = [];
  for (let n = 1; n <= count; n++) {
    const text = `${prefix} ${n}`;
    await sender.send('sendMessage', { text });
    ids.push(String((await receiver.waitFor(isMessage(text))).payload.id));
  }
  return ids;
}

const errorFor = (client: ChatClient, command: string, from: number) =>
  client.waitFor((e: ReceivedEvent) => e.type === 'error' && e.payload.command === command, from);

for (const dialect of ['signalr', 'webpubsub'] as const satisfies readonly ChatDialect[]) {
  const other: ChatDialect = dialect === 'signalr' ? 'webpubsub' : 'signalr';
  const p = dialect === 'signalr' ? 's' : 'w';

  describe(`read state over ${dialect}`, () => {
    it('coalesces many marks into one write, keeps the position through a host restart and counts the unread after it', async () => {
      const ann = await chat.connect(`ann${p}`, dialect);
      const bob = await chat.connect(`bob${p}`, other);
      const ids = await roomMessages(bob, ann, `${dialect} hello`, 6);
      for (const id of ids) await ann.send('markRead', { conversation: 'room', messageId: id });
      // An older mark moves nothing back.
      await ann.send('markRead', { conversation: 'room', messageId: ids[1] });
      const last = ids.at(-1) as string;
      await ann.waitFor((e) => e.type === 'read' && e.payload.lastReadId === last);
      // Written once for the seven marks, at the end of the interval.
      const stored = await storedUntil(ann.user, (r) => positionIn(r, 'room') !== undefined);
      expect(positionIn(stored, 'room')).toBe(last);
      expect(stored.version).toBe(1);

      await ann.close();
      await chat.stack.restartFunctions();
      const after = await roomMessages(bob, bob, `${dialect} while away`, 3);
      const again = await chat.connect(`ann${p}`, dialect);
      expect(readsOf(again).find((m) => m.conversation === 'room')).toEqual({
        conversation: 'room',
        lastReadId: last,
        unread: 3,
      });
      expect(after).toHaveLength(3);
      await again.close();
    });

    it('writes the marks of the interval at a disconnect', async () => {
      const cy = await chat.connect(`cy${p}`, dialect);
      const bob = await chat.connect(`bob${p}`, other);
      const [id] = await roomMessages(bob, cy, `${dialect} for cy`, 1);
      await cy.send('markRead', { conversation: 'room', messageId: id });
      await cy.waitFor((e) => e.type === 'read' && e.payload.lastReadId === id);
      await cy.close();
      const stored = await storedUntil(cy.user, (r) => positionIn(r, 'room') === id);
      expect(stored.version).toBe(1);
      await bob.close();
    });

    it('tells my other connections what I read, and the other person of a private conversation', async () => {
      const dee1 = await chat.connect(`dee${p}`, dialect);
      const dee2 = await chat.connect(`dee${p}`, other);
      const eve = await chat.connect(`eve${p}`, other);
      const conversation = `dm:dee${p}:eve${p}`;
      await eve.send('sendMessage', { to: dee1.user, text: `${dialect} psst` });
      const id = String((await dee1.waitFor(isMessage(`${dialect} psst`))).payload.id);
      const [from2, fromEve] = [dee2.events.length, eve.events.length];
      await dee1.send('markRead', { conversation, messageId: id });
      expect((await dee2.waitFor((e) => e.type === 'read', from2)).payload).toEqual({
        conversation,
        lastReadId: id,
      });
      expect((await eve.waitFor((e) => e.type === 'seen', fromEve)).payload).toEqual({
        conversation,
        user: dee1.user,
        lastReadId: id,
      });
      // What the other person read, asked for (as a page does when it opens the conversation).
      const asked = eve.events.length;
      await eve.send('loadReadState', { conversation });
      expect((await eve.waitFor((e) => e.type === 'readState', asked)).payload).toEqual({
        conversation,
        seen: { user: dee1.user, lastReadId: id },
      });
      // Only the other person hears `seen`: nobody else in the chat did.
      expect(dee2.events.slice(from2).some((e) => e.type === 'seen')).toBe(false);
      await Promise.all([dee1.close(), dee2.close(), eve.close()]);
    });

    it('counts a private conversation never read from its start', async () => {
      const fay = await chat.connect(`fay${p}`, dialect);
      await fay.send('sendMessage', { to: `gus${p}`, text: `${dialect} one` });
      await fay.waitFor(isMessage(`${dialect} one`));
      await fay.send('sendMessage', { to: `gus${p}`, text: `${dialect} two` });
      await fay.waitFor(isMessage(`${dialect} two`));
      const gus = await chat.connect(`gus${p}`, dialect);
      expect(readsOf(gus)).toEqual([{ conversation: `dm:fay${p}:gus${p}`, unread: 2 }]);
      await Promise.all([fay.close(), gus.close()]);
    });

    it('refuses a mark of an id no message of the conversation has, and keeps the position', async () => {
      const kim = await chat.connect(`kim${p}`, dialect);
      const bob = await chat.connect(`bob${p}`, other);
      const [id] = await roomMessages(bob, kim, `${dialect} for kim`, 1);
      await kim.send('markRead', { conversation: 'room', messageId: id });
      await kim.waitFor((e) => e.type === 'read' && e.payload.lastReadId === id);
      await bob.send('sendMessage', { to: kim.user, text: `${dialect} aside` });
      const aside = String((await kim.waitFor(isMessage(`${dialect} aside`))).payload.id);

      const notStored: [string, string][] = [
        // The probe's: a well-formed id of a time before now, which no message has.
        ['an id of the past that no line has', '01KZZZZZZZZZZZZZZZZZZZZZZZ'],
        ['an id of now that no line has', ulid()],
        ['the id of a message of another conversation', aside],
      ];
      for (const [what, messageId] of notStored) {
        const from = kim.events.length;
        await kim.send('markRead', { conversation: 'room', messageId });
        const refused = (await errorFor(kim, 'markRead', from)).payload;
        expect(refused, what).toMatchObject({ code: 'message-not-found', conversation: 'room' });
      }
      // Later than any clock: refused before any read.
      const from = kim.events.length;
      await kim.send('markRead', { conversation: 'room', messageId: '7ZZZZZZZZZZZZZZZZZZZZZZZZZ' });
      expect((await errorFor(kim, 'markRead', from)).payload.code).toBe('invalid-message-id');

      // None moved the position: kim heard no `read` for any, and the blob keeps the message marked.
      expect(kim.events.filter((e) => e.type === 'read').map((e) => e.payload.lastReadId)).toEqual([id]);
      await kim.close();
      const stored = await storedUntil(kim.user, (r) => positionIn(r, 'room') !== undefined);
      expect(positionIn(stored, 'room')).toBe(id);
      await bob.close();
    });

    it('refuses to mark or tell the read state of a conversation the user cannot read', async () => {
      const hal = await chat.connect(`hal${p}`, dialect);
      const ivy = await chat.connect(`ivy${p}`, other);
      const jon = await chat.connect(`jon${p}`, dialect);
      await hal.send('createGroup', { group: `secret${p}`, members: [ivy.user] });
      await hal.waitFor((e) => e.type === 'group' && e.payload.group === `secret${p}`);
      await hal.send('sendMessage', { group: `secret${p}`, text: `${dialect} hush` });
      const id = String((await hal.waitFor(isMessage(`${dialect} hush`))).payload.id);
      await ivy.send('sendMessage', { to: hal.user, text: `${dialect} private` });
      const dmId = String((await hal.waitFor(isMessage(`${dialect} private`))).payload.id);
      const dm = `dm:hal${p}:ivy${p}`;
      await hal.send('markRead', { conversation: dm, messageId: dmId });
      await hal.waitFor((e) => e.type === 'read' && e.payload.conversation === dm);

      const refusals: [string, Record<string, unknown>, string][] = [
        ['markRead', { conversation: `group:secret${p}`, messageId: id }, 'not-a-member'],
        ['loadReadState', { conversation: `group:secret${p}` }, 'not-a-member'],
        ['markRead', { conversation: dm, messageId: dmId }, 'forbidden-conversation'],
        ['loadReadState', { conversation: dm }, 'forbidden-conversation'],
        ['markRead', { conversation: 'room', messageId: 'not an id' }, 'invalid-message-id'],
      ];
      for (const [command, payload, code] of refusals) {
        const from = jon.events.length;
        await jon.send(command, payload);
        expect(
          (await errorFor(jon, command, from)).payload.code,
          `${command} ${JSON.stringify(payload)}`,
        ).toBe(code);
      }
      // Nothing of it reached anyone or was stored: hal's position stands, jon has none.
      expect(jon.events.some((e) => e.type === 'readState' || e.type === 'seen')).toBe(false);
      await jon.close();
      await hal.close();
      const stored = await storedUntil(hal.user, (r) => positionIn(r, dm) !== undefined);
      expect(positionIn(stored, dm)).toBe(dmId);
      expect(await storedReads(jon.user)).toBeUndefined();
      await ivy.close();
    });
  });
}
