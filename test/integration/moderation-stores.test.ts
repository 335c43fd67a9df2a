/**
 * Moderation's handlers and report store on a real Azurite (docs/architecture.md, "Moderation"): what the sender
 * of a `removeMessage` hears when the history store refuses the record or cannot be reached, and how reports of
 * one message by several people, or by one person again, become one open report at a few Blob requests.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  AuditLog,
  type Caller,
  type ChatEvent,
  commandErrorCode,
  ModerationHandlers,
  ModerationStore,
  type NewReport,
  ReportStore,
} from '../../src/lib/chat/index.js';
import { createHistoryStore, type NewMessage } from '../../src/lib/history/index.js';
import { useAzurite } from '../support/fixtures.js';
import { useProxiedContainers } from '../support/recording-proxy.js';

const blob = useAzurite();
const proxied = useProxiedContainers(() => blob.azurite.port);

const mona: Caller = { user: 'mona', connectionId: 'c-mona', dialect: 'signalr', roles: ['moderator'] };
const unused = () => {
  throw new Error('not used by these commands');
};

/** The moderation handlers on `container`, with `append` in place of the history store's own. */
async function setUp(
  options: { failWrites?: () => boolean; append?: 'drop-by'; maxOpenPerUser?: number } = {},
) {
  const { client } = await proxied.container(`t-${randomUUID()}`, {
    intercept: ({ method }) =>
      method === 'PUT' && options.failWrites?.() ? { status: 503, code: 'ServerBusy' } : undefined,
  });
  await client.create();
  const history = createHistoryStore({ containerClient: client });
  const delivered: ChatEvent[] = [];
  const deliver = async (_to: string, event: ChatEvent) => {
    delivered.push(event);
  };
  const handlers = new ModerationHandlers({
    enabled: true,
    store: new ModerationStore(client),
    reports: new ReportStore(client, {
      ...(options.maxOpenPerUser !== undefined ? { maxOpenPerUser: options.maxOpenPerUser } : {}),
    }),
    audit: new AuditLog(client),
    disconnect: async () => undefined,
    history: {
      find: (conversation, id) => history.find(conversation, id),
      read: (conversation, page) => history.read(conversation, page),
      // A handler bug: the record loses the moderator's name on its way to the store.
      append: (message: NewMessage) =>
        history.append(options.append === 'drop-by' ? { ...message, by: undefined } : message),
    },
    members: { isMember: unused, remove: unused },
    records: { read: unused },
    fanout: {
      toAll: async (event) => {
        delivered.push(event);
      },
      toGroup: deliver,
      toUser: deliver,
      removeUserFromGroup: unused,
    },
    lists: { leaveGroup: unused },
    at: () => new Date().toISOString(),
  });
  const { message } = await history.append({
    conversation: 'dm:ann:bob',
    from: 'ann',
    to: 'bob',
    text: 'rude words',
  });
  const remove = () =>
    handlers.run(mona, { type: 'removeMessage', conversation: message.conversation, messageId: message.id });
  return { remove, delivered, message, history, handlers };
}

describe('a moderator removing a message when the store fails', () => {
  it('hears `internal` when the history store refuses the record, never "send it again"', async () => {
    const { remove, delivered } = await setUp({ append: 'drop-by' });
    const thrown = await remove().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(thrown).toMatchObject({ name: 'HistoryError', code: 'invalid-message' });
    expect(commandErrorCode(thrown)).toBe('internal');
    expect(delivered).toEqual([]);
  });

  it('hears `storage-unavailable` when the store does not take the write', async () => {
    let down = false;
    const { remove, delivered } = await setUp({ failWrites: () => down });
    down = true;
    const thrown = await remove().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(commandErrorCode(thrown)).toBe('storage-unavailable');
    expect(delivered).toEqual([]);
    down = false;
    // Sent again once the store answers, it is stored and delivered to both people of the conversation.
    const reply = await remove();
    expect(reply).toMatchObject({ event: 'ack', payload: { message: { kind: 'remove', by: 'mona' } } });
    expect(delivered.filter((e) => e.event === 'message')).toHaveLength(2);
  });
});

describe('reports of one message', () => {
  const reportOf = (reporter: string, reason?: string): NewReport => ({
    conversation: 'room',
    messageId: '01J00000000000000000000042',
    author: 'eve',
    text: 'spam',
    reporter,
    ...(reason !== undefined ? { reason } : {}),
  });

  it('make one open report that later reporters join, and a repeat changes nothing', async () => {
    const { client, proxy } = await proxied.container(`t-${randomUUID()}`);
    await client.create();
    const reports = new ReportStore(client, { maxReporters: 3 });
    const requests = async <T>(run: () => Promise<T>): Promise<[T, number]> => {
      const before = proxy.exchanges.length;
      const result = await run();
      return [result, proxy.exchanges.length - before];
    };

    const [first, firstCost] = await requests(() => reports.add(reportOf('ann', 'spam')));
    expect(first).toMatchObject({ status: 'opened', report: { reporter: 'ann', reason: 'spam' } });
    // Each counts the reporter's open reports first (one listing); opening or joining writes their marker.
    expect(firstCost).toBe(3);
    const [again, againCost] = await requests(() => reports.add(reportOf('ann', 'still spam')));
    expect(again).toMatchObject({ status: 'repeat' });
    expect(againCost).toBe(3);
    const [joined, joinCost] = await requests(() => reports.add(reportOf('bob', 'ads')));
    expect(joined).toMatchObject({ status: 'joined' });
    expect(joinCost).toBe(5);
    await reports.add(reportOf('cat'));
    expect(await reports.add(reportOf('dan'))).toMatchObject({ status: 'full' });
    expect(await reports.add(reportOf('bob'))).toMatchObject({ status: 'repeat' });

    const { reports: open } = await reports.open(10);
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ reporter: 'ann', reason: 'spam' });
    expect(open[0]?.alsoReportedBy?.map((r) => [r.user, r.reason])).toEqual([
      ['bob', 'ads'],
      ['cat', undefined],
    ]);
    // Resolved, it can be reported again, as a new report.
    expect(await reports.resolve(String(open[0]?.id))).toBe(true);
    expect(await reports.add(reportOf('ann'))).toMatchObject({ status: 'opened' });
  });

  it('keeps every one of several people reporting at the same moment', async () => {
    const { client } = await proxied.container(`t-${randomUUID()}`);
    await client.create();
    const reports = new ReportStore(client);
    const people = ['p1', 'p2', 'p3', 'p4', 'p5'];
    const outcomes = await Promise.all(people.map((p) => reports.add(reportOf(p))));
    expect(outcomes.map((o) => o.status).sort()).toEqual(['joined', 'joined', 'joined', 'joined', 'opened']);
    const { reports: open } = await reports.open(10);
    expect(open).toHaveLength(1);
    const everyone = [open[0]?.reporter, ...(open[0]?.alsoReportedBy ?? []).map((r) => r.user)];
    expect(everyone.sort()).toEqual(people);
  });
});
