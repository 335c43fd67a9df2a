/**
 * The limits of groups and of replies are app settings (src/lib/settings.ts): a stack started with small ones
 * refuses past them, over SignalR and over Web PubSub, with the codes of the error catalogue, and cuts a reply's
 * quote to the configured length.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_GROUP_MEMBERS_PER_COMMAND } from '../../src/lib/chat/index.js';
import {
  DEFAULT_GROUP_WRITE_ATTEMPTS,
  DEFAULT_MAX_ADDED_GROUPS_PER_USER,
  DEFAULT_MAX_GROUP_MEMBERS,
  DEFAULT_MAX_GROUP_OWNERS,
  DEFAULT_MAX_GROUP_TITLE_LENGTH,
  DEFAULT_MAX_GROUP_TOPIC_LENGTH,
  DEFAULT_MAX_GROUPS_ADDED_BY_ONE_USER,
  DEFAULT_MAX_GROUPS_PER_USER,
} from '../../src/lib/conversations/index.js';
import { REACTION_DEFAULTS } from '../../src/lib/history/index.js';
import { SETTINGS } from '../../src/lib/settings.js';
import {
  ask,
  type ChatDialect,
  errorCodeOf,
  isGroupAnswer,
  isGroupRecord,
  isMessage,
} from '../support/chat-clients.js';
import { useChatStack } from '../support/fixtures.js';

const chat = useChatStack({
  env: {
    CHAT_MAX_GROUP_MEMBERS: '3',
    CHAT_MAX_GROUP_OWNERS: '2',
    CHAT_MAX_GROUPS_PER_USER: '2',
    CHAT_MAX_GROUP_TITLE_LENGTH: '10',
    CHAT_MAX_GROUP_TOPIC_LENGTH: '12',
    CHAT_REPLY_EXCERPT_LENGTH: '10',
  },
});
const { connect } = chat;

const answered = isGroupAnswer;

describe('group limits from app settings', () => {
  it('has the code’s defaults as the catalogue’s defaults', () => {
    expect(Number(SETTINGS.maxGroupMembers.default)).toBe(DEFAULT_MAX_GROUP_MEMBERS);
    expect(Number(SETTINGS.maxGroupOwners.default)).toBe(DEFAULT_MAX_GROUP_OWNERS);
    expect(Number(SETTINGS.maxGroupsPerUser.default)).toBe(DEFAULT_MAX_GROUPS_PER_USER);
    expect(Number(SETTINGS.maxAddedGroupsPerUser.default)).toBe(DEFAULT_MAX_ADDED_GROUPS_PER_USER);
    expect(Number(SETTINGS.maxGroupsAddedByOneUser.default)).toBe(DEFAULT_MAX_GROUPS_ADDED_BY_ONE_USER);
    expect(Number(SETTINGS.groupMembersPerCommand.default)).toBe(DEFAULT_GROUP_MEMBERS_PER_COMMAND);
    expect(Number(SETTINGS.maxGroupTitleLength.default)).toBe(DEFAULT_MAX_GROUP_TITLE_LENGTH);
    expect(Number(SETTINGS.maxGroupTopicLength.default)).toBe(DEFAULT_MAX_GROUP_TOPIC_LENGTH);
    expect(Number(SETTINGS.groupWriteAttempts.default)).toBe(DEFAULT_GROUP_WRITE_ATTEMPTS);
    expect(Number(SETTINGS.maxReactionsPerMessage.default)).toBe(REACTION_DEFAULTS.maxReactionsPerMessage);
    expect(Number(SETTINGS.replyExcerptLength.default)).toBe(REACTION_DEFAULTS.excerptLength);
  });

  describe.each(['signalr', 'webpubsub'] as ChatDialect[])('over %s', (service) => {
    const s = service === 'signalr' ? 'sr' : 'wps';

    it('quotes the configured length of the message a reply answers', async () => {
      const author = await connect(`quote-${s}`, service);
      const original = await ask(
        author,
        'sendMessage',
        { text: 'a long message to quote' },
        isMessage('a long message to quote'),
      );
      const reply = await ask(
        author,
        'sendMessage',
        { text: `reply ${s}`, replyTo: original.payload.id },
        isMessage(`reply ${s}`),
      );
      // Ten code points: nine of the text and the ellipsis (the default keeps 120).
      expect(reply.payload.quote).toEqual({ from: author.user, text: 'a long me…' });
    });

    it('refuses past the configured members, groups, title and topic lengths', async () => {
      const owner = await connect(`lim-owner-${s}`, service);
      const group = `lim-${s}`;
      // Titles and topics: the configured lengths, not the defaults (64 and 200).
      expect(await errorCodeOf(owner, 'createGroup', { group, title: 'x'.repeat(11) }, answered)).toBe(
        'invalid-title',
      );
      expect(
        await errorCodeOf(owner, 'createGroup', { group, kind: 'channel', topic: 'x'.repeat(13) }, answered),
      ).toBe('invalid-topic');
      // Members: the owner and three invited are four, one more than allowed.
      const invited = [1, 2, 3].map((i) => `lim-m${i}-${s}`);
      expect(await errorCodeOf(owner, 'createGroup', { group, members: invited }, answered)).toBe(
        'group-full',
      );
      await ask(
        owner,
        'createGroup',
        { group, members: invited.slice(0, 2), title: 'x'.repeat(10) },
        isGroupRecord(group),
      );
      expect(await errorCodeOf(owner, 'addMember', { group, user: invited[2] }, answered)).toBe('group-full');
      // Owners: the creator and one more; a third is refused, and the group stays as it was.
      const makeOwner = (user: string | undefined) => ({ group, user, owner: true });
      // Both events of the change (its record and its note, sent at once) arrive before the next command, so
      // neither is taken for that command's answer.
      const from = owner.events.length;
      await owner.send('addMember', makeOwner(invited[0]));
      await owner.waitFor(isGroupRecord(group), from);
      await owner.waitFor((e) => e.type === 'system' && e.payload.kind === 'ownerAdded', from);
      expect(await errorCodeOf(owner, 'addMember', makeOwner(invited[1]), answered)).toBe('too-many-owners');
      const listed = await ask(owner, 'listMembers', { group }, isGroupRecord(group));
      expect(listed.payload.owners).toEqual([owner.user, invited[0]]);
      expect(await errorCodeOf(owner, 'renameGroup', { group, title: 'y'.repeat(11) }, answered)).toBe(
        'invalid-title',
      );
      expect(await errorCodeOf(owner, 'setTopic', { group, topic: 'y'.repeat(13) }, answered)).toBe(
        'invalid-topic',
      );
      const topical = await ask(owner, 'setTopic', { group, topic: 'y'.repeat(12) }, isGroupRecord(group));
      expect(topical.payload.topic).toBe('y'.repeat(12));

      // Groups per user: the owner is in one; a channel makes two; a third is refused.
      expect(await errorCodeOf(owner, 'joinGroup', { group: `lim-chan-${s}` }, answered)).toBe('answered');
      expect(await errorCodeOf(owner, 'joinGroup', { group: `lim-more-${s}` }, answered)).toBe(
        'too-many-groups',
      );
      expect(await errorCodeOf(owner, 'createGroup', { group: `lim-new-${s}` }, answered)).toBe(
        'too-many-groups',
      );
    });
  });
});
