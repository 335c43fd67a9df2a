/**
 * Moderation's handlers on a real Azurite (docs/architecture.md, "Moderation"): what the sender of a
 * `removeMessage` hears when the history store refuses the record or cannot be reached.
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
async function setUp(options: { failWrites?: () => boolean; append?: 'drop-by' } = {}) {
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
    reports: new ReportStore(client),
    audit: new AuditLog(client),
    disconnect: async () => undefined,
    history: {
      find: (conversation, id) => history.find(conversation, id),
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
  return { remove, delivered, message, history };
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
    expect(delivered).toHaveLength(2);
  });
});
