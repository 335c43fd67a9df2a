/**
 * Moderation through the whole local stack with sign-in (`CHAT_AUTH=entra`): roles ticked on the local
 * sign-in page reach the upstream as Easy Auth and the service carry them (a token claim on SignalR, the
 * connection state on Web PubSub), and every action is checked against them, never against a command.
 */
import { beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import type { AuditedPayload, SanctionsPayload } from '../../src/lib/chat/index.js';
import type { ChatMessage } from '../../src/lib/history/index.js';
import { foldHistory } from '../../src/lib/history/index.js';
import { type ChatClient, type ChatDialect, isMessage } from '../support/chat-clients.js';
import { useChatStack } from '../support/fixtures.js';
import { type SignedIn, signIn } from '../support/sign-in.js';

const chat = useChatStack({ env: { CHAT_AUTH: 'entra' } });
const DIALECTS: readonly ChatDialect[] = ['signalr', 'webpubsub'];

const people: Record<string, SignedIn> = Object.create(null);
/** A moderator on each service, and two people on each. */
const mods: Record<ChatDialect, ChatClient> = Object.create(null);
const users: Record<ChatDialect, ChatClient> = Object.create(null);

const connectAs = (who: SignedIn, dialect: ChatDialect) =>
  chat.connect('whoever', dialect, { headers: { cookie: who.cookie } });
const welcomeOf = (c: ChatClient) => c.events.find((e) => e.type === 'welcome')?.payload ?? {};
const errorOf = (client: ChatClient, command: string, from: number) =>
  client.waitFor((e) => e.type === 'error' && e.payload.command === command, from);
/** Sends a command and waits for the first event of `types` after it (an error fails the test). */
async function ask(client: ChatClient, command: string, payload: unknown, types: string[]) {
  const from = client.events.length;
  await client.send(command, payload);
  const answer = await client.waitFor(
    (e) => types.includes(e.type) || (e.type === 'error' && e.payload.command === command),
    from,
  );
  if (!types.includes('error')) expect(answer.payload).not.toHaveProperty('code');
  return answer;
}
const dm = (a: string, b: string) => `dm:${[a, b].sort().join(':')}`;
const negotiate = (who: SignedIn, service = '') =>
  fetch(`${chat.stack.functionsUrl}/api/negotiate?negotiateVersion=1${service}`, {
    method: 'POST',
    headers: { cookie: who.cookie },
  });

beforeAll(async () => {
  const url = chat.stack.functionsUrl;
  const list: [string, string, string[]][] = [
    ['Mona', 'mona', ['Chat.Moderator']],
    ['Ada', 'ada', ['Chat.Admin']],
    ['Ann', 'ann', []],
    ['Bob', 'bob', []],
  ];
  for (const [name, account, roles] of list) people[account] = await signIn(url, name, account, roles);
  mods.signalr = await connectAs(people.mona as SignedIn, 'signalr');
  mods.webpubsub = await connectAs(people.ada as SignedIn, 'webpubsub');
  users.signalr = await connectAs(people.ann as SignedIn, 'signalr');
  users.webpubsub = await connectAs(people.bob as SignedIn, 'webpubsub');
});

describe('moderation with sign-in (CHAT_AUTH=entra)', () => {
  it('tells each connection its roles in the welcome, from the sign-in and nothing else', () => {
    expect(welcomeOf(mods.signalr).moderation).toEqual({ enabled: true, roles: ['moderator'] });
    expect(welcomeOf(mods.webpubsub).moderation).toEqual({ enabled: true, roles: ['admin'] });
    expect(welcomeOf(users.signalr).moderation).toEqual({ enabled: true, roles: [] });
    expect(welcomeOf(users.webpubsub).moderation).toEqual({ enabled: true, roles: [] });
  });

  for (const [modDialect, authorDialect] of [
    ['signalr', 'webpubsub'],
    ['webpubsub', 'signalr'],
  ] as const) {
    it(`a ${modDialect} moderator deletes a ${authorDialect} user's message: everyone sees it deleted, live and after reload`, async () => {
      const author = users[authorDialect];
      const text = `rude words ${modDialect} ${Math.random()}`;
      await author.send('sendMessage', { text });
      const sent = await author.waitFor(isMessage(text));
      const id = String(sent.payload.id);
      const everyone = [...Object.values(mods), ...Object.values(users)];
      await Promise.all(everyone.map((c) => c.waitFor(isMessage(text))));
      const marks = everyone.map((c) => c.events.length);
      const answer = await ask(
        mods[modDialect],
        'removeMessage',
        { conversation: 'room', messageId: id, reason: 'abuse' },
        ['ack', 'error'],
      );
      expect(answer.type).toBe('ack');
      const removal = (c: ChatClient, i: number) =>
        c.waitFor(
          (e) => e.type === 'message' && e.payload.kind === 'remove' && e.payload.target === id,
          marks[i],
        );
      const seen = await Promise.all(everyone.map(removal));
      // Addressed as the message it removes, naming the moderator.
      for (const event of seen) {
        expect(event.payload).toMatchObject({
          from: welcomeOf(author).user,
          by: welcomeOf(mods[modDialect]).user,
        });
      }
      // After a reload: the welcome's page folds the record, whoever wrote it.
      for (const dialect of DIALECTS) {
        const again = await connectAs(people.ann as SignedIn, dialect);
        const page = welcomeOf(again).history as { messages: ChatMessage[] };
        const folded = foldHistory(page.messages).find((m) => m.id === id);
        expect(folded).toMatchObject({ deleted: true, removed: true, text: '' });
        await again.close();
      }
    });
  }

  it("refuses a non-moderator's moderation commands, and a delete record by someone else stays ignored", async () => {
    for (const dialect of DIALECTS) {
      const user = users[dialect];
      const other = users[dialect === 'signalr' ? 'webpubsub' : 'signalr'];
      const text = `mine ${dialect} ${Math.random()}`;
      await other.send('sendMessage', { text });
      const id = String((await other.waitFor(isMessage(text))).payload.id);
      // A role written into the command is not a role.
      for (const [command, payload] of [
        ['removeMessage', { conversation: 'room', messageId: id, roles: ['moderator'], role: 'Chat.Admin' }],
        ['muteUser', { user: welcomeOf(other).user, minutes: 5 }],
        ['banUser', { user: welcomeOf(other).user }],
        ['listAudit', {}],
        ['listReports', {}],
      ] as const) {
        const at = user.events.length;
        await user.send(command, payload);
        expect((await errorOf(user, command, at)).payload.code).toBe('not-a-moderator');
      }
      const at = user.events.length;
      await user.send('deleteMessage', { conversation: 'room', messageId: id });
      expect((await errorOf(user, 'deleteMessage', at)).payload.code).toBe('not-author');
      // A record kind in a send is not a record: the line is a plain message, and the target stands.
      await user.send('sendMessage', { text: `forged ${id}`, kind: 'remove', target: id });
      const forged = await other.waitFor(isMessage(`forged ${id}`));
      expect(forged.payload.kind).toBeUndefined();
      const again = await connectAs(people.bob as SignedIn, 'signalr');
      const folded = foldHistory((welcomeOf(again).history as { messages: ChatMessage[] }).messages);
      expect(folded.find((m) => m.id === id)).toMatchObject({ text });
      await again.close();
    }
  });

  it('gives no role to a client that forges the principal header at negotiate', async () => {
    const forged = Buffer.from(
      JSON.stringify({
        auth_typ: 'aad',
        role_typ: 'roles',
        claims: [
          { typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: people.ann?.objectId },
          { typ: 'roles', val: 'Chat.Admin' },
        ],
      }),
    ).toString('base64');
    for (const dialect of DIALECTS) {
      const client = await chat.connect('whoever', dialect, {
        headers: { cookie: (people.ann as SignedIn).cookie, 'x-ms-client-principal': forged },
      });
      expect(welcomeOf(client).moderation).toEqual({ enabled: true, roles: [] });
      const at = client.events.length;
      await client.send('listAudit', {});
      expect((await errorOf(client, 'listAudit', at)).payload.code).toBe('not-a-moderator');
      await client.close();
    }
  });

  it('refuses a muted user’s sends with when the mute ends, stores nothing, and lets them send once unmuted', async () => {
    for (const dialect of DIALECTS) {
      const muted = users[dialect];
      const target = String(welcomeOf(muted).user);
      const done = await ask(mods.signalr, 'muteUser', { user: target, minutes: 5, reason: 'cool down' }, [
        'moderation',
        'error',
      ]);
      expect(done.payload).toMatchObject({ action: 'muteUser', target, reason: 'cool down' });
      const notice = await muted.waitFor((e) => e.type === 'moderation' && e.payload.action === 'muteUser');
      expect(notice.payload.until).toBe(done.payload.until);
      const text = `while muted ${dialect} ${Math.random()}`;
      const at = muted.events.length;
      await muted.send('sendMessage', { text, clientMessageId: `m-${dialect}` });
      const refused = await errorOf(muted, 'sendMessage', at);
      expect(refused.payload).toMatchObject({
        code: 'muted',
        until: done.payload.until,
        clientMessageId: `m-${dialect}`,
      });
      expect(String(refused.payload.message)).toContain(String(done.payload.until));
      const history = await ask(mods.webpubsub, 'loadHistory', { conversation: 'room', limit: 50 }, [
        'history',
      ]);
      expect(JSON.stringify(history.payload)).not.toContain(text);

      await ask(mods.webpubsub, 'unmuteUser', { user: target }, ['moderation']);
      const after = `after unmute ${dialect} ${Math.random()}`;
      await muted.send('sendMessage', { text: after });
      await mods.signalr.waitFor(isMessage(after));
    }
  });

  it('lets a muted user read, leave and take back their own, but publish nothing others see', async () => {
    for (const dialect of DIALECTS) {
      const muted = users[dialect];
      const other = users[dialect === 'signalr' ? 'webpubsub' : 'signalr'];
      const me = String(welcomeOf(muted).user);
      const them = String(welcomeOf(other).user);
      const tag = `${dialect}${Math.random().toString(36).slice(2, 7)}`;
      // Before the mute: a message of theirs with their reaction, a private group they own, and one of the other's.
      await muted.send('sendMessage', { text: `mine ${tag}` });
      const mineId = String((await muted.waitFor(isMessage(`mine ${tag}`))).payload.id);
      await muted.send('react', { conversation: 'room', messageId: mineId, emoji: '👍' });
      await muted.waitFor(
        (e) => e.type === 'message' && e.payload.kind === 'react' && e.payload.target === mineId,
      );
      const group = `own-${tag}`;
      await ask(muted, 'createGroup', { group, title: 'Before' }, ['group']);
      const open = `open-${tag}`;
      await ask(other, 'joinGroup', { group: open }, ['system']);
      await other.send('sendMessage', { text: `theirs ${tag}` });
      const theirs = String((await muted.waitFor(isMessage(`theirs ${tag}`))).payload.id);
      const done = await ask(mods.signalr, 'muteUser', { user: me, minutes: 5 }, ['moderation']);
      const until = done.payload.until;
      // A failure half-way leaves nobody muted for the tests after this one.
      onTestFailed(() => mods.webpubsub.send('unmuteUser', { user: me }));

      const refused: [string, object][] = [
        ['editMessage', { conversation: 'room', messageId: mineId, text: 'edited while muted' }],
        ['react', { conversation: 'room', messageId: theirs, emoji: '😂' }],
        ['reportMessage', { conversation: 'room', messageId: theirs }],
        [
          'createGroup',
          { group: `loud-${tag}`, kind: 'channel', title: 'Muted but loud', topic: 'seen by all' },
        ],
        ['renameGroup', { group, title: 'Muted title' }],
        ['setTopic', { group, topic: 'muted topic' }],
        ['addMember', { group, user: them }],
        // A name without a group: joining it would list a new channel to everyone.
        ['joinGroup', { group: `new-${tag}` }],
      ];
      for (const [command, payload] of refused) {
        const at = muted.events.length;
        await muted.send(command, payload);
        expect((await errorOf(muted, command, at)).payload, command).toMatchObject({ code: 'muted', until });
      }
      // Typing is dropped without an answer: the other person hears none until the mute is lifted.
      await muted.send('typing', { conversation: 'room' });

      // What stays allowed: reading, leaving, joining what exists, and taking back one's own.
      await ask(muted, 'loadHistory', { conversation: 'room' }, ['history']);
      await ask(muted, 'joinGroup', { group: open }, ['system']);
      await ask(muted, 'leaveGroup', { group: open }, ['system']);
      for (const [command, kind, extra] of [
        ['unreact', 'unreact', { emoji: '👍' }],
        ['deleteMessage', 'delete', {}],
      ] as const) {
        const at = muted.events.length;
        await muted.send(command, { conversation: 'room', messageId: mineId, ...extra });
        const record = await muted.waitFor(
          (e) =>
            (e.type === 'error' && e.payload.command === command) ||
            (e.type === 'message' && e.payload.kind === kind && e.payload.target === mineId),
          at,
        );
        expect(record.payload, command).not.toHaveProperty('code');
      }

      // Nothing of the refused ones reached anyone.
      const channels = await ask(other, 'listChannels', { limit: 100 }, ['channels']);
      expect(JSON.stringify(channels.payload)).not.toMatch(/Muted but loud|new-/);
      const record = await ask(muted, 'listMembers', { group }, ['group']);
      expect(record.payload).toMatchObject({ title: 'Before' });
      expect(record.payload.topic).toBeUndefined();
      expect(record.payload.members).not.toContain(them);
      const history = await ask(other, 'loadHistory', { conversation: 'room' }, ['history']);
      const lines = (history.payload as { messages: ChatMessage[] }).messages;
      expect(JSON.stringify(lines)).not.toContain('edited while muted');
      expect(foldHistory(lines).find((m) => m.id === theirs)?.reactions).toBeUndefined();

      await ask(mods.webpubsub, 'unmuteUser', { user: me }, ['moderation']);
      await muted.send('typing', { conversation: dm(me, them) });
      const heard = await other.waitFor((e) => e.type === 'typing' && e.payload.user === me);
      expect(other.events.filter((e) => e.type === 'typing' && e.payload.user === me)).toEqual([heard]);
      await ask(muted, 'setTopic', { group, topic: 'after the mute' }, ['group']);
    }
  });

  it('removes someone from a public channel', async () => {
    const ann = users.signalr;
    await ann.send('joinGroup', { group: 'lobby' });
    await ann.waitFor(
      (e) => e.type === 'system' && e.payload.kind === 'groupJoined' && e.payload.group === 'lobby',
    );
    const target = String(welcomeOf(ann).user);
    const done = await ask(mods.webpubsub, 'removeFromChannel', { group: 'lobby', user: target }, [
      'moderation',
      'error',
    ]);
    expect(done.payload).toMatchObject({ action: 'removeFromChannel', target, group: 'lobby' });
    await ann.waitFor(
      (e) => e.type === 'system' && e.payload.kind === 'memberRemoved' && e.payload.group === 'lobby',
    );
    const at = ann.events.length;
    await ann.send('sendMessage', { text: 'still here?', group: 'lobby' });
    expect((await errorOf(ann, 'sendMessage', at)).payload.code).toBe('not-a-member');
  });

  it('brings a report to connected moderators live, and to a moderator arriving later; a moderator resolves it', async () => {
    const text = `report me ${Math.random()}`;
    await users.signalr.send('sendMessage', { text });
    const id = String((await users.signalr.waitFor(isMessage(text))).payload.id);
    const marks = DIALECTS.map((d) => mods[d].events.length);
    const reported = await ask(
      users.webpubsub,
      'reportMessage',
      { conversation: 'room', messageId: id, reason: 'spam' },
      ['moderation', 'error'],
    );
    expect(reported.payload.action).toBe('reported');
    const live = await Promise.all(
      DIALECTS.map((d, i) =>
        mods[d].waitFor((e) => e.type === 'report' && e.payload.messageId === id, marks[i]),
      ),
    );
    for (const event of live) {
      expect(event.payload).toMatchObject({
        text,
        reason: 'spam',
        author: welcomeOf(users.signalr).user,
        reporter: welcomeOf(users.webpubsub).user,
      });
    }
    // Not to anyone else.
    expect(users.signalr.events.some((e) => e.type === 'report')).toBe(false);
    const report = String(live[0]?.payload.id);
    for (const dialect of DIALECTS) {
      const later = await connectAs(people.mona as SignedIn, dialect);
      const open = await later.waitFor((e) => e.type === 'reports');
      expect((open.payload.reports as { id: string }[]).map((r) => r.id)).toContain(report);
      await later.close();
    }
    const at = mods.webpubsub.events.length;
    await ask(mods.signalr, 'resolveReport', { report }, ['moderation']);
    await mods.webpubsub.waitFor((e) => e.type === 'reportResolved' && e.payload.id === report, at);
    const listed = await ask(mods.signalr, 'listReports', {}, ['reports']);
    expect((listed.payload.reports as { id: string }[]).map((r) => r.id)).not.toContain(report);
  });

  it('bans a user: their connections close and negotiate refuses them, until the ban is lifted', async () => {
    for (const dialect of DIALECTS) {
      const who = await signIn(chat.stack.functionsUrl, `Eve ${dialect}`, `eve.${dialect}`);
      const eve = await connectAs(who, dialect);
      await ask(mods.webpubsub, 'banUser', { user: who.userId, reason: 'spam bot' }, ['moderation']);
      await eve.closed;
      const refused = await negotiate(who, dialect === 'webpubsub' ? '&service=webpubsub' : '');
      expect(refused.status).toBe(403);
      expect(await refused.json()).toMatchObject({ code: 'banned', reason: 'spam bot' });
      // Every connected moderator, on either service, hears the ban as it is logged, and lists Eve as banned
      // now, by her name.
      for (const mod of Object.values(mods)) {
        await mod.waitFor(
          (e) => e.type === 'audited' && (e.payload as unknown as AuditedPayload).entry.target === who.userId,
        );
        const now = (await ask(mod, 'listSanctions', {}, ['sanctions']))
          .payload as unknown as SanctionsPayload;
        expect(now.sanctions).toContainEqual({ user: who.userId, ban: { at: expect.any(String) } });
        expect(now.names?.[who.userId]).toBe(`Eve ${dialect}`);
      }
      await ask(mods.signalr, 'unbanUser', { user: who.userId }, ['moderation']);
      const lifted = (await ask(mods.webpubsub, 'listSanctions', {}, ['sanctions']))
        .payload as unknown as SanctionsPayload;
      expect(lifted.sanctions.map((s) => s.user)).not.toContain(who.userId);
      expect((await negotiate(who, dialect === 'webpubsub' ? '&service=webpubsub' : '')).status).toBe(200);
    }
  });

  it('keeps every action in the audit log, newest first, paged', async () => {
    const first = await ask(mods.webpubsub, 'listAudit', { limit: 3 }, ['audit', 'error']);
    const entries: { action: string; by: string }[] = [...(first.payload.entries as [])];
    let next = first.payload.next;
    while (typeof next === 'string') {
      const page = await ask(mods.webpubsub, 'listAudit', { limit: 3, before: next }, ['audit']);
      entries.push(...(page.payload.entries as []));
      next = page.payload.next;
    }
    // A cursor that names no day of the calendar is refused, not read as one.
    const junk = await ask(mods.signalr, 'listAudit', { before: '9999-99-99:1' }, ['audit', 'error']);
    expect(junk.payload.code).toBe('invalid-cursor');
    const actions = entries.map((e) => e.action);
    for (const action of [
      'removeMessage',
      'muteUser',
      'unmuteUser',
      'removeFromChannel',
      'resolveReport',
      'banUser',
      'unbanUser',
    ]) {
      expect(actions).toContain(action);
    }
    expect(actions.filter((a) => a === 'removeMessage')).toHaveLength(2);
    expect(actions.filter((a) => a === 'banUser')).toHaveLength(2);
    expect(actions[0]).toBe('unbanUser');
    expect(new Set(entries.map((e) => e.by))).toEqual(new Set([people.mona?.userId, people.ada?.userId]));
  });
});
