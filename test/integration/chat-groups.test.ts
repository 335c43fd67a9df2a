/**
 * Private groups and public channels through the whole local stack, over SignalR and Web PubSub: who may join,
 * read and hear a private group, before and right after a removal and across a reconnect; two owners changing
 * one group at once; the channel directory and its joins.
 */
import { describe, expect, it } from 'vitest';
import { type ChatClient, isMessage, messageTexts, type ReceivedEvent } from '../support/chat-clients.js';
import { useChatStack } from '../support/fixtures.js';

const chat = useChatStack();
const { connect } = chat;

/** Sends a command and waits for the first event after it that `match`es. */
async function ask(
  client: ChatClient,
  command: string,
  payload: unknown,
  match: (e: ReceivedEvent) => boolean,
): Promise<ReceivedEvent> {
  const from = client.events.length;
  await client.send(command, payload);
  return client.waitFor(match, from);
}

/** The code of the error a command gets (fails when it gets an answer instead). */
async function refusal(client: ChatClient, command: string, payload: unknown): Promise<unknown> {
  const answer = await ask(
    client,
    command,
    payload,
    (e) => (e.type === 'error' && e.payload.command === command) || e.type === 'history',
  );
  expect(answer.type, JSON.stringify(answer.payload)).toBe('error');
  return answer.payload.code;
}

const groupRecord = (group: string, has?: (members: string[]) => boolean) => (e: ReceivedEvent) =>
  e.type === 'group' &&
  e.payload.group === group &&
  (has === undefined || has(e.payload.members as string[]));

/** Once `receiver` has `sender`'s marker in the room, earlier room deliveries have arrived. */
async function barrier(sender: ChatClient, ...receivers: ChatClient[]) {
  const marker = `barrier ${Math.random()}`;
  await sender.send('sendMessage', { text: marker });
  await Promise.all(receivers.map((r) => r.waitFor(isMessage(marker))));
}

describe('private groups', () => {
  it('admits only the members its owner names: nobody joins by typing its name', async () => {
    const ann = await connect('ann', 'signalr');
    const bob = await connect('bob', 'webpubsub');
    const eve = await connect('eve', 'signalr');
    await ask(
      ann,
      'createGroup',
      { group: 'plans', members: ['bob'], title: 'Our plans' },
      groupRecord('plans'),
    );
    const record = await bob.waitFor(groupRecord('plans'));
    expect(record.payload).toMatchObject({
      kind: 'private',
      title: 'Our plans',
      owners: ['ann'],
      members: ['ann', 'bob'],
    });
    await bob.waitFor((e) => e.type === 'conversations' && JSON.stringify(e.payload).includes('group:plans'));

    await bob.send('sendMessage', { text: 'first secret', group: 'plans' });
    const stored = await ann.waitFor(isMessage('first secret'));

    expect(await refusal(eve, 'joinGroup', { group: 'plans' })).toBe('private-group');
    expect(await refusal(eve, 'listMembers', { group: 'plans' })).toBe('not-a-member');
    expect(await refusal(eve, 'addMember', { group: 'plans', user: 'eve' })).toBe('not-an-owner');
    expect(await refusal(eve, 'renameGroup', { group: 'plans', title: 'mine' })).toBe('not-an-owner');
    expect(await refusal(eve, 'createGroup', { group: 'plans' })).toBe('group-exists');
    expect(await refusal(eve, 'loadHistory', { conversation: 'group:plans' })).toBe('not-a-member');
    expect(
      await refusal(eve, 'loadHistory', { conversation: 'group:plans', before: String(stored.payload.id) }),
    ).toBe('not-a-member');
    expect(await refusal(eve, 'sendMessage', { text: 'let me in', group: 'plans' })).toBe('not-a-member');
    // A member (not an owner) cannot add anyone either.
    expect(await refusal(bob, 'addMember', { group: 'plans', user: 'eve' })).toBe('not-an-owner');
    await barrier(ann, eve);
    expect(JSON.stringify(eve.events)).not.toContain('first secret');

    // Members see the member list.
    const listed = await ask(bob, 'listMembers', { group: 'plans' }, groupRecord('plans'));
    expect(listed.payload.members).toEqual(['ann', 'bob']);
  });

  it('cuts a removed member off at once: no delivery, no history (not even by an older cursor), also after reconnecting', async () => {
    const ann = await connect('ann2', 'webpubsub');
    const cy = await connect('cy', 'signalr');
    const cyPhone = await connect('cy', 'webpubsub');
    await ask(ann, 'createGroup', { group: 'crew2', members: ['cy'] }, groupRecord('crew2'));
    await cyPhone.waitFor(groupRecord('crew2'));
    await ann.send('sendMessage', { text: 'before removal', group: 'crew2' });
    const old = await cy.waitFor(isMessage('before removal'));
    await cyPhone.waitFor(isMessage('before removal'));

    await ask(
      ann,
      'removeMember',
      { group: 'crew2', user: 'cy' },
      groupRecord('crew2', (m) => !m.includes('cy')),
    );
    // Both of cy's connections hear the removal, and the list loses the group.
    for (const c of [cy, cyPhone]) {
      await c.waitFor(
        (e) => e.type === 'system' && e.payload.kind === 'memberRemoved' && e.payload.user === 'cy',
      );
    }
    await cy.waitFor((e) => e.type === 'conversations' && !JSON.stringify(e.payload).includes('group:crew2'));

    await ann.send('sendMessage', { text: 'after removal', group: 'crew2' });
    await ann.waitFor(isMessage('after removal'));
    expect(await refusal(cy, 'loadHistory', { conversation: 'group:crew2' })).toBe('not-a-member');
    expect(
      await refusal(cy, 'loadHistory', { conversation: 'group:crew2', before: String(old.payload.id) }),
    ).toBe('not-a-member');
    expect(await refusal(cyPhone, 'joinGroup', { group: 'crew2' })).toBe('private-group');

    await cy.close();
    const again = await connect('cy', 'signalr');
    expect((again.events.find((e) => e.type === 'welcome')?.payload.groups as string[]) ?? []).not.toContain(
      'crew2',
    );
    await ann.send('sendMessage', { text: 'after reconnect', group: 'crew2' });
    await ann.waitFor(isMessage('after reconnect'));
    await barrier(ann, again, cyPhone);
    for (const c of [again, cyPhone]) {
      expect(messageTexts(c)).not.toContain('after removal');
      expect(messageTexts(c)).not.toContain('after reconnect');
    }
    await Promise.all([cyPhone.close(), again.close()]);
  });

  it('keeps both changes when two owners add members to one group at once', async () => {
    const ann = await connect('ann3', 'signalr');
    const bob = await connect('bob3', 'webpubsub');
    await ask(ann, 'createGroup', { group: 'duo', members: ['bob3'] }, groupRecord('duo'));
    await ask(
      ann,
      'addMember',
      { group: 'duo', user: 'bob3', owner: true },
      (e) => groupRecord('duo')(e) && (e.payload.owners as string[]).includes('bob3'),
    );
    const added = Array.from({ length: 6 }, (_, i) => `guest${i}`);
    await Promise.all(
      added.map((user, i) => (i % 2 === 0 ? ann : bob).send('addMember', { group: 'duo', user })),
    );
    const everyone = ['ann3', 'bob3', ...added];
    const final = await ann.waitFor(groupRecord('duo', (m) => m.length === everyone.length));
    expect([...(final.payload.members as string[])].sort()).toEqual(everyone.sort());
    // An added member is in at once: they read the history.
    const guest = await connect('guest0', 'webpubsub');
    expect((guest.events.find((e) => e.type === 'welcome')?.payload.groups as string[]) ?? []).toContain(
      'duo',
    );
    const page = await ask(guest, 'loadHistory', { conversation: 'group:duo' }, (e) => e.type === 'history');
    expect(page.payload.conversation).toBe('group:duo');
    // One of two owners may go; the last owner cannot leave a group that keeps members.
    await ask(
      bob,
      'removeMember',
      { group: 'duo', user: 'ann3' },
      groupRecord('duo', (m) => !m.includes('ann3')),
    );
    expect(await refusal(bob, 'leaveGroup', { group: 'duo' })).toBe('last-owner');
  });
});

