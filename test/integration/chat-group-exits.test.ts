/**
 * Leaving and losing a group through the whole local stack, over SignalR and Web PubSub: what a member who was
 * removed or left hears when they still try (the group named by its title, with what to do, never its internal
 * name or a command), and what the last owner hears.
 */
import { describe, expect, it } from 'vitest';
import { ask, type ChatClient, isGroupRecord, type ReceivedEvent } from '../support/chat-clients.js';
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
