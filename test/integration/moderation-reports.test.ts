/**
 * Reports as moderators need them, on a real Azurite (docs/architecture.md, "Moderation"): the text as readers
 * saw it when reported (and the first text when edited), no report of a deleted or removed message, pages of
 * open reports newest first that a cursor continues, and a bound on one person's open reports.
 */
import { describe, expect, it } from 'vitest';
import {
  AuditLog,
  type Caller,
  type ChatEvent,
  type ChatReply,
  type MessageReport,
  ModerationHandlers,
  ModerationStore,
  ReportStore,
} from '../../src/lib/chat/index.js';
import { GroupRecordStore } from '../../src/lib/conversations/index.js';
import { createHistoryStore } from '../../src/lib/history/index.js';
import { useAzurite } from '../support/fixtures.js';

const blob = useAzurite();

const caller = (user: string, roles: Caller['roles'] = []): Caller => ({
  user,
  connectionId: `c-${user}`,
  dialect: 'signalr',
  roles,
});
const mona = caller('mona', ['moderator']);
const unused = () => {
  throw new Error('not used by these commands');
};

async function setUp(options: { maxOpenPerUser?: number } = {}) {
  const client = blob.container();
  await client.create();
  const history = createHistoryStore({ containerClient: client });
  const records = new GroupRecordStore(client);
  const toModerators: ChatEvent[] = [];
  const handlers = new ModerationHandlers({
    enabled: true,
    store: new ModerationStore(client),
    reports: new ReportStore(client, options),
    audit: new AuditLog(client),
    disconnect: async () => undefined,
    history,
    // Everyone is in every group here: reading a group is checked elsewhere (chat-moderation tests).
    members: { isMember: async () => true, remove: unused },
    records,
    fanout: {
      toAll: async () => undefined,
      toGroup: async (_group, event) => {
        toModerators.push(event);
      },
      toUser: async () => undefined,
      removeUserFromGroup: unused,
    },
    lists: { leaveGroup: unused },
    at: () => new Date().toISOString(),
  });
  const send = async (from: string, text: string) =>
    (await history.append({ conversation: 'room', from, text })).message;
  const report = (who: string, messageId: string): Promise<ChatReply | undefined> =>
    handlers.run(caller(who), { type: 'reportMessage', conversation: 'room', messageId });
  const list = async (limit: number, after?: string) => {
    const reply = await handlers.run(mona, { type: 'listReports', limit, ...(after ? { after } : {}) });
    return reply as ChatReply & { payload: { reports: MessageReport[]; more: boolean; next?: string } };
  };
  return { history, records, handlers, send, report, list, toModerators };
}

