/**
 * Leaving, losing and deleting a group through the whole local stack, over SignalR and Web PubSub: what a member
 * who was removed or left hears when they still try (the group named by its title, with what to do, never its
 * internal name or a command), what the last owner and the last member hear, and a private group deleted for
 * good: its members lose it at once, its history and files are gone, and its name is never used again.
 */
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { describe, expect, it } from 'vitest';
import { GroupRecordStore } from '../../src/lib/conversations/index.js';
import { conversationFolder } from '../../src/lib/history/layout.js';
import {
  ask,
  type ChatClient,
  isGroupRecord,
  isMessage,
  type ReceivedEvent,
} from '../support/chat-clients.js';
import { useChatStack } from '../support/fixtures.js';

const chat = useChatStack();
const { connect } = chat;

/** The `error` a command gets (fails when it gets `answer` instead). */
async function refusalOf(
  client: ChatClient,
  command: string,
  payload: unknown,
  answer: (e: ReceivedEvent) => boolean = () => false,
): Promise<{ code: string; message: string }> {
  const event = await ask(
    client,
    command,
    payload,
    (e) => (e.type === 'error' && e.payload.command === command) || answer(e),
  );
  expect(event.type, JSON.stringify(event.payload)).toBe('error');
  return event.payload as { code: string; message: string };
}

/** Words a person reads in a refusal that are the protocol's, not the page's. */
const PROTOCOL_WORDS = /addMember|"owner"|joinGroup|createGroup|group:/;

describe('refusals of a group one is not in', () => {
  it('name a private group by its title and say that only its owners add members', async () => {
    const ann = await connect('ann', 'signalr');
    const cy = await connect('cy', 'webpubsub');
    await ask(
      ann,
      'createGroup',
      { group: 'proj', members: ['cy'], title: 'Project Falcon' },
      isGroupRecord('proj'),
    );
    await cy.waitFor(isGroupRecord('proj'));
    await ask(
      ann,
      'removeMember',
      { group: 'proj', user: 'cy' },
      isGroupRecord('proj', (r) => !(r.members as string[]).includes('cy')),
    );
    await cy.waitFor((e) => e.type === 'system' && e.payload.kind === 'memberRemoved');
    const refusals = [
      await refusalOf(cy, 'searchMessages', { conversation: 'group:proj', query: 'hello' }),
      await refusalOf(cy, 'loadHistory', { conversation: 'group:proj' }, (e) => e.type === 'history'),
      await refusalOf(cy, 'sendMessage', { group: 'proj', text: 'still here?' }),
      await refusalOf(cy, 'listMembers', { group: 'proj' }, isGroupRecord('proj')),
    ];
    for (const { code, message } of refusals) {
      expect(code).toBe('not-a-member');
      expect(message).toBe(
        'You are not a member of the private group "Project Falcon": only its owners can add you',
      );
    }
    const left = await refusalOf(cy, 'leaveGroup', { group: 'proj' });
    expect(left.message).toBe('You are not in "Project Falcon", so there is nothing to leave');
  });

  it('name a channel by its title and say to join it', async () => {
    const dan = await connect('dan', 'webpubsub');
    const eve = await connect('eve', 'signalr');
    await ask(
      dan,
      'createGroup',
      { group: 'news', kind: 'channel', title: 'Morning news' },
      isGroupRecord('news'),
    );
    const refused = await refusalOf(eve, 'searchMessages', { conversation: 'group:news', query: 'hello' });
    expect(refused).toMatchObject({
      code: 'not-a-member',
      message: 'You are not in the channel "Morning news": join it to read and write there',
    });
    expect(refused.message).not.toMatch(PROTOCOL_WORDS);
  });
});

