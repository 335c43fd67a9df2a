/**
 * What renaming a private group costs (docs/architecture.md, "Fair sharing"), through the whole local stack: a
 * rename to another title rewrites every member's list, so it counts against the owner's command limit per
 * `CHAT_GROUP_MEMBERS_PER_COMMAND` members, as a creation does; a rename to the current title changes nothing,
 * posts no note and counts as one command.
 */
import { describe, expect, it } from 'vitest';
import { ask, isGroupRecord, type ReceivedEvent } from '../support/chat-clients.js';
import { useChatStack } from '../support/fixtures.js';

const BURST = 12;
const MEMBERS_PER_COMMAND = 2;
const chat = useChatStack({
  env: {
    CHAT_COMMAND_BURST: String(BURST),
    // Next to no refill: what the test spends is what it has.
    CHAT_COMMANDS_PER_SECOND: '0.001',
    CHAT_GROUP_MEMBERS_PER_COMMAND: String(MEMBERS_PER_COMMAND),
  },
});

const isRenameAnswer = (group: string, title: string) => (e: ReceivedEvent) =>
  isGroupRecord(group, (r) => r.title === title)(e) ||
  (e.type === 'error' && e.payload.command === 'renameGroup');

describe('renaming a private group', () => {
  it('counts one command per members it retitles, and one for a rename to the current title', async () => {
    const owner = await chat.connect('rowner', 'signalr');
    const bob = await chat.connect('rbob', 'webpubsub');
    // Six members: the creation costs 3 of the 12, each rename to another title 3 more.
    const members = ['rbob', 'r1', 'r2', 'r3', 'r4'];
    await ask(owner, 'createGroup', { group: 'big', members, title: 'Big' }, isGroupRecord('big'));
    await bob.waitFor(isGroupRecord('big'));
    // Three renames to the title it has: answered with the record, one command each (9 left).
    for (let i = 0; i < 3; i++) {
      const same = await ask(
        owner,
        'renameGroup',
        { group: 'big', title: 'Big' },
        isRenameAnswer('big', 'Big'),
      );
      expect(same.type, JSON.stringify(same.payload)).toBe('group');
    }
    // A rename to another title: 3 (6 left, then 3); one more to the title it has (2 left).
    const renamed = await ask(
      owner,
      'renameGroup',
      { group: 'big', title: 'Bigger' },
      isRenameAnswer('big', 'Bigger'),
    );
    expect(renamed.type, JSON.stringify(renamed.payload)).toBe('group');
    await ask(owner, 'renameGroup', { group: 'big', title: 'Bigger' }, isRenameAnswer('big', 'Bigger'));
    // With 2 left, a rename to another title pays its first command, then is refused for the other two.
    const refused = await ask(
      owner,
      'renameGroup',
      { group: 'big', title: 'Biggest' },
      isRenameAnswer('big', 'Biggest'),
    );
    expect(refused.payload.code).toBe('rate-limited');
    expect(refused.payload.message).toContain(
      `this renameGroup counts as 3 commands, one per ${MEMBERS_PER_COMMAND} members whose lists it retitles`,
    );
    // That first command stays paid (1 left), and a rename to the title it has spends the last one.
    const last = await ask(
      owner,
      'renameGroup',
      { group: 'big', title: 'Bigger' },
      isRenameAnswer('big', 'Bigger'),
    );
    expect(last.type, JSON.stringify(last.payload)).toBe('group');
    // With none left, it is refused as any command is, before the group's record is read.
    const empty = await ask(
      owner,
      'renameGroup',
      { group: 'big', title: 'Biggest' },
      isRenameAnswer('big', 'Biggest'),
    );
    expect(empty.payload.code).toBe('rate-limited');
    expect(empty.payload.message).not.toContain('counts as');
    // Bob heard the one rename that changed the title, and nothing of the others.
    const notes = () =>
      bob.events
        .filter((e) => e.type === 'system' && e.payload.kind === 'groupRenamed')
        .map((e) => e.payload.title);
    await expect.poll(notes).toEqual(['Bigger']);
    const record = await ask(bob, 'listMembers', { group: 'big' }, isGroupRecord('big'));
    expect(record.payload.title).toBe('Bigger');
    expect(notes()).toEqual(['Bigger']);
  });
});
