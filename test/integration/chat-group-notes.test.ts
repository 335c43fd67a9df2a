/**
 * What members see of a group's changes, through the whole local stack: the title their list shows after a
 * reconnect (also for a member offline during the rename, of a private group and of a channel), and the notes
 * a creation, a rename, a topic and a new owner post in the group.
 */
import { describe, expect, it } from 'vitest';
import { ask, type ChatClient, isGroupRecord, type ReceivedEvent } from '../support/chat-clients.js';
import { useChatStack } from '../support/fixtures.js';

const chat = useChatStack();
const { connect } = chat;

/** The title the `welcome`'s list gives the group, `undefined` when its entry has none. */
function listedTitle(client: ChatClient, group: string): unknown {
  const welcome = client.events.find((e) => e.type === 'welcome');
  if (welcome === undefined) throw new Error(`${client.user} has no welcome`);
  const entries = (welcome.payload.conversations as { entries: Record<string, unknown>[] }).entries;
  return entries.find((e) => e.group === group)?.title;
}

const isNote =
  (kind: string, group: string) =>
  (e: ReceivedEvent): boolean =>
    e.type === 'system' && e.payload.kind === kind && e.payload.group === group;

describe("group titles in the members' lists", () => {
  it("shows a private group's new title after a reconnect, to a member who was offline during the rename", async () => {
    const ann = await connect('tann', 'webpubsub');
    const bob = await connect('tbob', 'signalr');
    await ask(
      ann,
      'createGroup',
      { group: 'design', members: ['tbob'], title: 'Design Team' },
      isGroupRecord('design'),
    );
    await bob.waitFor(isGroupRecord('design'));
    await bob.close();

    await ask(
      ann,
      'renameGroup',
      { group: 'design', title: 'Design Crew' },
      isGroupRecord('design', (r) => r.title === 'Design Crew'),
    );

    const bobAgain = await connect('tbob', 'webpubsub');
    expect(listedTitle(bobAgain, 'design')).toBe('Design Crew');
    const annAgain = await connect('tann', 'signalr');
    expect(listedTitle(annAgain, 'design')).toBe('Design Crew');
  });

  it("shows a channel's new title after a reconnect, to a joiner who was offline during the rename", async () => {
    const ann = await connect('cann', 'signalr');
    const bob = await connect('cbob', 'webpubsub');
    await ask(ann, 'createGroup', { group: 'news', kind: 'channel', title: 'News' }, isGroupRecord('news'));
    await ask(bob, 'joinGroup', { group: 'news' }, isNote('groupJoined', 'news'));
    await bob.close();

    await ask(
      ann,
      'renameGroup',
      { group: 'news', title: 'Latest news' },
      isGroupRecord('news', (r) => r.title === 'Latest news'),
    );

    const bobAgain = await connect('cbob', 'signalr');
    expect(listedTitle(bobAgain, 'news')).toBe('Latest news');
  });
});

describe('notes of group changes', () => {
  it('notes a creation with its members, a rename, a topic and a new owner, never as an addition', async () => {
    const ann = await connect('nann', 'webpubsub');
    const bob = await connect('nbob', 'signalr');
    const created = await ask(
      ann,
      'createGroup',
      { group: 'crew', members: ['nbob', 'ncy'] },
      isNote('groupCreated', 'crew'),
    );
    expect(created.payload).toMatchObject({ user: 'nann', members: ['nbob', 'ncy'] });
    await bob.waitFor(isNote('groupCreated', 'crew'));

    const renamed = await ask(
      ann,
      'renameGroup',
      { group: 'crew', title: 'Design Crew' },
      isNote('groupRenamed', 'crew'),
    );
    expect(renamed.payload).toMatchObject({ user: 'nann', title: 'Design Crew' });
    const topic = await ask(
      ann,
      'setTopic',
      { group: 'crew', topic: 'Sketches' },
      isNote('topicSet', 'crew'),
    );
    expect(topic.payload).toMatchObject({ user: 'nann', topic: 'Sketches' });

    const from = bob.events.length;
    const owner = await ask(
      ann,
      'addMember',
      { group: 'crew', user: 'nbob', owner: true },
      isNote('ownerAdded', 'crew'),
    );
    expect(owner.payload).toMatchObject({ user: 'nann', member: 'nbob' });
    await bob.waitFor(isNote('ownerAdded', 'crew'), from);
    // The record is out: no "added" note came with it.
    await bob.waitFor(
      isGroupRecord('crew', (r) => (r.owners as string[]).includes('nbob')),
      from,
    );
    expect(bob.events.slice(from).filter(isNote('memberAdded', 'crew'))).toEqual([]);
    expect(ann.events.filter(isNote('memberAdded', 'crew'))).toEqual([]);
  });
});
