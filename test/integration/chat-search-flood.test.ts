/**
 * Many names flood the room with searches, then leave (docs/architecture.md, "Fair sharing"): none of the searches
 * they had queued in the service reaches the app after they are gone, and another user is answered during the
 * flood and after it. A proxy between the service and the app holds every search until the flooders have left, so
 * the counts are exact: what reaches the app is the one search per connection that was already on its way (the
 * drain bound), never the rest of the flood. Fixed counts only; every wait is for a state.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { chatServices } from '../../src/app/services.js';
import type { ChatClient, ReceivedEvent } from '../support/chat-clients.js';
import { useChatStack } from '../support/fixtures.js';
import { type RecordingProxy, startRecordingProxy } from '../support/recording-proxy.js';

const FLOODERS = 10;
const SEARCHES_EACH = 12;
const DROPPED = 'Dropped client messages queued for the upstream';

/** Searches that reached the proxy, and those of them it holds now. */
const searches = { seen: 0, holding: 0 };
/** Set while searches are held: they go on to the app once it resolves. */
let hold: Promise<void> | undefined;
let proxy: RecordingProxy | undefined;

/** A search upstream: SignalR names its target in the URL, Web PubSub sends the command as a `message` event. */
function isSearch(url: string, body: Buffer): boolean {
  return (
    url.includes('event=searchMessages') ||
    (url.includes('event=message') && body.includes('"type":"searchMessages"'))
  );
}

const chat = useChatStack({
  upstreamVia: async (origin) => {
    proxy = await startRecordingProxy(origin, {
      intercept: async ({ url, body }) => {
        if (!isSearch(url, body)) return undefined;
        searches.seen++;
        if (hold === undefined) return undefined;
        searches.holding++;
        await hold;
        searches.holding--;
        return undefined;
      },
    });
    return proxy.url;
  },
});
afterAll(async () => {
  await proxy?.close();
});

/** Resolves once `done` holds, checking every 20 ms (the test's timeout bounds it). */
async function until(done: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await done())) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** Whether the service still has a connection of `user`, asked through the REST API of the dialect's service. */
function connected(dialect: 'signalr' | 'webpubsub', user: string): Promise<boolean> {
  const services = chatServices();
  const client = dialect === 'signalr' ? services.signalr : services.webPubSub.client;
  if (client === undefined) throw new Error('The stack runs without Web PubSub');
  return client.userExists(user);
}

/** What the service logged it dropped of `prefix`'s users, one count per connection. */
function dropped(prefix: string): number[] {
  return chat.stack.logs
    .filter((line) => line.includes(DROPPED) && line.includes(`"userId":"${prefix}`))
    .map((line) => Number(/"dropped":(\d+)/.exec(line)?.[1]));
}

const leftAs = (user: string) => (e: ReceivedEvent) =>
  e.type === 'presence' && (e.payload.left as string[]).includes(user);

describe.each(['signalr', 'webpubsub'] as const)('a search flood from many names over %s', (dialect) => {
  const s = dialect === 'signalr' ? 'sr' : 'wps';

  it('reaches the app with no search queued before the flooders left, and the others are answered', async () => {
    const calm = await chat.connect(`calm-${s}`, dialect);
    const flood: ChatClient[] = await Promise.all(
      Array.from({ length: FLOODERS }, (_, i) => chat.connect(`flood-${s}-${i}`, dialect)),
    );
    let release: () => void = () => {};
    hold = new Promise((resolve) => {
      release = resolve;
    });
    const before = searches.seen;
    try {
      for (const client of flood) {
        for (let k = 0; k < SEARCHES_EACH; k++) {
          await client.send('searchMessages', { conversation: 'room', query: `needle ${k}` });
        }
      }
      // Each connection's first search is on its way to the app (held); the rest wait in the service.
      await until(() => searches.holding === FLOODERS);
      // Another user is answered while the flood waits.
      const mark = calm.events.length;
      await calm.send('loadHistory', { conversation: 'room', limit: 5 });
      await calm.waitFor((e) => e.type === 'history', mark);

      await Promise.all(flood.map((client) => client.close()));
      // The service has seen every close: none of the flooders has a connection any more.
      const gone = async (user: string) => !(await connected(dialect, user));
      await until(async () => (await Promise.all(flood.map((client) => gone(client.user)))).every(Boolean));
    } finally {
      hold = undefined;
      release();
    }
    // Each flooder's leave is announced once its disconnect, queued after everything it sent, has run.
    for (const client of flood) await calm.waitFor(leftAs(client.user));
    expect(searches.seen - before).toBe(FLOODERS);
    // The service said what it dropped, connection by connection.
    expect(dropped(`flood-${s}-`)).toEqual(Array(FLOODERS).fill(SEARCHES_EACH - 1));

    const mark = calm.events.length;
    await calm.send('searchMessages', { conversation: 'room', query: 'needle' });
    await calm.waitFor((e) => e.type === 'searchResults', mark);
    expect(searches.seen - before).toBe(FLOODERS + 1);
  }, 120_000);
});
