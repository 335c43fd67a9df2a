/**
 * Every name of `Object.prototype` (`constructor`, `__proto__`, `toString`, `hasOwnProperty`, …) as a user, a
 * group and a display name, through the whole local stack: connect, the room, a private conversation, a
 * group, presence and the online list work for each as for any name, and nobody gets an error.
 */
import { describe, expect, it } from 'vitest';
import type { ChatClient, ChatDialect, ReceivedEvent } from '../support/chat-clients.js';
import { isMessage, welcomeOf } from '../support/chat-clients.js';
import { type ChatFixture, useChatStack } from '../support/fixtures.js';
import { signIn } from '../support/sign-in.js';

/** `constructor`, `__proto__`, `toString`, … (twelve in Node 20). */
const PROTOTYPE_NAMES = Object.getOwnPropertyNames(Object.prototype).sort();

const dialectOf = (i: number): ChatDialect => (i % 2 === 0 ? 'signalr' : 'webpubsub');

/** Every user named in the `presence` deltas a client received, as joined. */
function joinedSeen(client: ChatClient): Set<string> {
  const joined = new Set<string>();
  for (const event of client.events) {
    if (event.type === 'presence') for (const user of event.payload.joined as string[]) joined.add(user);
  }
  return joined;
}

/** Every display name the `presence` deltas a client received carried, by id. */
function presenceNames(client: ChatClient): Map<string, string> {
  const names = new Map<string, string>();
  for (const event of client.events) {
    if (event.type !== 'presence') continue;
    for (const [id, name] of Object.entries((event.payload.names ?? {}) as Record<string, string>)) {
      names.set(id, name);
    }
  }
  return names;
}

/** The whole online list, page by page, as `listOnline` gives it. */
async function onlineList(client: ChatClient): Promise<{ users: string[]; names: Map<string, string> }> {
  const users: string[] = [];
  const names = new Map<string, string>();
  let after: string | undefined;
  do {
    const from = client.events.length;
    await client.send('listOnline', { limit: 50, ...(after !== undefined ? { after } : {}) });
    const page: ReceivedEvent = await client.waitFor((e) => e.type === 'online', from);
    users.push(...(page.payload.users as string[]));
    for (const [id, name] of Object.entries((page.payload.names ?? {}) as Record<string, string>)) {
      names.set(id, name);
    }
    after = page.payload.next as string | undefined;
  } while (after !== undefined);
  return { users, names };
}

/** Sends from each of `people` to the room, to `witness` privately and to the group named like itself. */
async function chatWithEveryone(
  witness: ChatClient,
  witnessId: string,
  people: ReadonlyArray<{ client: ChatClient; id: string; group: string }>,
): Promise<void> {
  for (const { client, id, group } of people) {
    const joined = (user: string) => (e: ReceivedEvent) =>
      e.type === 'system' &&
      e.payload.kind === 'groupJoined' &&
      e.payload.user === user &&
      e.payload.group === group;
    await client.send('joinGroup', { group });
    await client.waitFor(joined(id));
    await witness.send('joinGroup', { group });
    await witness.waitFor(joined(witnessId));

    await client.send('sendMessage', { text: `room from ${group}` });
    const room = await witness.waitFor(isMessage(`room from ${group}`));
    expect(room.payload).toMatchObject({ from: id, conversation: 'room' });

    await client.send('sendMessage', { text: `dm from ${group}`, to: witnessId });
    const dm = await witness.waitFor(isMessage(`dm from ${group}`));
    expect(dm.payload).toMatchObject({ from: id, to: witnessId });
    await witness.send('sendMessage', { text: `dm to ${group}`, to: id });
    expect((await client.waitFor(isMessage(`dm to ${group}`))).payload).toMatchObject({ to: id });

    await client.send('sendMessage', { text: `group ${group}`, group });
    const inGroup = await witness.waitFor(isMessage(`group ${group}`));
    expect(inGroup.payload).toMatchObject({ from: id, group, conversation: `group:${group}` });
  }
}

