/**
 * Sign-in and private conversations through the whole local stack with `CHAT_AUTH=entra`: the built-in host
 * stands in for App Service Authentication, and every read and send is authorised against the user the
 * service names (`X-ASRS-User-Id`), never against anything the client wrote.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { verifyToken } from '../../src/lib/signalr/tokens.js';
import { DEV_ACCESS_KEY } from '../../src/local/dev-constants.js';
import { type ChatClient, isMessage, messageTexts as texts } from '../support/chat-clients.js';
import { useChatStack } from '../support/fixtures.js';
import { type SignedIn, signIn } from '../support/sign-in.js';

const chat = useChatStack({ env: { CHAT_AUTH: 'entra' } });

let annId: SignedIn;
let bobId: SignedIn;
let eveId: SignedIn;
let ann: ChatClient; // signalr
let bob: ChatClient; // websocket
let eve: ChatClient; // signalr, the third person

/** Connects a signed-in user; `spoof` is the `?name=` it also sends (sign-in ignores it). */
const connectAs = (who: SignedIn, dialect: 'signalr' | 'webpubsub', spoof = 'whoever') =>
  chat.connect(spoof, dialect, { headers: { cookie: who.cookie } });

/** See chat-conversations.test.ts: once `receivers` have `sender`'s marker, earlier deliveries have arrived. */
async function barrier(sender: ChatClient, ...receivers: ChatClient[]) {
  const marker = `barrier ${Math.random()}`;
  await sender.send('sendMessage', { text: marker });
  await Promise.all(receivers.map((r) => r.waitFor(isMessage(marker))));
}

const dm = (a: string, b: string) => `dm:${[a, b].sort().join(':')}`;
const errorOf = (client: ChatClient, command: string, from: number) =>
  client.waitFor((e) => e.type === 'error' && e.payload.command === command, from);
/** Every text the client has seen, in any event (messages, history pages, welcomes). */
const everything = (client: ChatClient) => JSON.stringify(client.events);

beforeAll(async () => {
  const url = chat.stack.functionsUrl;
  [annId, bobId, eveId] = await Promise.all([
    signIn(url, 'Ann', 'ann'),
    signIn(url, 'Bob', 'bob'),
    signIn(url, 'Eve', 'eve'),
  ]);
  // Each also claims to be someone else by ?name=: it makes no difference.
  ann = await connectAs(annId, 'signalr', 'bob');
  bob = await connectAs(bobId, 'webpubsub', 'ann');
  eve = await connectAs(eveId, 'signalr', 'ann');
});

