/**
 * What a member of many groups costs each time they connect (docs/capacity.md, "What one join, message and
 * membership change cost, and the CPU behind them"): the app reaches Blob and the local service's REST API
 * through recording proxies (the service names the proxy as its endpoint, so tokens for it hold), and the group
 * calls and the reads of group records of each connect are counted. Connecting again and again must not apply
 * every group, nor read every channel's record, each time; a restart of the service, which forgets every
 * membership, must.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  azuriteConnectionString,
  devSignalRConnectionString,
  devWebPubSubConnectionString,
} from '../../src/local/dev-constants.js';
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
import { type RecordingProxy, startRecordingProxy } from '../support/recording-proxy.js';
import type { StackOptions } from '../support/stack.js';

/** The groups of the member who reconnects, all channels (their list entries keep no title). */
const GROUPS = 12;
/** Connects counted per service. */
const CONNECTS = 3;

let service: RecordingProxy;
let blob: RecordingProxy;
let servicePort = '';
// The service's endpoint is the proxy's, known only once the proxy listens (before the stack starts).
const options: StackOptions = {
  // Far longer than the test: the counts must not depend on how fast the machine is.
  env: { CHAT_LISTED_TITLE_TTL_MS: '600000' },
};
beforeAll(async () => {
  service = await startRecordingProxy(() => `http://127.0.0.1:${servicePort}`);
  options.serviceOptions = { endpoint: service.url };
});
const chat = useChatStack(options);
const saved: Record<string, string | undefined> = {};
const settings = ['AzureSignalRConnectionString', 'WebPubSubConnectionString', 'CHAT_HISTORY_STORAGE'];
const clients: ChatClient[] = [];

beforeAll(async () => {
  servicePort = new URL(chat.stack.serviceUrl).port;
  blob = await startRecordingProxy(`http://127.0.0.1:${chat.stack.blob.port}`);
  for (const name of settings) saved[name] = process.env[name];
  throughProxies();
});

/** Points the app at the proxies (a Functions host applies the stack's settings when it starts). */
function throughProxies(): void {
  process.env.AzureSignalRConnectionString = devSignalRConnectionString(service.url);
  process.env.WebPubSubConnectionString = devWebPubSubConnectionString(service.url);
  process.env.CHAT_HISTORY_STORAGE = azuriteConnectionString(`${blob.url}/devstoreaccount1`);
}
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  for (const name of settings) process.env[name] = saved[name];
  await blob?.close();
  await service?.close();
});

/**
 * The app's REST calls that put connections in groups or check them, by service and operation, with names
 * replaced: `signalr PUT groups/{}/users/{}`, `webpubsub POST :addToGroups`.
 */
