/**
 * The daily bound on the groups one user creates (`CHAT_MAX_GROUPS_CREATED_PER_DAY`, docs/architecture.md,
 * "Private groups and channels"), over the group rules and real stores in Azurite with a clock the test moves:
 * the window slides, refused creations do not count, and two Function instances (two sets of stores over one
 * container) creating for one user at once share the bound exactly.
 */
import type { ContainerClient } from '@azure/storage-blob';
import { describe, expect, it } from 'vitest';
import { type GroupCommand, GroupHandlers, MembershipStore } from '../../src/lib/chat/index.js';
import {
  ChannelDirectory,
  ConversationListStore,
  GroupCreationStore,
  type GroupLimits,
  GroupRecordStore,
  ListUpdates,
} from '../../src/lib/conversations/index.js';
import { createHistoryStore } from '../../src/lib/history/index.js';
import { useAzurite } from '../support/fixtures.js';

const blob = useAzurite();

const HOUR = 60 * 60_000;
const T0 = Date.parse('2026-12-08T10:00:00.000Z');

/** The group rules of one Function instance: its own stores over the shared container, and a clock. */
function instance(container: ContainerClient, clock: { now: number }, limits: GroupLimits = {}) {
  const creations = new GroupCreationStore(container, { writeAttempts: 50 });
  const handlers = new GroupHandlers({
    records: new GroupRecordStore(container),
    channels: new ChannelDirectory(container),
    creations,
    members: new MembershipStore(container),
    // Only the realtime service is left out.
    fanout: {
      addUserToGroup: async () => undefined,
      removeUserFromGroup: async () => undefined,
      toGroup: async () => undefined,
      toUser: async () => undefined,
    },
    lists: new ListUpdates(new ConversationListStore(container), async () => undefined),
    history: createHistoryStore({ containerClient: container }),
    at: () => new Date(clock.now).toISOString(),
    ...limits,
  });
  return { handlers, creations };
}

async function fresh(): Promise<ContainerClient> {
  const container = blob.container();
  await container.create();
  return container;
}

type Create = Extract<GroupCommand, { type: 'createGroup' }>;
const channel = (group: string): Create => ({
  type: 'createGroup',
  group,
  kind: 'channel',
  members: [],
});
const codeOf = (answer: unknown) =>
  (answer as { payload?: { code?: string } } | undefined)?.payload?.code ?? 'created';

describe('groups one user creates in any 24 hours', () => {
  it('refuses one past the bound, saying when the next is possible, until the oldest creation is a day old', async () => {
    const clock = { now: T0 };
    const { handlers, creations } = instance(await fresh(), clock, { maxGroupsCreatedPerDay: 3 });
    for (const [i, hours] of [0, 2, 4].entries()) {
      clock.now = T0 + hours * HOUR;
      expect(codeOf(await handlers.run('ann', channel(`c${i}`)))).toBe('created');
    }
    clock.now = T0 + 10 * HOUR;
    const refused = await handlers.run('ann', channel('c3'));
    expect(refused).toMatchObject({
      event: 'error',
      payload: { code: 'too-many-groups-created', command: 'createGroup', until: '2026-12-09T10:00:00.000Z' },
    });
    expect(JSON.stringify(refused)).toContain('the next one is possible at 2026-12-09T10:00:00.000Z');
    // Joining a name nobody uses would create a channel: refused the same way, and nothing is created.
    expect(await handlers.joinRefusal('ann', 'c3')).toMatchObject({
      code: 'too-many-groups-created',
      command: 'joinGroup',
    });
    expect(await handlers.run('bob', { type: 'listMembers', group: 'c3' })).toMatchObject({
      payload: { owners: [] },
    });
    // Another user creates as before.
    expect(codeOf(await handlers.run('bob', channel('b0')))).toBe('created');
    // A millisecond before the first creation is a day old: still refused; at that time: admitted.
    clock.now = T0 + 24 * HOUR - 1;
    expect(codeOf(await handlers.run('ann', channel('c3')))).toBe('too-many-groups-created');
    clock.now = T0 + 24 * HOUR;
    expect(codeOf(await handlers.run('ann', channel('c3')))).toBe('created');
    expect(codeOf(await handlers.run('ann', channel('c4')))).toBe('too-many-groups-created');
    // The second creation leaves the window two hours later.
    clock.now = T0 + 26 * HOUR;
    expect(codeOf(await handlers.run('ann', channel('c4')))).toBe('created');
    expect(await creations.created('ann', clock.now)).toEqual([
      T0 + 4 * HOUR,
      T0 + 24 * HOUR,
      T0 + 26 * HOUR,
    ]);
  });

  it('does not count a refused creation, whichever check refused it', async () => {
    const clock = { now: T0 };
    const { handlers, creations } = instance(await fresh(), clock, {
      maxGroupsCreatedPerDay: 2,
      maxGroupsPerUser: 1,
      maxMembers: 2,
    });
    expect(codeOf(await handlers.run('bob', channel('taken')))).toBe('created');
    expect(codeOf(await handlers.run('ann', channel('taken')))).toBe('group-exists');
    expect(
      codeOf(await handlers.run('ann', { ...channel('big'), kind: 'private', members: ['bob', 'cy'] })),
    ).toBe('group-full');
    expect(await creations.created('ann', clock.now)).toEqual([]);
    expect(codeOf(await handlers.run('ann', channel('mine')))).toBe('created');
    expect(codeOf(await handlers.run('ann', channel('more')))).toBe('too-many-groups');
    expect(await handlers.joinRefusal('ann', 'other')).toMatchObject({ code: 'too-many-groups' });
    expect(await creations.created('ann', clock.now)).toEqual([T0]);
  });

  it('leaving a group does not give its creation back', async () => {
    const clock = { now: T0 };
    const { handlers, creations } = instance(await fresh(), clock, { maxGroupsCreatedPerDay: 2 });
    for (const group of ['x', 'y']) {
      expect(codeOf(await handlers.run('ann', channel(group)))).toBe('created');
      expect(await handlers.leaveRefusal('ann', group)).toBeUndefined();
    }
    expect(codeOf(await handlers.run('ann', channel('z')))).toBe('too-many-groups-created');
    expect(await creations.created('ann', clock.now)).toHaveLength(2);
  });

  it('is exact across two instances creating for one user at once', async () => {
    const container = await fresh();
    const clock = { now: T0 };
    const limits = { maxGroupsCreatedPerDay: 20, maxGroupsPerUser: 100 };
    const [one, two] = [instance(container, clock, limits), instance(container, clock, limits)];
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? one : two).handlers.run('ann', channel(`p${i}`))),
    );
    const codes = answers.map(codeOf);
    expect(codes.filter((c) => c === 'created')).toHaveLength(20);
    expect(codes.filter((c) => c === 'too-many-groups-created')).toHaveLength(10);
    expect(await one.creations.created('ann', clock.now)).toHaveLength(20);
    // Exactly the admitted ones have records.
    const records = new GroupRecordStore(container);
    const stored = await Promise.all(answers.map((_, i) => records.read(`p${i}`)));
    expect(stored.map((r) => (r === undefined ? 'too-many-groups-created' : 'created'))).toEqual(codes);
  });
});
