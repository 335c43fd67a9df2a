/**
 * What a moderator's panel lists, on a real Azurite (docs/architecture.md, "Moderation"): who is muted (until
 * when) or banned now, lifted and ended ones gone; every action live to connected moderators as it is logged;
 * audit entries that say where (the channel, the deleted message's author) and the names of the people they name.
 */
import { describe, expect, it } from 'vitest';
import {
  type AuditedPayload,
  AuditLog,
  type AuditPayload,
  type Caller,
  type ChatEvent,
  MODERATION_PREFIX,
  ModerationHandlers,
  ModerationStore,
  ReportStore,
  type SanctionsPayload,
} from '../../src/lib/chat/index.js';
import type { GroupRecord } from '../../src/lib/conversations/index.js';
import { createHistoryStore } from '../../src/lib/history/index.js';
import { useAzurite } from '../support/fixtures.js';

const blob = useAzurite();

const mona: Caller = {
  user: 'mona',
  name: 'Mona',
  connectionId: 'c-mona',
  dialect: 'signalr',
  roles: ['moderator'],
};
const NAMES: Record<string, string> = { mona: 'Mona', bob: 'Bob', cy: 'Cy', ann: 'Ann' };

async function setUp() {
  const client = blob.container();
  await client.create();
  const history = createHistoryStore({ containerClient: client });
  let now = Date.parse('2026-12-08T04:00:00.000Z');
  const toModerators: ChatEvent[] = [];
  const store = new ModerationStore(client, { now: () => now });
  const handlers = new ModerationHandlers({
    enabled: true,
    store,
    reports: new ReportStore(client),
    audit: new AuditLog(client),
    disconnect: async () => undefined,
    directory: {
      namesOf: async (ids) => Object.fromEntries(ids.flatMap((id) => (NAMES[id] ? [[id, NAMES[id]]] : []))),
    },
    history,
    members: { isMember: async () => true, remove: async () => undefined },
    records: { read: async () => ({ kind: 'channel', title: 'Lobby' }) as GroupRecord },
    fanout: {
      toAll: async () => undefined,
      toGroup: async (_group, event) => {
        toModerators.push(event);
      },
      toUser: async () => undefined,
      removeUserFromGroup: async () => undefined,
    },
    lists: { leaveGroup: async () => undefined },
    at: () => new Date(now).toISOString(),
    now: () => now,
  });
  const run = (command: Parameters<ModerationHandlers['run']>[1]) => handlers.run(mona, command);
  const current = async () =>
    ((await run({ type: 'listSanctions', limit: 50 })) as { payload: SanctionsPayload }).payload;
  const later = (minutes: number) => {
    now += minutes * 60_000;
  };
  return { client, history, store, run, current, later, toModerators };
}

describe('who is muted or banned now', () => {
  it('lists current mutes (until when) and bans, latest first, without lifted or ended ones', async () => {
    const { run, current, later } = await setUp();
    await run({ type: 'muteUser', user: 'bob', minutes: 60 });
    later(1);
    await run({ type: 'banUser', user: 'cy' });
    later(1);
    await run({ type: 'muteUser', user: 'ann', minutes: 5 });
    later(1);
    await run({ type: 'muteUser', user: 'cy', minutes: 60 });
    expect(await current()).toEqual({
      sanctions: [
        {
          user: 'cy',
          mute: { until: '2026-12-08T05:03:00.000Z', at: '2026-12-08T04:03:00.000Z' },
          ban: { at: '2026-12-08T04:01:00.000Z' },
        },
        { user: 'ann', mute: { until: '2026-12-08T04:07:00.000Z', at: '2026-12-08T04:02:00.000Z' } },
        { user: 'bob', mute: { until: '2026-12-08T05:00:00.000Z', at: '2026-12-08T04:00:00.000Z' } },
      ],
      more: false,
      names: { cy: 'Cy', ann: 'Ann', bob: 'Bob' },
    });
    // Lifted, and ended by itself: gone from the list.
    await run({ type: 'unmuteUser', user: 'bob' });
    await run({ type: 'unbanUser', user: 'cy' });
    later(10);
    const after = await current();
    expect(after.sanctions).toEqual([
      { user: 'cy', mute: { until: '2026-12-08T05:03:00.000Z', at: '2026-12-08T04:03:00.000Z' } },
    ]);
    // A page holds at most its limit, and says there are more.
    await run({ type: 'banUser', user: 'bob' });
    const one = (await run({ type: 'listSanctions', limit: 1 })) as { payload: SanctionsPayload };
    expect(one.payload.sanctions.map((s) => s.user)).toEqual(['bob']);
    expect(one.payload.more).toBe(true);
  });

  it('lists a state written before blobs carried their summary, by reading it', async () => {
    const { client, current } = await setUp();
    const body = JSON.stringify({ ban: { by: 'mona', at: '2026-12-01T00:00:00.000Z', reason: 'spam' } });
    await client.getBlockBlobClient(`${MODERATION_PREFIX}users/eve`).upload(body, Buffer.byteLength(body));
    expect((await current()).sanctions).toEqual([{ user: 'eve', ban: { at: '2026-12-01T00:00:00.000Z' } }]);
  });
});

describe('the audit log as moderators read it', () => {
  it('tells connected moderators each action as it is logged, with where it was and the names it names', async () => {
    const { history, run, toModerators } = await setUp();
    const { message } = await history.append({
      conversation: 'dm:ann:bob',
      from: 'ann',
      to: 'bob',
      text: 'x',
    });
    await run({ type: 'removeMessage', conversation: message.conversation, messageId: message.id });
    await run({ type: 'removeFromChannel', group: 'lobby', user: 'cy' });
    await run({ type: 'muteUser', user: 'bob', minutes: 60 });
    const audited = toModerators.filter((e) => e.event === 'audited').map((e) => e.payload as AuditedPayload);
    expect(audited).toEqual([
      {
        entry: expect.objectContaining({
          action: 'removeMessage',
          by: 'mona',
          byName: 'Mona',
          author: 'ann',
        }),
        names: { mona: 'Mona', ann: 'Ann', bob: 'Bob' },
      },
      {
        entry: expect.objectContaining({ action: 'removeFromChannel', target: 'cy', group: 'lobby' }),
        names: { mona: 'Mona', cy: 'Cy' },
      },
      {
        entry: expect.objectContaining({
          action: 'muteUser',
          target: 'bob',
          until: '2026-12-08T05:00:00.000Z',
        }),
        names: { mona: 'Mona', bob: 'Bob' },
      },
    ]);
    // The page of the log carries the same entries and names; a later page repeats the cursor it answers.
    const first = (await run({ type: 'listAudit', limit: 2 })) as { payload: AuditPayload };
    expect(first.payload.entries.map((e) => e.action)).toEqual(['muteUser', 'removeFromChannel']);
    expect(first.payload.names).toEqual({ mona: 'Mona', bob: 'Bob', cy: 'Cy' });
    expect(first.payload).not.toHaveProperty('before');
    const before = String(first.payload.next);
    const second = (await run({ type: 'listAudit', limit: 2, before })) as { payload: AuditPayload };
    expect(second.payload.entries.map((e) => e.action)).toEqual(['removeMessage']);
    expect(second.payload.before).toBe(before);
  });
});