function groupCalls(from: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { method, url } of service.exchanges.slice(from)) {
    const path = new URL(url, 'http://proxy').pathname;
    const rest = /^\/api\/(v1\/)?hubs\/[^/]+\/(.*)$/.exec(path);
    if (rest === null) continue;
    const which = rest[1] === undefined ? 'webpubsub' : 'signalr';
    const shape = (rest[2] as string).replace(/(groups|users|connections)\/[^/:]+/g, '$1/{}');
    if (!shape.includes('groups') && !shape.includes('Groups')) continue;
    if (shape.endsWith(':send') || (which === 'signalr' && method === 'POST')) continue;
    const key = `${which} ${method} ${shape}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** Reads of group records (`_groups/<group>`) since `from`. */
function recordReads(from: number): number {
  return blob.exchanges
    .slice(from)
    .filter(({ method, url }) => method === 'GET' && /\/_groups(\/|%2F)/i.test(url)).length;
}

/** The title the welcome's list gives `group`. */
function listedTitle(client: ChatClient, group: string): unknown {
  const welcome = client.events.find((e) => e.type === 'welcome');
  if (welcome === undefined) throw new Error(`${client.user} has no welcome`);
  const entries = (welcome.payload.conversations as { entries: Record<string, unknown>[] }).entries;
  return entries.find((e) => e.group === group)?.title;
}

const announces = (user: string, change: 'joined' | 'left') => (e: ReceivedEvent) =>
  e.type === 'presence' && ((e.payload[change] ?? []) as string[]).includes(user);

/**
 * Connects `user` and resolves once its presence delta is out (the last thing a join does) with the join's
 * group calls and record reads; the connection stays open.
 */
async function join(
  watcher: ChatClient,
  user: string,
  dialect: ChatDialect,
): Promise<{ client: ChatClient; calls: Record<string, number>; reads: number }> {
  const [calls, reads, seen] = [service.exchanges.length, blob.exchanges.length, watcher.events.length];
  const client = await connectChat(chat.stack.functionsUrl, user, dialect);
  clients.push(client);
  await watcher.waitFor(announces(user, 'joined'), seen);
  return { client, calls: groupCalls(calls), reads: recordReads(reads) };
}

/** Closes `client` and waits until its user's leave is announced. */
async function leave(watcher: ChatClient, client: ChatClient): Promise<void> {
  const seen = watcher.events.length;
  await client.close();
  await watcher.waitFor(announces(client.user, 'left'), seen);
}

describe('a member of many channels connecting again and again', () => {
  it('applies their groups and reads their channels once, checks one mark per SignalR connect, and applies them again after the service restarts', async () => {
    const watcher = await connectChat(chat.stack.functionsUrl, 'rc-watcher', 'signalr');
    clients.push(watcher);
    const user = 'rc-member';
    const first = await connectChat(chat.stack.functionsUrl, user, 'signalr');
    const groups = Array.from({ length: GROUPS }, (_, i) => `rc-${String(i).padStart(2, '0')}`);
    for (const group of groups) {
      await ask(
        first,
        'joinGroup',
        { group },
        (e) => e.type === 'system' && e.payload.kind === 'groupJoined' && e.payload.group === group,
      );
    }
    await leave(watcher, first);
    // A fresh Functions host: this instance has read and written none of the channels' records.
    await chat.stack.restartFunctions();
    throughProxies();

    const signalr = [];
    for (let i = 0; i < CONNECTS; i++) {
      const { client, calls, reads } = await join(watcher, user, 'signalr');
      expect(welcomeOf(client).groups).toEqual(groups);
      signalr.push({ calls, reads });
      if (i < CONNECTS - 1) await leave(watcher, client);
    }
    // The first connect finds no mark (the joins added the groups, not the mark): the mark and every group once.
    // Each later one checks the mark, and the channels' titles come from what the first read.
    const check = { 'signalr GET groups/{}/users/{}': 1 };
    expect(signalr).toEqual([
      { calls: { ...check, 'signalr PUT groups/{}/users/{}': GROUPS + 1 }, reads: GROUPS },
      ...Array.from({ length: CONNECTS - 1 }, () => ({ calls: check, reads: 0 })),
    ]);
    // The last connection is in every group all the same.
    const last = clients.at(-1) as ChatClient;
    const text = 'to the last group';
    await watcher.send('joinGroup', { group: groups.at(-1) });
    await watcher.waitFor((e) => e.type === 'system' && e.payload.kind === 'groupJoined');
    await watcher.send('sendMessage', { text, group: groups.at(-1) });
    await last.waitFor(isMessage(text));
    await leave(watcher, last);

    // Web PubSub adds a user's connections of the moment only: each connection joins its groups, in one call.
    for (let i = 0; i < CONNECTS; i++) {
      const { client, calls, reads } = await join(watcher, user, 'webpubsub');
      expect(welcomeOf(client).groups).toEqual(groups);
      expect({ calls, reads }).toEqual({ calls: { 'webpubsub POST :addToGroups': 1 }, reads: 0 });
      if (i < CONNECTS - 1) await leave(watcher, client);
    }

    // A rename made on this instance shows in its next welcome at once, still without a read.
    const renamer = clients.at(-1) as ChatClient;
    const [renamed] = groups as [string];
    await ask(renamer, 'renameGroup', { group: renamed, title: 'Renamed' }, isGroupRecord(renamed));
    await leave(watcher, renamer);
    const after = await join(watcher, user, 'signalr');
    expect(listedTitle(after.client, renamed)).toBe('Renamed');
    expect(after.reads).toBe(0);
    await leave(watcher, after.client);

    // A fresh service has forgotten every membership, the mark with them: the next connect applies them again.
    await chat.stack.restartService();
    const back = await connectChat(chat.stack.functionsUrl, 'rc-watcher', 'signalr');
    clients.push(back);
    const { client, calls } = await join(back, user, 'signalr');
    expect(calls).toEqual({ ...check, 'signalr PUT groups/{}/users/{}': GROUPS + 1 });
    const again = 'after the restart';
    await back.send('sendMessage', { text: again, group: groups.at(-1) });
    await client.waitFor(isMessage(again));
  });
});
