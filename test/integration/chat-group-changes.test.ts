/**
 * Changing groups through the whole local stack, over SignalR and over Web PubSub: an owner renames a group and
 * sets its topic (members hear it live and read it after reconnecting), two owners change one group's members
 * at once, a member removed while reconnecting hears nothing of the group afterwards, and the people directory
 * pages past its first page.
 */

import { describe, expect, it } from 'vitest';
import { azuriteConnectionString } from '../../src/local/dev-constants.js';
import {
  ask,
  type ChatClient,
  type ChatDialect,
  errorCodeOf,
  isGroupRecord,
  isMessage,
  messageTexts,
  openChat,
  roomBarrier,
  welcomeOf,
} from '../support/chat-clients.js';
import { useChatStack } from '../support/fixtures.js';
import { startRecordingProxy } from '../support/recording-proxy.js';

const chat = useChatStack();
const { connect } = chat;

const SERVICES: readonly ChatDialect[] = ['signalr', 'webpubsub'];

const members = (e: { payload: Record<string, unknown> }) => e.payload.members as string[];

describe.each(SERVICES)('over %s', (service) => {
  const s = service === 'signalr' ? 'sr' : 'wps';

  it('lets an owner rename a group and set its topic: members see it at once and after reconnecting', async () => {
    const owner = await connect(`ren-owner-${s}`, service);
    let member = await connect(`ren-member-${s}`, service);
    const group = `ren-${s}`;
    await ask(owner, 'createGroup', { group, members: [member.user] }, isGroupRecord(group));
    await member.waitFor(isGroupRecord(group));

    await owner.send('renameGroup', { group, title: 'Weekend plans' });
    await owner.send('setTopic', { group, topic: 'Where we go on Saturday' });
    const live = await member.waitFor(
      isGroupRecord(group, (r) => r.title === 'Weekend plans' && r.topic === 'Where we go on Saturday'),
    );
    expect(live.payload).toMatchObject({ kind: 'private', owners: [owner.user] });
    // A member who is not an owner may do neither.
    const notOwner = (e: { type: string }) => e.type === 'group';
    expect(await errorCodeOf(member, 'renameGroup', { group, title: 'mine' }, notOwner)).toBe('not-an-owner');
    expect(await errorCodeOf(member, 'setTopic', { group, topic: 'mine' }, notOwner)).toBe('not-an-owner');

    await member.close();
    member = await connect(`ren-member-${s}`, service);
    const again = await ask(member, 'listMembers', { group }, isGroupRecord(group));
    expect(again.payload).toMatchObject({ title: 'Weekend plans', topic: 'Where we go on Saturday' });

    // A channel's topic and title reach its joiners and the directory.
    const channel = `ren-chan-${s}`;
    await ask(owner, 'createGroup', { group: channel, kind: 'channel' }, isGroupRecord(channel));
    await member.send('joinGroup', { group: channel });
    await member.waitFor((e) => e.type === 'system' && e.payload.kind === 'groupJoined');
    await owner.send('setTopic', { group: channel, topic: 'News only' });
    await owner.send('renameGroup', { group: channel, title: 'The news' });
    await member.waitFor(isGroupRecord(channel, (r) => r.title === 'The news' && r.topic === 'News only'));
    const directory = await ask(member, 'listChannels', { limit: 100 }, (e) => e.type === 'channels');
    expect(directory.payload.channels).toEqual(
      expect.arrayContaining([{ group: channel, title: 'The news', topic: 'News only' }]),
    );
    // An empty topic clears it.
    await owner.send('setTopic', { group: channel, topic: '' });
    const cleared = await member.waitFor(isGroupRecord(channel, (r) => r.topic === undefined));
    expect(cleared.payload.title).toBe('The news');
  });

  it('keeps every change when two owners change one group’s members at once, each from their own connection', async () => {
    const ann = await connect(`duo-ann-${s}`, service);
    const bob = await connect(`duo-bob-${s}`, service);
    const gone = await connect(`duo-gone-${s}`, service);
    const group = `duo-${s}`;
    await ask(ann, 'createGroup', { group, members: [bob.user, gone.user] }, isGroupRecord(group));
    await ask(ann, 'addMember', { group, user: bob.user, owner: true }, (e) =>
      isGroupRecord(group, (r) => (r.owners as string[]).includes(bob.user))(e),
    );
    const byAnn = [0, 1, 2].map((i) => `duo-a${i}-${s}`);
    const byBob = [0, 1, 2].map((i) => `duo-b${i}-${s}`);
    // At once: ann adds three, bob adds three and removes one.
    await Promise.all([
      ...byAnn.map((user) => ann.send('addMember', { group, user })),
      ...byBob.map((user) => bob.send('addMember', { group, user })),
      bob.send('removeMember', { group, user: gone.user }),
    ]);
    const everyone = [ann.user, bob.user, ...byAnn, ...byBob].sort();
    const final = await ann.waitFor(
      isGroupRecord(
        group,
        (r) => JSON.stringify([...(r.members as string[])].sort()) === JSON.stringify(everyone),
      ),
    );
    // Created, bob made an owner, then seven changes: each one written once, on top of all the others.
    expect(final.payload.version).toBe(9);
    expect([...members(final)].sort()).toEqual(everyone);
    const listed = await ask(bob, 'listMembers', { group }, isGroupRecord(group));
    expect([...members(listed)].sort()).toEqual(everyone);

    // The members' own state followed the record: the added hear the group, the removed does not.
    const added = await connect(byBob[2] as string, service);
    expect(welcomeOf(added).groups).toContain(group);
    await ann.send('sendMessage', { text: `to ${group}`, group });
    await added.waitFor(isMessage(`to ${group}`));
    await roomBarrier(ann, gone);
    expect(messageTexts(gone)).not.toContain(`to ${group}`);
    expect(await errorCodeOf(gone, 'loadHistory', { conversation: `group:${group}` }, () => false)).toBe(
      'not-a-member',
    );
  });

  it('leaves a member removed while reconnecting out of the group: nothing sent after the removal reaches them', async () => {
    const { stack } = chat;
    const owner = await connect(`win-owner-${s}`, service);
    const member = await connect(`win-member-${s}`, service);
    const group = `win-${s}`;
    await ask(owner, 'createGroup', { group, members: [member.user] }, isGroupRecord(group));
    await owner.send('sendMessage', { text: 'before the removal', group });
    await member.waitFor(isMessage('before the removal'));

    // The app reaches Blob through a proxy that holds back the answer to the reconnect's listing of the
    // member's memberships: the listing is made before the removal, its answer arrives after it.
    let armed = true;
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let reached!: () => void;
    const listingMade = new Promise<void>((resolve) => {
      reached = resolve;
    });
    const proxy = await startRecordingProxy(`http://127.0.0.1:${stack.blob.port}`, {
      holdAnswer: ({ method, url }) => {
        const query = new URL(url, 'http://proxy').searchParams;
        if (!armed || method !== 'GET' || query.get('comp') !== 'list') return undefined;
        if (query.get('prefix') !== `_members/${member.user}/`) return undefined;
        armed = false;
        reached();
        return released;
      },
    });
    const direct = process.env.CHAT_HISTORY_STORAGE;
    process.env.CHAT_HISTORY_STORAGE = azuriteConnectionString(`${proxy.url}/devstoreaccount1`);
    let reconnecting: ChatClient | undefined;
    try {
      const opening = openChat(stack.functionsUrl, member.user, service);
      await listingMade;
      await ask(
        owner,
        'removeMember',
        { group, user: member.user },
        isGroupRecord(group, (r) => !(r.members as string[]).includes(member.user)),
      );
      release();
      reconnecting = await opening;
      await reconnecting.waitFor((e) => e.type === 'welcome');
    } finally {
      release();
      process.env.CHAT_HISTORY_STORAGE = direct;
      await proxy.close();
    }
    expect(armed, 'the reconnect listed the memberships through the proxy').toBe(false);
    if (reconnecting === undefined) throw new Error('the reconnect did not complete');
    expect(welcomeOf(reconnecting).groups).not.toContain(group);

    await owner.send('sendMessage', { text: 'after the removal', group });
    await owner.waitFor(isMessage('after the removal'));
    await roomBarrier(owner, member, reconnecting);
    for (const client of [member, reconnecting]) {
      expect(messageTexts(client)).not.toContain('after the removal');
    }
    await reconnecting.close();
  });

  it('pages the people search: every match can be reached with next', async () => {
    const names = [0, 1, 2, 3, 4].map((i) => `pager-${s}-${i}`);
    for (const name of names) await (await connect(name, service)).close();
    const finder = await connect(`finder-${s}`, service);
    const found: string[] = [];
    let after: unknown;
    for (let page = 0; page < 5; page++) {
      const answer = await ask(
        finder,
        'findPeople',
        { query: `PAGER-${s}`, limit: 2, ...(after !== undefined ? { after } : {}) },
        (e) => e.type === 'people',
      );
      const people = answer.payload.people as { user: string }[];
      expect(people.length).toBeLessThanOrEqual(2);
      found.push(...people.map((p) => p.user));
      after = answer.payload.next;
      expect(answer.payload.more).toBe(after !== undefined);
      if (after === undefined) break;
    }
    expect(found).toEqual(names);
    expect(await errorCodeOf(finder, 'findPeople', { query: 'p', after: 7 }, () => false)).toBe(
      'invalid-after',
    );
  });
});