describe('public channels', () => {
  it('lists channels a page at a time, lets anyone join, and shows the topic its owner sets', async () => {
    const dan = await connect('dan', 'signalr');
    const fay = await connect('fay', 'webpubsub');
    for (const group of ['chan-a', 'chan-b', 'chan-c']) {
      await ask(dan, 'createGroup', { group, kind: 'channel', topic: `about ${group}` }, groupRecord(group));
    }
    const first = await ask(fay, 'listChannels', { limit: 2 }, (e) => e.type === 'channels');
    expect(first.payload.channels).toHaveLength(2);
    expect(typeof first.payload.next).toBe('string');
    const second = await ask(
      fay,
      'listChannels',
      { limit: 2, after: first.payload.next },
      (e) => e.type === 'channels',
    );
    const names = [
      ...(first.payload.channels as { group: string }[]),
      ...(second.payload.channels as { group: string }[]),
    ].map((c) => c.group);
    expect(names).toEqual(expect.arrayContaining(['chan-a', 'chan-b', 'chan-c']));
    expect(JSON.stringify(first.payload)).toContain('about chan-a');

    await fay.send('joinGroup', { group: 'chan-b' });
    await fay.waitFor(
      (e) => e.type === 'system' && e.payload.kind === 'groupJoined' && e.payload.group === 'chan-b',
    );
    await dan.send('sendMessage', { text: 'hello channel', group: 'chan-b' });
    await fay.waitFor(isMessage('hello channel'));

    expect(await refusal(fay, 'setTopic', { group: 'chan-b', topic: 'mine now' })).toBe('not-an-owner');
    expect(await refusal(fay, 'addMember', { group: 'chan-b', user: 'eve' })).toBe('not-private');
    const changed = await ask(
      dan,
      'setTopic',
      { group: 'chan-b', topic: 'new topic' },
      (e) => groupRecord('chan-b')(e) && e.payload.topic === 'new topic',
    );
    expect(changed.payload.owners).toEqual(['dan']);
    await fay.waitFor((e) => groupRecord('chan-b')(e) && e.payload.topic === 'new topic');
    const again = await ask(fay, 'listChannels', { limit: 100 }, (e) => e.type === 'channels');
    expect(again.payload.channels).toEqual(
      expect.arrayContaining([{ group: 'chan-b', title: 'chan-b', topic: 'new topic' }]),
    );
  });

  it('makes a group joined by name a public channel, its first joiner its owner', async () => {
    const gil = await connect('gil', 'signalr');
    const hal = await connect('hal', 'webpubsub');
    await gil.send('joinGroup', { group: 'old-hangout' });
    await gil.waitFor((e) => e.type === 'system' && e.payload.group === 'old-hangout');
    await hal.send('joinGroup', { group: 'old-hangout' });
    await hal.waitFor((e) => e.type === 'system' && e.payload.group === 'old-hangout');
    const listed = await ask(hal, 'listMembers', { group: 'old-hangout' }, groupRecord('old-hangout'));
    expect(listed.payload).toMatchObject({ kind: 'channel', owners: ['gil'] });
    expect(await refusal(hal, 'createGroup', { group: 'old-hangout' })).toBe('group-exists');
  });
});