describe('a report of a message', () => {
  it('carries the text as readers saw it when reported, and the first text when an edit changed it', async () => {
    const { history, send, report, toModerators } = await setUp();
    const message = await send('ann', 'have a nice day');
    // Other lines between the message and its edit, as in a lively room.
    for (let i = 0; i < 5; i++) await send('cat', `chatter ${i}`);
    await history.append({
      conversation: 'room',
      from: 'ann',
      text: 'abuse',
      kind: 'edit',
      target: message.id,
    });
    expect(await report('bob', message.id)).toMatchObject({ event: 'moderation' });
    const sent = toModerators.find((e) => e.event === 'report');
    expect(sent?.payload).toMatchObject({
      text: 'abuse',
      originalText: 'have a nice day',
      editedAt: expect.any(String),
    });
    // An edit by anyone but the author changes nothing readers see, and nothing a report copies.
    const other = await send('ann', 'fine words');
    await history.append({
      conversation: 'room',
      from: 'eve',
      text: 'forged',
      kind: 'edit',
      target: other.id,
    });
    await report('bob', other.id);
    const plain = toModerators.filter((e) => e.event === 'report').at(-1)?.payload as MessageReport;
    expect(plain.text).toBe('fine words');
    expect(plain).not.toHaveProperty('originalText');
  });

  it("names a group's title and kind as its members saw them, which moderators outside it cannot read", async () => {
    const { history, records, handlers, send, toModerators } = await setUp();
    await records.create({
      group: 'standup',
      kind: 'private',
      title: 'Daily standup',
      owners: ['ann'],
      members: ['ann', 'bob'],
    });
    const inGroup = await history.append({
      conversation: 'group:standup',
      from: 'ann',
      group: 'standup',
      text: 'rude words',
    });
    const inRoom = await send('ann', 'rude words in the room');
    for (const message of [inGroup.message, inRoom]) {
      const reply = await handlers.run(caller('bob'), {
        type: 'reportMessage',
        conversation: message.conversation,
        messageId: message.id,
      });
      expect(reply).toMatchObject({ event: 'moderation' });
    }
    const sent = toModerators.filter((e) => e.event === 'report').map((e) => e.payload as MessageReport);
    expect(sent[0]).toMatchObject({
      conversation: 'group:standup',
      groupTitle: 'Daily standup',
      groupKind: 'private',
    });
    expect(sent[1]?.conversation).toBe('room');
    expect(sent[1]).not.toHaveProperty('groupTitle');
  });

  it('is refused for a message its author deleted or a moderator removed, and tells the moderators nothing', async () => {
    const { history, handlers, send, report, toModerators } = await setUp();
    const deleted = await send('ann', 'oops');
    await history.append({ conversation: 'room', from: 'ann', text: '', kind: 'delete', target: deleted.id });
    const removed = await send('ann', 'rude');
    await handlers.run(mona, { type: 'removeMessage', conversation: 'room', messageId: removed.id });
    const before = toModerators.length;
    const first = await report('bob', deleted.id);
    expect(first).toMatchObject({ event: 'error', payload: { code: 'message-deleted' } });
    expect((first as { payload: { message: string } }).payload.message).toContain('its author deleted it');
    const second = await report('bob', removed.id);
    expect(second).toMatchObject({ event: 'error', payload: { code: 'message-deleted' } });
    expect((second as { payload: { message: string } }).payload.message).toContain('a moderator removed it');
    expect(toModerators.slice(before).filter((e) => e.event === 'report')).toEqual([]);
  });
});

describe('open reports', () => {
  it('come newest message first, a page at a time, and "next" continues where the page ended', async () => {
    const { send, report, list } = await setUp();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await send('eve', `spam ${i}`)).id);
    // Reported in another order than sent: the listing is by the message's time.
    for (const id of [ids[2], ids[0], ids[4], ids[1], ids[3]]) await report('bob', String(id));
    const seen: string[] = [];
    let page = await list(2);
    seen.push(...page.payload.reports.map((r) => r.id));
    while (page.payload.more) {
      expect(page.payload.next).toEqual(expect.any(String));
      page = await list(2, page.payload.next);
      seen.push(...page.payload.reports.map((r) => r.id));
    }
    expect(seen).toEqual([...ids].reverse());
    expect(page.payload).not.toHaveProperty('next');
  });

  it('are bounded per person: one more is refused until moderators resolve one of theirs', async () => {
    const { handlers, send, report, list } = await setUp({ maxOpenPerUser: 3 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await send('eve', `spam ${i}`)).id);
    for (const id of ids.slice(0, 3))
      expect(await report('spammer', id)).toMatchObject({ event: 'moderation' });
    const refused = await report('spammer', String(ids[3]));
    expect(refused).toMatchObject({ event: 'error', payload: { code: 'too-many-reports' } });
    // Someone else still reports, and joining a report counts for the joiner only.
    expect(await report('bob', String(ids[0]))).toMatchObject({ event: 'moderation' });
    expect(await report('bob', String(ids[3]))).toMatchObject({ event: 'moderation' });
    await handlers.run(mona, { type: 'resolveReport', report: String(ids[1]) });
    expect(await report('spammer', String(ids[4]))).toMatchObject({ event: 'moderation' });
    expect(await report('spammer', String(ids[2]))).toMatchObject({
      event: 'error',
      payload: { code: 'already-reported' },
    });
    const open = (await list(10)).payload.reports.map((r) => r.id);
    expect(open.sort()).toEqual([ids[0], ids[2], ids[3], ids[4]].sort());
  });
});
