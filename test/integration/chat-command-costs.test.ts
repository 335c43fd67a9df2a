/**
 * What the commands no limit counted before cost (docs/architecture.md, "Fair sharing"), through the whole local
 * stack: a command that does not exist counts as one and is refused as `rate-limited` past the limit like any
 * other; a `findPeople` counts one per `DEFAULT_PEOPLE_PER_COMMAND` people of its limit; a `loadHistory` one per
 * `DEFAULT_HISTORY_MESSAGES_PER_COMMAND` messages of its limit and one more with `before`. Fixed counts: next to
 * no refill, so what a user spends is what the burst gave.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_HISTORY_MESSAGES_PER_COMMAND,
  DEFAULT_PEOPLE_PER_COMMAND,
} from '../../src/lib/chat/index.js';
import { ROOM } from '../../src/lib/conversation.js';
import { ask, type ChatClient, isMessage, type ReceivedEvent } from '../support/chat-clients.js';
import { useChatStack } from '../support/fixtures.js';

const BURST = 30;
const chat = useChatStack({
  env: { CHAT_COMMAND_BURST: String(BURST), CHAT_COMMANDS_PER_SECOND: '0.001' },
});

const answerOr = (type: string) => (e: ReceivedEvent) => e.type === type || e.type === 'error';

/** Sends `command` `times` times, one after the other, and counts the answers by event type or error code. */
async function tally(
  client: ChatClient,
  times: number,
  command: string | ((i: number) => string),
  payload: unknown,
  answer: string,
): Promise<{ counts: Record<string, number>; last: ReceivedEvent }> {
  const counts: Record<string, number> = {};
  let last: ReceivedEvent | undefined;
  for (let i = 0; i < times; i++) {
    const name = typeof command === 'string' ? command : command(i);
    last = await ask(client, name, payload, answerOr(answer));
    const key = last.type === 'error' ? String(last.payload.code) : last.type;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return { counts, last: last as ReceivedEvent };
}

describe('the cost of every command', () => {
  it('counts commands that do not exist and refuses them past the limit with rate-limited', async () => {
    const client = await chat.connect('nomethod', 'signalr');
    const { counts, last } = await tally(client, BURST + 5, (i) => `noSuchMethod${i}`, { x: 1 }, 'never');
    expect(counts).toEqual({ 'unknown-command': BURST, 'rate-limited': 5 });
    expect(last.payload.command).toBe(`noSuchMethod${BURST + 4}`);
    expect(last.payload.retryAfterMs).toBeGreaterThan(0);
    expect(last.payload.message).toContain(`at most ${BURST} commands at once`);
  }, 120_000);

  it('counts a people search by the people it asks for', async () => {
    const client = await chat.connect('searcher', 'signalr');
    // 50 people: three commands each, so ten from a full bucket of 30.
    const cost = Math.ceil(50 / DEFAULT_PEOPLE_PER_COMMAND);
    expect(cost).toBe(3);
    const { counts, last } = await tally(client, 12, 'findPeople', { query: 's', limit: 50 }, 'people');
    expect(counts).toEqual({ people: BURST / cost, 'rate-limited': 2 });
    expect(last.payload.message).toContain(
      `this findPeople counts as 3 commands, one per ${DEFAULT_PEOPLE_PER_COMMAND} people of its limit`,
    );
  }, 120_000);

  it('counts a page of history by its size, and one more to find its "before"', async () => {
    const client = await chat.connect('pager', 'signalr');
    await client.send('sendMessage', { text: 'a page starts here', clientMessageId: 'pager-1' });
    const sent = await client.waitFor(isMessage('a page starts here'));
    const before = (sent.payload as { id: string }).id;
    // 100 messages before a message: two for the page, one for finding the message. 29 left after the send:
    // nine pages, then a page of three is refused and takes nothing.
    const cost = Math.ceil(100 / DEFAULT_HISTORY_MESSAGES_PER_COMMAND) + 1;
    expect(cost).toBe(3);
    const page = { conversation: ROOM, before, limit: 100 };
    const { counts, last } = await tally(client, 10, 'loadHistory', page, 'history');
    expect(counts).toEqual({ history: 9, 'rate-limited': 1 });
    expect(last.payload.message).toContain('this loadHistory counts as 3 commands');
    // The two left pay for two pages of 50 without a "before", one each, and nothing more.
    const latest = await tally(client, 3, 'loadHistory', { conversation: ROOM, limit: 50 }, 'history');
    expect(latest.counts).toEqual({ history: 2, 'rate-limited': 1 });
  }, 120_000);
});