describe('the last owner', () => {
  it('hears what to do, about the group as people see it, without the protocol', async () => {
    const ann = await connect('ann4', 'webpubsub');
    const bob = await connect('bob4', 'signalr');
    await ask(
      ann,
      'createGroup',
      { group: 'crew4', members: ['bob4'], title: 'Design Crew' },
      isGroupRecord('crew4'),
    );
    await bob.waitFor(isGroupRecord('crew4'));
    const refused = await refusalOf(ann, 'leaveGroup', { group: 'crew4' });
    expect(refused).toMatchObject({
      code: 'last-owner',
      message:
        'The last owner cannot leave or be removed while the group has other members: make someone else an owner first: "Design Crew" keeps 1 other member',
    });
    expect(refused.message).not.toMatch(PROTOCOL_WORDS);
  });
});

/** A container of the stack's Azurite, as the app uses it. */
function containerOf(name: string): ContainerClient {
  const storage = chat.stack.env.CHAT_HISTORY_STORAGE as string;
  return BlobServiceClient.fromConnectionString(storage).getContainerClient(name);
}

/** The names of the blobs under `prefix`. */
async function blobsUnder(container: ContainerClient, prefix: string): Promise<string[]> {
  const names: string[] = [];
  for await (const blob of container.listBlobsFlat({ prefix })) names.push(blob.name);
  return names;
}

