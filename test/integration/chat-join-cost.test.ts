/**
 * What one join costs in Blob Storage, through the whole local stack over SignalR and over Web PubSub: the app
 * reaches Blob through a recording proxy, and the requests between the connect and the joiner's own presence
 * delta (the last thing a join does) are counted by operation. Each request is a billed transaction and, when
 * in series, a round trip the joiner waits for (docs/capacity.md, "What one join, message and membership change cost, and the CPU behind them").
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { azuriteConnectionString } from '../../src/local/dev-constants.js';
import {
  ask,
  type ChatClient,
  type ChatDialect,
  connectChat,
  isGroupRecord,
  isMessage,
  type ReceivedEvent,
  welcomeOf,
} from '../support/chat-clients.js';
import { useChatStack } from '../support/fixtures.js';
import {
  type RecordedExchange,
  type RecordingProxy,
  startRecordingProxy,
} from '../support/recording-proxy.js';

const chat = useChatStack();
let proxy: RecordingProxy;
let direct: string | undefined;
const clients: ChatClient[] = [];

beforeAll(async () => {
  proxy = await startRecordingProxy(`http://127.0.0.1:${chat.stack.blob.port}`);
  direct = process.env.CHAT_HISTORY_STORAGE;
  process.env.CHAT_HISTORY_STORAGE = azuriteConnectionString(`${proxy.url}/devstoreaccount1`);
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  process.env.CHAT_HISTORY_STORAGE = direct;
  await proxy.close();
});

/** The operation of a Blob request: its method and `restype`/`comp`. */
function operationOf({ method, url }: RecordedExchange): string {
  const query = new URL(url, 'http://proxy').searchParams;
  const parts = ['restype', 'comp'].flatMap((key) => (query.get(key) ? [`${key}=${query.get(key)}`] : []));
  return parts.length > 0 ? `${method} ?${parts.join('&')}` : method;
}

const announces = (user: string) => (e: ReceivedEvent) =>
  e.type === 'presence' && (e.payload.joined as string[]).includes(user);

/** Connects `user` and resolves with the Blob requests of its join, by operation, once its delta is out. */
async function joinCost(user: string, service: ChatDialect): Promise<Record<string, number>> {
  const from = proxy.exchanges.length;
  const client = await connectChat(chat.stack.functionsUrl, user, service);
  clients.push(client);
  await client.waitFor(announces(user));
  const counts: Record<string, number> = {};
  for (const exchange of proxy.exchanges.slice(from)) {
    const operation = operationOf(exchange);
    counts[operation] = (counts[operation] ?? 0) + 1;
  }
  return counts;
}

describe.each(['signalr', 'webpubsub'] as const)('a join over %s', (service) => {
  const s = service === 'signalr' ? 'sr' : 'wps';

  it('costs a newcomer 6 Blob requests, 3 of them listings, into a room with history', async () => {
    // Warm: the container exists, the room has history, the instance has listed who is online.
    const first = await connectChat(chat.stack.functionsUrl, `cost-first-${s}`, service);
    clients.push(first);
    await first.send('sendMessage', { text: `hello ${s}` });
    await first.waitFor(isMessage(`hello ${s}`));

    const from = proxy.exchanges.length;
    const counts = await joinCost(`cost-new-${s}`, service);
    // No blob is left at the lists' and read positions' old names: none is read (user-folder.ts).
    const legacy = proxy.exchanges.slice(from).filter(({ url }) => /_(lists|reads)(\/|%2F)/i.test(url));
    expect(legacy.map((e) => e.url)).toEqual([]);
    // Its entry and its name written; the room's newest page (listing and tail), its folder (one listing: no
    // membership, no list, no read state, so neither is read) and who is online read. The delta goes out on
    // the page's listing.
    expect(counts).toEqual({ PUT: 2, GET: 1, 'GET ?restype=container&comp=list': 3 });
  });

  it('costs a returning member of a group 8 Blob requests, with the unread counts of the room and the group', async () => {
    const owner = await connectChat(chat.stack.functionsUrl, `cost-owner-${s}`, service);
    clients.push(owner);
    const member = `cost-member-${s}`;
    const before = await connectChat(chat.stack.functionsUrl, member, service);
    const group = `cost-${s}`;
    await ask(owner, 'createGroup', { group, members: [member] }, isGroupRecord(group));
    await owner.send('sendMessage', { text: `read ${s}` });
    const read = await before.waitFor(isMessage(`read ${s}`));
    await ask(
      before,
      'markRead',
      { conversation: 'room', messageId: read.payload.id },
      (e) => e.type === 'read',
    );
    const from = owner.events.length;
    await before.close(); // writes the read position
    // The leave's own delta (and its listing) is out before the join is counted.
    await owner.waitFor((e) => e.type === 'presence' && (e.payload.left as string[]).includes(member), from);
    for (const text of [`missed in the room ${s}`, `missed in the group ${s}`]) {
      await owner.send('sendMessage', text.includes('group') ? { text, group } : { text });
      await owner.waitFor(isMessage(text));
    }

    const counts = await joinCost(member, service);
    const back = clients.at(-1) as ChatClient;
    expect(welcomeOf(back).groups).toContain(group);
    // Its list says the group is private, from its entry: no read of the group's record.
    const { entries } = (
      welcomeOf(back) as unknown as {
        conversations: { entries: { conversation: string; groupKind?: string }[] };
      }
    ).conversations;
    expect(entries.find((e) => e.conversation === `group:${group}`)?.groupKind).toBe('private');
    expect(welcomeOf(back).history.messages.map((m) => m.text)).toContain(`missed in the room ${s}`);
    const reads = (back.events.find((e) => e.type === 'welcome')?.payload.reads ?? []) as {
      conversation: string;
      unread: number;
    }[];
    expect(reads.find((r) => r.conversation === 'room')?.unread).toBe(1);
    expect(reads.find((r) => r.conversation === `group:${group}`)?.unread).toBe(1);
    // As a newcomer's, with its memberships listed again after they are re-applied (a removal meanwhile is
    // taken back) and the group's newest page for its count (listing and tail); one read of the room serves
    // its page and count. Its name is known. Its list and read state are not read: the folder's listing shows
    // them at the ETags this instance last wrote (another instance would read them: two GETs more).
    expect(counts).toEqual({ PUT: 1, GET: 2, 'GET ?restype=container&comp=list': 5 });
  });
});
