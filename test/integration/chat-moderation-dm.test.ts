/**
 * Moderation where the moderator is not one of the people (docs/architecture.md, "Moderation"), through the
 * whole local stack with sign-in: a moderator removes a message of a private conversation, theirs or two
 * others', and both people see it removed, live and after a reload, on either service; a message reported
 * again by the same person, or by several people, stays one open report.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type ChatMessage, foldHistory } from '../../src/lib/history/index.js';
import { ask, type ChatClient, type ChatDialect, type ReceivedEvent } from '../support/chat-clients.js';
import { useChatStack } from '../support/fixtures.js';
import { type SignedIn, signIn } from '../support/sign-in.js';

const chat = useChatStack({ env: { CHAT_AUTH: 'entra' } });
const DIALECTS: readonly ChatDialect[] = ['signalr', 'webpubsub'];

const people: Record<string, SignedIn> = Object.create(null);
const on: Record<string, ChatClient> = Object.create(null);

const connectAs = (who: string, dialect: ChatDialect) =>
  chat.connect('whoever', dialect, { headers: { cookie: (people[who] as SignedIn).cookie } });
const idOf = (who: string) => (people[who] as SignedIn).userId;
const dm = (a: string, b: string) => `dm:${[idOf(a), idOf(b)].sort().join(':')}`;
const answerTo =
  (command: string, ...types: string[]) =>
  (e: ReceivedEvent) =>
    types.includes(e.type) || (e.type === 'error' && e.payload.command === command);
const isRemoval = (id: string) => (e: ReceivedEvent) =>
  e.type === 'message' && e.payload.kind === 'remove' && e.payload.target === id;
const client = (who: string) => on[who] as ChatClient;

/** `from` sends `text` privately to `to`; resolves with the stored message once `to` has it. */
async function sendPrivately(from: string, to: string, text: string): Promise<ChatMessage> {
  await client(from).send('sendMessage', { text, to: idOf(to) });
  const event = await client(to).waitFor((e) => e.type === 'message' && e.payload.text === text);
  return event.payload as unknown as ChatMessage;
}

beforeAll(async () => {
  const list: [string, string, string[]][] = [
    ['Mona', 'mona', ['Chat.Moderator']],
    ['Ada', 'ada', ['Chat.Admin']],
    ['Ann', 'ann', []],
    ['Bob', 'bob', []],
  ];
  for (const [name, account, roles] of list)
    people[account] = await signIn(chat.stack.functionsUrl, name, account, roles);
  on.mona = await connectAs('mona', 'signalr');
  on.ada = await connectAs('ada', 'webpubsub');
  on.ann = await connectAs('ann', 'signalr');
  on.bob = await connectAs('bob', 'webpubsub');
});

describe('a moderator removes a private message', () => {
  // Not in the conversation, and in it (as the receiver, and as the sender), from either service.
  for (const [moderator, sender, receiver] of [
    ['mona', 'ann', 'bob'],
    ['ada', 'bob', 'ann'],
    ['mona', 'ann', 'mona'],
    ['ada', 'ada', 'bob'],
  ] as const) {
    it(`${moderator} removes ${sender}'s message to ${receiver}: both see it removed, live and after a reload`, async () => {
      const text = `private ${moderator} ${sender} ${Math.random()}`;
      const message = await sendPrivately(sender, receiver, text);
      const both = [client(sender), client(receiver)];
      const marks = both.map((c) => c.events.length);
      const answer = await ask(
        client(moderator),
        'removeMessage',
        { conversation: message.conversation, messageId: message.id, reason: 'abuse' },
        answerTo('removeMessage', 'ack'),
      );
      expect(answer.type, JSON.stringify(answer.payload)).toBe('ack');
      // Addressed as the message, naming the moderator.
      const expected = {
        kind: 'remove',
        target: message.id,
        from: idOf(sender),
        to: idOf(receiver),
        by: idOf(moderator),
        conversation: dm(sender, receiver),
      };
      expect(answer.payload.message).toMatchObject(expected);
      const live = await Promise.all(both.map((c, i) => c.waitFor(isRemoval(message.id), marks[i])));
      for (const event of live) expect(event.payload).toMatchObject(expected);
      // After a reload, on either service: the history page folds it as removed.
      for (const [i, who] of [sender, receiver].entries()) {
        const again = await connectAs(who, DIALECTS[i] as ChatDialect);
        const page = await ask(
          again,
          'loadHistory',
          { conversation: message.conversation },
          answerTo('loadHistory', 'history'),
        );
        const lines = (page.payload as { messages: ChatMessage[] }).messages;
        expect(foldHistory(lines).find((m) => m.id === message.id)).toMatchObject({
          text: '',
          deleted: true,
          removed: true,
        });
        await again.close();
      }
    });
  }
});

describe('reports', () => {
  it('are one per message: a repeat is refused and tells the moderators nothing, another reporter joins it', async () => {
    const text = `report me ${Math.random()}`;
    const message = await sendPrivately('bob', 'ann', text);
    const report = { conversation: message.conversation, messageId: message.id };
    const marks = [client('mona').events.length, client('ada').events.length];
    const isReport = (e: ReceivedEvent) => e.type === 'report' && e.payload.messageId === message.id;

    const first = await ask(
      client('ann'),
      'reportMessage',
      { ...report, reason: 'spam' },
      answerTo('reportMessage', 'moderation'),
    );
    expect(first.payload).toMatchObject({ action: 'reported' });
    const again = await ask(client('ann'), 'reportMessage', report, answerTo('reportMessage', 'moderation'));
    expect(again.payload).toMatchObject({ code: 'already-reported', command: 'reportMessage' });
    expect(String(again.payload.message)).toContain('already');
    // Bob reports his own conversation's message too: the moderators hear the same report again, joined.
    const joined = await ask(
      client('bob'),
      'reportMessage',
      { ...report, reason: 'regret' },
      answerTo('reportMessage', 'moderation'),
    );
    expect(joined.payload).toMatchObject({ action: 'reported' });
    for (const [i, who] of ['mona', 'ada'].entries()) {
      const events = [
        await client(who).waitFor(isReport, marks[i]),
        await client(who).waitFor((e) => isReport(e) && Array.isArray(e.payload.alsoReportedBy), marks[i]),
      ];
      // The repeat came between the two, and sent nothing: two report events, one report id.
      const seen = client(who).events.slice(marks[i]).filter(isReport);
      expect(seen).toEqual(events);
      expect(events[1]?.payload).toMatchObject({
        id: events[0]?.payload.id,
        reporter: idOf('ann'),
        reason: 'spam',
        alsoReportedBy: [expect.objectContaining({ user: idOf('bob'), reason: 'regret' })],
      });
    }
    const listed = await ask(client('mona'), 'listReports', {}, answerTo('listReports', 'reports'));
    const open = (listed.payload.reports as { messageId: string }[]).filter(
      (r) => r.messageId === message.id,
    );
    expect(open).toHaveLength(1);
  });
});