/** Uploads a small file to `conversation` as the demo user `name` and sends it there; its blob name. */
async function sendFile(client: ChatClient, group: string): Promise<string> {
  const bytes = Buffer.from('notes for the group');
  const body = { conversation: `group:${group}`, name: 'notes.txt', type: 'text/plain', size: bytes.length };
  const res = await fetch(`${chat.stack.functionsUrl}/api/uploads?name=${encodeURIComponent(client.user)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status, await res.clone().text()).toBe(200);
  const answer = (await res.json()) as { blob: string; headers: Record<string, string>; uploadUrl: string };
  const put = await fetch(answer.uploadUrl, { method: 'PUT', headers: answer.headers, body: bytes });
  expect(put.status, await put.clone().text()).toBe(201);
  const attachment = { blob: answer.blob, name: 'notes.txt', type: 'text/plain', size: bytes.length };
  await ask(client, 'sendMessage', { group, text: '', attachment }, (e) => e.type === 'message');
  return answer.blob;
}

describe('the last member of a private group', () => {
  it('cannot just leave it, which nobody could then join again: they delete it instead', async () => {
    const ann = await connect('ann5', 'signalr');
    const bob = await connect('bob5', 'webpubsub');
    await ask(
      ann,
      'createGroup',
      { group: 'solo', members: ['bob5'], title: 'Alone here' },
      isGroupRecord('solo'),
    );
    await bob.waitFor(isGroupRecord('solo'));
    // Bob leaves: Ann sees the record without him, so her page knows she is the last member.
    await bob.send('leaveGroup', { group: 'solo' });
    await ann.waitFor(isGroupRecord('solo', (r) => JSON.stringify(r.members) === '["ann5"]'));
    const refused = await refusalOf(ann, 'leaveGroup', { group: 'solo' });
    expect(refused.code).toBe('last-member');
    expect(refused.message).toContain('delete the group instead');
    expect(refused.message).not.toMatch(PROTOCOL_WORDS);
  });
});

describe('deleting a private group', () => {
  it('takes it from its members at once, deletes its history and files, and never lets its name be used again', async () => {
    const ann = await connect('ann6', 'webpubsub');
    const bob = await connect('bob6', 'signalr');
    const eve = await connect('eve6', 'webpubsub');
    await ask(
      ann,
      'createGroup',
      { group: 'gone', members: ['bob6'], title: 'Gone soon' },
      isGroupRecord('gone'),
    );
    await bob.waitFor(isGroupRecord('gone'));
    await bob.send('sendMessage', { group: 'gone', text: 'a secret of gone' });
    await ann.waitFor(isMessage('a secret of gone'));
    const file = await sendFile(bob, 'gone');
    const history = containerOf('chat-history');
    const folder = `${conversationFolder('group:gone')}/`;
    expect(await blobsUnder(history, folder)).not.toEqual([]);
    expect(await blobsUnder(containerOf('chat-attachments'), folder)).toEqual([file]);

    // Only an owner deletes it.
    expect((await refusalOf(bob, 'deleteGroup', { group: 'gone' })).code).toBe('not-an-owner');
    const from = bob.events.length;
    await ask(
      ann,
      'deleteGroup',
      { group: 'gone' },
      isGroupRecord('gone', (r) => (r.owners as string[]).length === 0),
    );
    // Bob hears it: the record says so, the note says who, and his list loses it.
    await bob.waitFor(
      isGroupRecord('gone', (r) => r.deleted === true),
      from,
    );
    await bob.waitFor((e) => e.type === 'system' && e.payload.kind === 'groupDeleted', from);
    await bob.waitFor(
      (e) => e.type === 'conversations' && !JSON.stringify(e.payload).includes('group:gone'),
      from,
    );

    expect(await blobsUnder(history, folder)).toEqual([]);
    expect(await blobsUnder(containerOf('chat-attachments'), folder)).toEqual([]);
    for (const client of [ann, bob]) {
      expect(
        (await refusalOf(client, 'loadHistory', { conversation: 'group:gone' }, (e) => e.type === 'history'))
          .code,
      ).toBe('not-a-member');
      expect((await refusalOf(client, 'sendMessage', { group: 'gone', text: 'anyone?' })).code).toBe(
        'not-a-member',
      );
    }
    // Nobody gets in again, and the name is never a new group's, whose members could read what a send in
    // flight at the deletion left behind.
    expect((await refusalOf(bob, 'joinGroup', { group: 'gone' })).code).toBe('group-deleted');
    expect((await refusalOf(eve, 'createGroup', { group: 'gone' }, isGroupRecord('gone'))).code).toBe(
      'group-exists',
    );
    expect((await refusalOf(eve, 'createGroup', { group: 'gone', kind: 'channel' })).code).toBe(
      'group-exists',
    );
    expect((await refusalOf(ann, 'addMember', { group: 'gone', user: 'eve6' })).code).toBe('group-deleted');
    // The tombstone keeps the name and nothing else of the group.
    const tombstone = await new GroupRecordStore(history).read('gone');
    expect(tombstone).toMatchObject({ group: 'gone', title: 'gone', owners: [], members: [], deleted: true });
  });

  it('is completed by an owner sending it again when it stopped half-way', async () => {
    const ann = await connect('ann7', 'signalr');
    const bob = await connect('bob7', 'webpubsub');
    await ask(ann, 'createGroup', { group: 'half', members: ['bob7'] }, isGroupRecord('half'));
    await bob.waitFor(isGroupRecord('half'));
    await bob.send('sendMessage', { group: 'half', text: 'still here' });
    await ann.waitFor(isMessage('still here'));
    // What a deletion leaves when storage fails right after its first step: the tombstone, and nothing else done.
    await new GroupRecordStore(containerOf('chat-history')).change('half', (r) => ({ ...r, deleted: true }));
    await ask(
      ann,
      'deleteGroup',
      { group: 'half' },
      isGroupRecord('half', (r) => (r.owners as string[]).length === 0),
    );
    expect(
      (await refusalOf(bob, 'loadHistory', { conversation: 'group:half' }, (e) => e.type === 'history')).code,
    ).toBe('not-a-member');
    expect(await blobsUnder(containerOf('chat-history'), `${conversationFolder('group:half')}/`)).toEqual([]);
    // Done: there is nothing left to delete, and nobody left who may.
    expect((await refusalOf(ann, 'deleteGroup', { group: 'half' })).code).toBe('group-deleted');
  });

  it('is for private groups only: a channel stays open to anyone who joins it', async () => {
    const dan = await connect('dan8', 'signalr');
    await ask(dan, 'createGroup', { group: 'square', kind: 'channel' }, isGroupRecord('square'));
    expect((await refusalOf(dan, 'deleteGroup', { group: 'square' })).code).toBe('not-deletable');
  });
});
