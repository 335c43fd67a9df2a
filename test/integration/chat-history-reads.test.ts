/**
 * Searches and history pages one Function instance reads at once (docs/architecture.md, "Fair sharing"): past
 * `CHAT_MAX_CONCURRENT_HISTORY_READS` such a command is answered `busy` at once, with when to try again, instead of
 * queueing behind reads whose callers may have gone; the reads in flight finish, and once they have, the same
 * command is served. A recording proxy in front of Azurite holds the history reads, so the counts are exact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BUSY_RETRY_AFTER_MS } from '../../src/lib/chat/index.js';
import { azuriteConnectionString } from '../../src/local/dev-constants.js';
import { type ChatClient, isMessage, type ReceivedEvent } from '../support/chat-clients.js';
import { useChatStack } from '../support/fixtures.js';
import { type RecordingProxy, startRecordingProxy } from '../support/recording-proxy.js';

const AT_ONCE = 2;
const chat = useChatStack({ env: { CHAT_MAX_CONCURRENT_HISTORY_READS: String(AT_ONCE) } });
let proxy: RecordingProxy;
let direct: string | undefined;
/** Set while history reads are held: their answers go on once it resolves. */
let hold: Promise<void> | undefined;
let holding = 0;

beforeAll(async () => {
  proxy = await startRecordingProxy(`http://127.0.0.1:${chat.stack.blob.port}`, {
    holdAnswer: ({ method, url }) => {
      // A history segment's download (`….jsonl`): what a search or a history page reads.
      if (hold === undefined || method !== 'GET' || !url.includes('.jsonl')) return undefined;
      holding++;
      return hold.finally(() => {
        holding--;
      });
    },
  });
  direct = process.env.CHAT_HISTORY_STORAGE;
  process.env.CHAT_HISTORY_STORAGE = azuriteConnectionString(`${proxy.url}/devstoreaccount1`);
});
afterAll(async () => {
  process.env.CHAT_HISTORY_STORAGE = direct;
  await proxy.close();
});

/** Resolves once `done` holds, checking every 20 ms (the test's timeout bounds it). */
async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((resolve) => setTimeout(resolve, 20));
}

const answerTo = (command: string) => (e: ReceivedEvent) =>
  (command === 'searchMessages' ? e.type === 'searchResults' : e.type === 'history') ||
  (e.type === 'error' && e.payload.command === command);

describe('history reads on one instance', () => {
  it('answers busy past the bound at once, with when to try again, and serves the command once reads end', async () => {
    const ann: ChatClient = await chat.connect('ann', 'signalr');
    const bob: ChatClient = await chat.connect('bob', 'webpubsub');
    const cy: ChatClient = await chat.connect('cy', 'signalr');
    await ann.send('sendMessage', { text: 'something to find' });
    await ann.waitFor(isMessage('something to find'));

    let release: () => void = () => {};
    hold = new Promise((resolve) => {
      release = resolve;
    });
    const marks = { ann: ann.events.length, bob: bob.events.length, cy: cy.events.length };
    try {
      await ann.send('searchMessages', { conversation: 'room', query: 'something' });
      await bob.send('loadHistory', { conversation: 'room', limit: 20 });
      // Both reads are in the app, each waiting for its download.
      await until(() => holding === AT_ONCE);
      await cy.send('searchMessages', { conversation: 'room', query: 'something' });
      const refused = await cy.waitFor(answerTo('searchMessages'), marks.cy);
      expect(refused.type).toBe('error');
      expect(refused.payload).toMatchObject({
        code: 'busy',
        command: 'searchMessages',
        conversation: 'room',
        retryAfterMs: DEFAULT_BUSY_RETRY_AFTER_MS,
      });
      expect(String(refused.payload.message)).toContain('CHAT_MAX_CONCURRENT_HISTORY_READS');
      expect(holding).toBe(AT_ONCE);
    } finally {
      hold = undefined;
      release();
    }
    expect((await ann.waitFor(answerTo('searchMessages'), marks.ann)).type).toBe('searchResults');
    expect((await bob.waitFor(answerTo('loadHistory'), marks.bob)).type).toBe('history');
    const again = cy.events.length;
    await cy.send('searchMessages', { conversation: 'room', query: 'something' });
    const served = await cy.waitFor(answerTo('searchMessages'), again);
    expect(served.type, JSON.stringify(served.payload)).toBe('searchResults');
  }, 120_000);
});