describe('sign-in through the whole local stack (CHAT_AUTH=entra)', () => {
  it('names each connection by its object id and display name, whatever ?name= says', async () => {
    const welcome = (c: ChatClient) => c.events.find((e) => e.type === 'welcome')?.payload;
    expect(welcome(ann)).toMatchObject({ user: annId.userId, name: 'Ann' });
    expect(welcome(bob)).toMatchObject({ user: bobId.userId, name: 'Bob' });
    expect(welcome(eve)).toMatchObject({ user: eveId.userId, name: 'Eve' });
  });

  it('gives no token without a session, and none for a forged principal header', async () => {
    const url = `${chat.stack.functionsUrl}/api/negotiate?name=ann&negotiateVersion=1`;
    const forged = {
      'x-ms-client-principal-name': 'ann@localhost',
      'x-ms-client-principal-id': annId.objectId,
      'x-requested-with': 'XMLHttpRequest',
    };
    const refused = await fetch(url, { method: 'POST', headers: forged });
    expect(refused.status).toBe(401);
    expect(await refused.text()).not.toContain('accessToken');
    // With Eve's session, the forged headers are replaced by hers: the token names Eve.
    const res = await fetch(url, { method: 'POST', headers: { ...forged, cookie: eveId.cookie } });
    expect(res.status).toBe(200);
    const { url: audience, accessToken } = (await res.json()) as { url: string; accessToken: string };
    const claims = await verifyToken(accessToken, [DEV_ACCESS_KEY], { audiences: [audience] });
    expect(claims.nameid).toBe(eveId.userId);
    expect(claims['chat.name']).toBe('Eve');
  });

  it('lets two people called Ann chat as two users, each message carrying its sender id and name', async () => {
    const otherAnnId = await signIn(chat.stack.functionsUrl, 'Ann', 'ann.other');
    expect(otherAnnId.userId).not.toBe(annId.userId);
    const otherAnn = await connectAs(otherAnnId, 'webpubsub');
    await otherAnn.send('sendMessage', { text: 'I am the other Ann' });
    const seen = await ann.waitFor(isMessage('I am the other Ann'));
    expect(seen.payload).toMatchObject({ from: otherAnnId.userId, fromName: 'Ann' });
    await ann.send('sendMessage', { text: 'and I am the first', to: otherAnnId.userId });
    expect((await otherAnn.waitFor(isMessage('and I am the first'))).payload).toMatchObject({
      from: annId.userId,
      fromName: 'Ann',
      to: otherAnnId.userId,
    });
    await otherAnn.close();
  });

  it('delivers a private message to its two parties only, and only they can read it, by any command', async () => {
    const conversation = dm(annId.userId, bobId.userId);
    // A `from` in the payload is not an identity: the message is Ann's, sent to Bob.
    await ann.send('sendMessage', { text: 'for bob only', to: bobId.userId, from: eveId.userId });
    const atBob = await bob.waitFor(isMessage('for bob only'));
    expect(atBob.payload).toMatchObject({ conversation, from: annId.userId, to: bobId.userId });
    await ann.waitFor(isMessage('for bob only'));
    await barrier(ann, eve);
    expect(texts(eve)).not.toContain('for bob only');

    const messageId = String(atBob.payload.id);
    const from = eve.events.length;
    // Read the conversation outright, page by page, or with a limit.
    for (const payload of [
      { conversation },
      { conversation, before: messageId },
      { conversation, limit: 1 },
    ]) {
      const at = eve.events.length;
      await eve.send('loadHistory', payload);
      expect((await errorOf(eve, 'loadHistory', at)).payload.code).toBe('forbidden-conversation');
    }
    // Its message id as `before` in conversations Eve may read returns only those conversations' messages.
    for (const readable of ['room', dm(eveId.userId, annId.userId), dm(eveId.userId, bobId.userId)]) {
      const at = eve.events.length;
      await eve.send('loadHistory', { conversation: readable, before: messageId });
      const answer = await eve.waitFor((e) => e.type === 'history' || e.type === 'error', at);
      if (answer.type === 'history') {
        expect(answer.payload.conversation).toBe(readable);
        expect(JSON.stringify(answer.payload)).not.toContain('for bob only');
      }
    }
    // Writing into it names Eve's own conversation with the addressee instead.
    await eve.send('sendMessage', { text: 'eve writes', to: bobId.userId, conversation });
    const eves = await bob.waitFor(isMessage('eve writes'));
    expect(eves.payload.conversation).toBe(dm(eveId.userId, bobId.userId));
    expect(everything(eve)).not.toContain('for bob only');
    expect(eve.events.length).toBeGreaterThan(from);
  });

  it("keeps a group's messages and history to its members until one joins", async () => {
    await ann.send('joinGroup', { group: 'secret' });
    await ann.waitFor(
      (e) => e.type === 'system' && e.payload.kind === 'groupJoined' && e.payload.group === 'secret',
    );
    await ann.send('sendMessage', { text: 'secret plan', group: 'secret' });
    const stored = await ann.waitFor(isMessage('secret plan'));
    await barrier(ann, eve);
    expect(texts(eve)).not.toContain('secret plan');

    for (const payload of [
      { conversation: 'group:secret' },
      { conversation: 'group:secret', before: String(stored.payload.id) },
      { conversation: 'group:secret', limit: 100 },
    ]) {
      const at = eve.events.length;
      await eve.send('loadHistory', payload);
      expect((await errorOf(eve, 'loadHistory', at)).payload.code).toBe('not-a-member');
    }
    const at = eve.events.length;
    await eve.send('sendMessage', { text: 'let me in', group: 'secret' });
    expect((await errorOf(eve, 'sendMessage', at)).payload.code).toBe('not-a-member');
    // Leaving a group one never joined grants nothing either, and is answered as such (a private group, and a
    // name with no group at all).
    for (const group of ['secret', 'nobody-here']) {
      const left = eve.events.length;
      await eve.send('leaveGroup', { group });
      expect((await errorOf(eve, 'leaveGroup', left)).payload).toMatchObject({
        code: 'not-a-member',
        conversation: `group:${group}`,
      });
    }
    await barrier(ann, eve);
    expect(everything(eve)).not.toContain('secret plan');
  });

  it('catches up on reconnect with nothing private to others: not in the welcome, not in history', async () => {
    await eve.close();
    eve = await connectAs(eveId, 'webpubsub', 'ann');
    const welcome = eve.events.find((e) => e.type === 'welcome');
    expect(welcome?.payload.user).toBe(eveId.userId);
    const at = eve.events.length;
    await eve.send('loadHistory', { conversation: 'room', limit: 100 });
    await eve.waitFor((e) => e.type === 'history', at);
    expect(everything(eve)).not.toContain('for bob only');
    expect(everything(eve)).not.toContain('secret plan');
    // Bob, a party, reads the private conversation after his own reconnect.
    await bob.close();
    bob = await connectAs(bobId, 'signalr', 'eve');
    const before = bob.events.length;
    await bob.send('loadHistory', { conversation: dm(annId.userId, bobId.userId) });
    const page = await bob.waitFor((e) => e.type === 'history', before);
    expect(JSON.stringify(page.payload)).toContain('for bob only');
    expect(JSON.stringify(page.payload)).toContain('"fromName":"Ann"');
  });

  it('shows presence with display names: the joiner in its delta, the listed users in the welcome and online pages', async () => {
    const at = ann.events.length;
    const zedId = await signIn(chat.stack.functionsUrl, 'Zed Z', 'zed');
    const zed = await connectAs(zedId, 'signalr');
    const joined = await ann.waitFor(
      (e) => e.type === 'presence' && (e.payload.joined as string[]).includes(zedId.userId),
      at,
    );
    expect(joined.payload.names).toMatchObject({ [zedId.userId]: 'Zed Z' });
    const welcome = zed.events.find((e) => e.type === 'welcome')?.payload;
    expect(welcome).toMatchObject({ user: zedId.userId, name: 'Zed Z' });
    expect(welcome?.names).toMatchObject({ [annId.userId]: 'Ann', [zedId.userId]: 'Zed Z' });
    const asked = zed.events.length;
    await zed.send('listOnline', {});
    const page = await zed.waitFor((e) => e.type === 'online', asked);
    expect(page.payload.users).toEqual(expect.arrayContaining([annId.userId, eveId.userId, zedId.userId]));
    expect(page.payload.names).toMatchObject({ [annId.userId]: 'Ann', [eveId.userId]: 'Eve' });
    const before = ann.events.length;
    await zed.close();
    const left = await ann.waitFor(
      (e) => e.type === 'presence' && (e.payload.left as string[]).includes(zedId.userId),
      before,
    );
    expect(left.payload.names).toMatchObject({ [zedId.userId]: 'Zed Z' });
  });
});
