/**
 * Message search through the whole local stack over real Azurite, on SignalR (Ann) and Web PubSub (Bob): the
 * same answers on both, refused to whoever may not read the conversation, deleted messages never found, edited
 * ones by their current text only, the cursor continuing the scan, and the scan bound reported as not complete.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../src/lib/history/index.js';
import type { ChatClient, ReceivedEvent } from '../support/chat-clients.js';
import { ask } from '../support/chat-clients.js';
import { useChatStack } from '../support/fixtures.js';

/** Small enough that the group's eight lines take two scans. */
const SCAN_BOUND = 6;
// One MiB of bytes too, so that a search costs one command (the cost is its larger bound's) and the file's
// searches stay within one user's command burst.
const chat = useChatStack({
  env: { CHAT_SEARCH_SCAN_MESSAGES: String(SCAN_BOUND), CHAT_SEARCH_SCAN_BYTES: String(1024 * 1024) },
});

let ann: ChatClient; // signalr
let bob: ChatClient; // websocket (Web PubSub)
let eve: ChatClient; // signalr, in neither conversation
const group = 'finders';
const conversation = `group:${group}`;
const dm = 'dm:ann:bob';
/** The group's messages by name, as stored. */
const m: Record<string, ChatMessage> = {};

/** The stored message of a command: its `ack`, or the sender's own copy where the fan-out carried it. */
async function stored(client: ChatClient, command: string, payload: Record<string, unknown>) {
  const cid = `c-${Math.random()}`;
  const answer = await ask(
    client,
    command,
    { ...payload, clientMessageId: cid },
    (e) =>
      ((e.type === 'ack' || e.type === 'error') && e.payload.clientMessageId === cid) ||
      (e.type === 'message' && e.payload.clientMessageId === cid && e.payload.from === client.user),
  );
  expect(answer.type, JSON.stringify(answer.payload)).not.toBe('error');
  return (answer.type === 'ack' ? answer.payload.message : answer.payload) as ChatMessage;
}

interface Results {
  conversation: string;
  query: string;
  messages: (ChatMessage & { editedAt?: string })[];
  before?: string;
  complete: boolean;
  scanned: number;
}

/** The answer to a `searchMessages`: its `searchResults`, or the `error`. */
async function search(client: ChatClient, payload: Record<string, unknown>): Promise<ReceivedEvent> {
  return ask(
    client,
    'searchMessages',
    payload,
    (e) => e.type === 'searchResults' || (e.type === 'error' && e.payload.command === 'searchMessages'),
  );
}

async function results(client: ChatClient, payload: Record<string, unknown>): Promise<Results> {
  const answer = await search(client, payload);
  expect(answer.type, JSON.stringify(answer.payload)).toBe('searchResults');
  return answer.payload as unknown as Results;
}

const texts = (r: Results) => r.messages.map((x) => x.text);

beforeAll(async () => {
  [ann, bob, eve] = await Promise.all([
    chat.connect('ann', 'signalr'),
    chat.connect('bob', 'webpubsub'),
    chat.connect('eve', 'signalr'),
  ]);
  const added = bob.waitFor((e) => e.type === 'group' && e.payload.group === group);
  await ask(
    ann,
    'createGroup',
    { group, members: ['bob'] },
    (e) => e.type === 'group' && e.payload.group === group,
  );
  await added;
  // Eight lines, oldest first: six messages, then a delete and an edit.
  m.plan = await stored(ann, 'sendMessage', { group, text: 'Deploy plan for Friday' });
  m.cafe = await stored(bob, 'sendMessage', { group, text: 'Le café est ouvert' });
  m.secret = await stored(ann, 'sendMessage', { group, text: 'secret deploy detail' });
  m.draft = await stored(ann, 'sendMessage', { group, text: 'draft wording' });
  m.chatter = await stored(bob, 'sendMessage', { group, text: 'unrelated chatter' });
  m.again = await stored(ann, 'sendMessage', { group, text: 'deploy again!' });
  await stored(ann, 'deleteMessage', { conversation, messageId: m.secret?.id });
  await stored(ann, 'editMessage', { conversation, messageId: m.draft?.id, text: 'final DEPLOY wording' });
});