function expectNoErrors(clients: readonly ChatClient[]): void {
  for (const client of clients) {
    expect(
      client.events.filter((e) => e.type === 'error').map((e) => e.payload),
      client.user,
    ).toEqual([]);
  }
}

describe('names of Object.prototype as user and group names (no sign-in)', () => {
  const chat: ChatFixture = useChatStack();

  it('connects, chats in the room, privately and in groups, and shows each in presence and the online list', async () => {
    expect(PROTOTYPE_NAMES).toEqual(
      expect.arrayContaining(['__proto__', 'constructor', 'toString', 'valueOf']),
    );
    const ann = await chat.connect('ann', 'signalr');
    const people: Array<{ client: ChatClient; id: string; group: string }> = [];
    for (const [i, name] of PROTOTYPE_NAMES.entries()) {
      const client = await chat.connect(name, dialectOf(i));
      expect(welcomeOf(client).user).toBe(name);
      people.push({ client, id: name, group: name });
    }
    await chatWithEveryone(ann, 'ann', people);

    // Presence: every one of them joined, as ann saw it, and the online list names them all.
    await ann.waitFor(() => PROTOTYPE_NAMES.every((name) => joinedSeen(ann).has(name)));
    const online = await onlineList(ann);
    expect(online.users).toEqual(expect.arrayContaining([...PROTOTYPE_NAMES, 'ann']));

    // Someone who comes later gets the room's history with every one of them, and the same online list.
    const zed = await chat.connect('zed', 'webpubsub');
    const history = welcomeOf(zed).history.messages.map((m) => m.text);
    expect(history).toEqual(expect.arrayContaining(PROTOTYPE_NAMES.map((name) => `room from ${name}`)));
    expect((await onlineList(zed)).users).toEqual(expect.arrayContaining(PROTOTYPE_NAMES));

    // They leave, and presence says so for each.
    await Promise.all(people.map(({ client }) => client.close()));
    await ann.waitFor(() => {
      const left = new Set<string>();
      for (const event of ann.events) {
        if (event.type === 'presence') for (const user of event.payload.left as string[]) left.add(user);
      }
      return PROTOTYPE_NAMES.every((name) => left.has(name));
    });
    expectNoErrors([ann, zed, ...people.map((p) => p.client)]);
  });
});

describe('names of Object.prototype as display names and group names (sign-in)', () => {
  const chat: ChatFixture = useChatStack({ env: { CHAT_AUTH: 'entra' } });

  it('names each person by it in their welcome, their messages, presence and the online list', async () => {
    const url = chat.stack.functionsUrl;
    const annSession = await signIn(url, 'Ann', 'ann');
    const ann = await chat.connect('ann', 'signalr', { headers: { cookie: annSession.cookie } });
    const people: Array<{ client: ChatClient; id: string; group: string }> = [];
    for (const [i, name] of PROTOTYPE_NAMES.entries()) {
      const session = await signIn(url, name, `proto${i}`);
      const client = await chat.connect(`proto${i}`, dialectOf(i), { headers: { cookie: session.cookie } });
      expect(client.events.find((e) => e.type === 'welcome')?.payload).toMatchObject({
        user: session.userId,
        name,
      });
      people.push({ client, id: session.userId, group: name });
    }
    await chatWithEveryone(ann, annSession.userId, people);
    for (const { id, group: name } of people) {
      const room = await ann.waitFor(isMessage(`room from ${name}`));
      expect(room.payload).toMatchObject({ from: id, fromName: name });
    }

    await ann.waitFor(() => people.every(({ id }) => joinedSeen(ann).has(id)));
    const named = presenceNames(ann);
    const online = await onlineList(ann);
    for (const { id, group: name } of people) {
      expect(named.get(id), name).toBe(name);
      expect(online.names.get(id), name).toBe(name);
    }
    expect(online.users).toEqual(expect.arrayContaining(people.map((p) => p.id)));
    expectNoErrors([ann, ...people.map((p) => p.client)]);
  });
});
