/**
 * What one user may do to another through groups (docs/architecture.md, "Private groups and channels" and
 * "Fair sharing"), over the whole local stack with small limits: adding someone to groups never takes away
 * their own room to create and join, one adder may add a given person to few groups, a createGroup is charged
 * by its members, and titles and topics are cleaned as display names are.
 */
import { describe, expect, it } from 'vitest';
import {
  ask,
  type ChatClient,
  type ChatDialect,
  errorCodeOf,
  isGroupAnswer,
  isGroupRecord,
  type ReceivedEvent,
} from '../support/chat-clients.js';
import { useChatStack } from '../support/fixtures.js';

const chat = useChatStack({
  env: {
    CHAT_MAX_GROUPS_PER_USER: '2',
    CHAT_MAX_ADDED_GROUPS_PER_USER: '2',
    CHAT_MAX_GROUPS_ADDED_BY_ONE_USER: '1',
    // Six commands per user and no refill during the test: each user below sends at most six.
    CHAT_COMMAND_BURST: '6',
    CHAT_COMMANDS_PER_SECOND: '0.001',
    CHAT_GROUP_MEMBERS_PER_COMMAND: '2',
  },
});
const { connect } = chat;

/** The answer about `group` (its record, or a membership note), not one about another group arriving late. */
const about = (group: string) => (e: ReceivedEvent) => isGroupAnswer(e) && e.payload.group === group;

/** The code of the error a command about `payload.group` gets, or `answered`. */
const codeOf = (client: ChatClient, command: string, payload: { group: string; [field: string]: unknown }) =>
  errorCodeOf(client, command, payload, about(payload.group));

describe.each(['signalr', 'webpubsub'] as ChatDialect[])('over %s', (service) => {
  const s = service === 'signalr' ? 'sr' : 'wps';

  it('keeps the groups others add you to apart from your own: nobody can lock you out of creating or joining', async () => {
    const [victim, eve1, eve2, eve3] = await Promise.all(
      ['victim', 'eve1', 'eve2', 'eve3'].map((name) => connect(`ab-${name}-${s}`, service)),
    );
    if (!victim || !eve1 || !eve2 || !eve3) throw new Error('not connected');
    const withVictim = (group: string) => ({ group, members: [victim.user] });
    // One adder may add the victim to one group (the setting), by createGroup or addMember.
    expect(await codeOf(eve1, 'createGroup', withVictim(`ab-a1-${s}`))).toBe('answered');
    expect(await codeOf(eve1, 'createGroup', withVictim(`ab-a2-${s}`))).toBe('too-many-adds');
    expect(await codeOf(eve1, 'createGroup', { group: `ab-a2-${s}` })).toBe('answered');
    expect(await codeOf(eve1, 'addMember', { group: `ab-a2-${s}`, user: victim.user })).toBe('too-many-adds');
    // Others added the victim to two groups: a third adder is refused.
    expect(await codeOf(eve2, 'createGroup', withVictim(`ab-b1-${s}`))).toBe('answered');
    expect(await codeOf(eve3, 'createGroup', withVictim(`ab-c1-${s}`))).toBe('too-many-added-groups');
    // The victim's own two groups are untouched by the two they were added to.
    expect(await codeOf(victim, 'joinGroup', { group: `ab-chan-${s}` })).toBe('answered');
    expect(await codeOf(victim, 'createGroup', { group: `ab-own-${s}` })).toBe('answered');
    expect(await codeOf(victim, 'joinGroup', { group: `ab-more-${s}` })).toBe('too-many-groups');
  });

  it('charges a createGroup one command per started two members (the setting), the creator included', async () => {
    const heavy = await connect(`ab-heavy-${s}`, service);
    const five = (k: number) => [1, 2, 3, 4, 5].map((i) => `ab-h${k}m${i}-${s}`);
    // Six members cost three of the six commands of the burst: two such commands, then nothing more.
    for (const k of [1, 2]) {
      const created = { group: `ab-h${k}-${s}`, members: five(k) };
      expect(await codeOf(heavy, 'createGroup', created)).toBe('answered');
    }
    const refused = await ask(
      heavy,
      'createGroup',
      { group: `ab-h3-${s}`, members: five(3) },
      (e) => e.type === 'error' || about(`ab-h3-${s}`)(e),
    );
    expect(refused.payload.code).toBe('rate-limited');
    expect(refused.payload.retryAfterMs).toBeGreaterThan(0);
    expect(refused.payload.message).toContain('counts as 3 commands');
  });

  it('cleans titles and topics as display names: no controls, no invisible format characters, one line', async () => {
    const owner = await connect(`ab-title-${s}`, service);
    const group = `ab-t-${s}`;
    const created = await ask(
      owner,
      'createGroup',
      { group, kind: 'channel', title: ' abc\u202edef ', topic: 'a\nb\u200b\t c' },
      isGroupRecord(group),
    );
    expect(created.payload).toMatchObject({ title: 'abcdef', topic: 'a b c' });
    const renamed = await ask(owner, 'renameGroup', { group, title: 'x\u0000y\r\nz' }, isGroupRecord(group));
    expect(renamed.payload.title).toBe('xy z');
    // Nothing printable left: refused, not stored as an empty title or topic.
    expect(await codeOf(owner, 'renameGroup', { group, title: '\u202e\u200b' })).toBe('invalid-title');
    expect(await codeOf(owner, 'setTopic', { group, topic: '\u202e' })).toBe('invalid-topic');
  });
});