describe('searchMessages through the whole local stack', () => {
  it('answers the same on both protocols: matches newest first, edited text, deleted left out, bound reported', async () => {
    const [onSignalR, onWebPubSub] = await Promise.all([
      results(ann, { conversation, query: '  deploy ' }),
      results(bob, { conversation, query: 'deploy' }),
    ]);
    expect(onWebPubSub).toEqual(onSignalR);
    expect(onSignalR).toMatchObject({ conversation, query: 'deploy', complete: false, scanned: SCAN_BOUND });
    expect(texts(onSignalR)).toEqual(['deploy again!', 'final DEPLOY wording']);
    expect(onSignalR.messages[1]).toMatchObject({ id: m.draft?.id, from: 'ann' });
    expect(onSignalR.messages[1]?.editedAt).toBeDefined();
    // The scan stopped at the bound, at the oldest line it read.
    expect(onSignalR.before).toBe(m.secret?.id);
  });

  it('continues the scan from its cursor to the beginning, then says it is complete', async () => {
    const first = await results(bob, { conversation, query: 'deploy' });
    const older = await results(bob, { conversation, query: 'deploy', before: first.before });
    expect(texts(older)).toEqual(['Deploy plan for Friday']);
    expect(older).toMatchObject({ complete: true, scanned: 2 });
    expect(older.before).toBeUndefined();
  });

  it('finds an edited message by its current text only, and a deleted one never', async () => {
    for (const query of ['draft', 'secret']) {
      const first = await results(ann, { conversation, query });
      expect(first.messages).toEqual([]);
      const older = await results(ann, { conversation, query, before: first.before });
      expect(older.messages).toEqual([]);
      expect(older.complete).toBe(true);
    }
  });

  it('matches every word, whatever the case and accents', async () => {
    const first = await results(bob, { conversation, query: 'CAFE ouvert' });
    const older = await results(bob, { conversation, query: 'CAFE ouvert', before: first.before });
    expect(texts(older)).toEqual(['Le café est ouvert']);
    expect(
      (await results(bob, { conversation, query: 'cafe fermé', before: first.before })).messages,
    ).toEqual([]);
  });

  it('stops at `limit` matches with the cursor after the last one', async () => {
    for (const text of ['lunch at noon', 'lunch moved', 'lunch cancelled']) {
      await stored(ann, 'sendMessage', { to: 'bob', text });
    }
    const first = await results(bob, { conversation: dm, query: 'lunch', limit: 2 });
    expect(texts(first)).toEqual(['lunch cancelled', 'lunch moved']);
    expect(first.complete).toBe(false);
    expect(first.before).toBe(first.messages[1]?.id);
    const rest = await results(ann, { conversation: dm, query: 'lunch', limit: 2, before: first.before });
    expect(texts(rest)).toEqual(['lunch at noon']);
    expect(rest.complete).toBe(true);
  });

  it('refuses whoever may not read the conversation, and says what to fix', async () => {
    const codeOf = async (client: ChatClient, payload: Record<string, unknown>) => {
      const answer = await search(client, payload);
      expect(answer.type).toBe('error');
      return answer.payload;
    };
    expect(await codeOf(eve, { conversation, query: 'deploy' })).toMatchObject({
      code: 'not-a-member',
      conversation,
    });
    expect((await codeOf(eve, { conversation: dm, query: 'lunch' })).code).toBe('forbidden-conversation');
    // Nothing of either conversation reached Eve.
    expect(JSON.stringify(eve.events)).not.toMatch(/deploy|lunch/i);
    const short = await codeOf(bob, { conversation, query: ' d ' });
    expect(short).toMatchObject({ code: 'invalid-query' });
    expect(String(short.message)).toContain('2–100 characters');
    // A message id of another conversation is no cursor here.
    const lunch = await results(ann, { conversation: dm, query: 'lunch' });
    const foreign = await codeOf(ann, { conversation, query: 'deploy', before: lunch.messages[0]?.id });
    expect(foreign.code).toBe('invalid-before');
    // Said as what it is: an id, but of no message here.
    expect(String(foreign.message)).toContain(`no message ${lunch.messages[0]?.id} in ${conversation}`);
    // loadHistory says the same of it, and what a malformed one is.
    const page = (payload: Record<string, unknown>) =>
      ask(ann, 'loadHistory', payload, (e) => e.type === 'error' && e.payload.command === 'loadHistory');
    const foreignPage = await page({ conversation, before: lunch.messages[0]?.id });
    expect(foreignPage.payload).toMatchObject({ code: 'invalid-before' });
    expect(String(foreignPage.payload.message)).toContain(
      `no message ${lunch.messages[0]?.id} in conversation ${conversation}`,
    );
    const malformed = await page({ conversation, before: 'nope' });
    expect(String(malformed.payload.message)).toContain('"nope" is not a message id');
  });
});
