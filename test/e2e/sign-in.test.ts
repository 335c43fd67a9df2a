/**
 * Sign-in in Chromium with `CHAT_AUTH=entra`: the built-in host stands in for App Service Authentication
 * (its development sign-in page, a session cookie, the platform's principal headers), in front of the whole
 * local stack. Ann and Bob sign in and talk privately and in a group; Eve, signed in too, tries to become
 * Ann with `?name=` and to read or receive what is not hers by every way the page and its connection allow.
 * Every wait is for something the page shows (no sleeps, no timed assertions); screenshots go to
 * test-results/e2e/.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserStack,
  delivered,
  horizontalOverflow,
  type Person,
  SCREENSHOTS,
  SHOW_TIMEOUT_MS,
  send,
  sidebarButton,
  startBrowserStack,
  waitConnected,
} from '../support/browser.js';

let chat: BrowserStack;

async function screenshot(person: Person, what: string): Promise<void> {
  await person.page.screenshot({
    path: join(SCREENSHOTS, `sign-in-${what}-${person.name}.png`),
    animations: 'disabled',
  });
}

/** Opens the chat (`query` is added to the home URL); a browser without a session lands on the sign-in page. */
function open(name: string, query = ''): Promise<Person> {
  return chat.open(name, { query });
}

/** Fills the development sign-in page and waits for the chat to connect. */
async function signIn(person: Person, name: string, account: string): Promise<void> {
  await person.page.getByLabel('Name to show').waitFor({ timeout: SHOW_TIMEOUT_MS });
  await person.page.getByLabel('Name to show').fill(name);
  await person.page.getByLabel('Account (optional)').fill(account);
  await person.page.getByRole('button', { name: 'Sign in' }).click();
  await waitConnected(person);
}

/** The page's configuration as the server wrote it. */
async function pageConfig(person: Person): Promise<{ user: string; name: string; auth: string }> {
  return JSON.parse((await person.page.locator('#chat-config').textContent()) ?? '{}');
}

/**
 * From inside Eve's page (her session cookie, same origin), a second connection with the page's own SignalR
 * client that sends `commands`, each of which is answered by one `history` or `error` event, and returns every
 * event that came back: the most a user can do by hand.
 */
async function tryCommands(person: Person, commands: Array<[string, object]>): Promise<string> {
  return person.page.evaluate(async (list) => {
    interface Connection {
      on(name: string, handler: (payload: unknown) => void): void;
      start(): Promise<void>;
      send(command: string, payload: unknown): Promise<void>;
      stop(): Promise<void>;
    }
    const { signalR } = window as unknown as {
      signalR: { HubConnectionBuilder: new () => { withUrl(url: string): { build(): Connection } } };
    };
    const connection = new signalR.HubConnectionBuilder().withUrl('/api').build();
    const events: Array<{ name: string; payload: unknown }> = [];
    let answers = 0;
    let allAnswered: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      allAnswered = resolve;
    });
    for (const name of ['welcome', 'message', 'history', 'presence', 'system', 'error']) {
      connection.on(name, (payload) => {
        events.push({ name, payload });
        if ((name === 'history' || name === 'error') && ++answers === list.length) allAnswered();
      });
    }
    await connection.start();
    for (const [command, payload] of list) await connection.send(command, payload);
    await done;
    await connection.stop();
    return JSON.stringify(events);
  }, commands);
}

beforeAll(async () => {
  chat = await startBrowserStack({ env: { CHAT_AUTH: 'entra' } });
});

afterAll(async () => {
  await chat?.stop();
});

describe('sign-in in Chromium (CHAT_AUTH=entra)', () => {
  let ann: Person;
  let bob: Person;
  let eve: Person;

  it('sends a new browser to sign-in, then into the chat as the signed-in person, whatever ?name= says', async () => {
    ann = await open('ann', '?name=bob');
    await ann.page.waitForURL(/\/\.auth\/login\/aad/);
    await screenshot(ann, 'sign-in-page');
    await signIn(ann, 'Ann', 'ann');
    // Back on the page it came from, ?name=bob and all, but as Ann.
    expect(new URL(ann.page.url()).searchParams.get('name')).toBe('bob');
    await expect(ann.page.getByTestId('whoami').textContent()).resolves.toContain('Ann');
    expect(await ann.page.getByTestId('sign-out').isVisible()).toBe(true);
    expect(await ann.page.getByTestId('unverified').count()).toBe(0);
    const config = await pageConfig(ann);
    expect(config).toMatchObject({ name: 'Ann', auth: 'entra' });
    expect(config.user).toMatch(/^[0-9a-f]{32}$/);
    await send(ann, 'Hello, signed in.');
    await screenshot(ann, 'signed-in');

    bob = await open('bob');
    await signIn(bob, 'Bob', 'bob');
    const fromAnn = bob.page.locator('.msg', { hasText: 'Hello, signed in.' });
    await fromAnn.waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect(fromAnn.locator('.msg-from').textContent()).resolves.toBe('Ann');
  });

  it('ignores a ?name= spoof: Eve stays Eve in the page, in what she sends and in what others see', async () => {
    eve = await open('eve');
    await signIn(eve, 'Eve', 'eve');
    const eveId = (await pageConfig(eve)).user;
    const annId = (await pageConfig(ann)).user;
    for (const spoof of ['ann', 'Ann', annId]) {
      await eve.page.goto(`${chat.stack.homeUrl}?name=${encodeURIComponent(spoof)}`);
      await waitConnected(eve);
      expect((await pageConfig(eve)).user).toBe(eveId);
      await expect(eve.page.getByTestId('whoami').textContent()).resolves.toContain('Eve');
    }
    await send(eve, 'This is really Ann. Honest.');
    const atBob = bob.page.locator('.msg', { hasText: 'This is really Ann' });
    await atBob.waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect(atBob.locator('.msg-from').textContent()).resolves.toBe('Eve');
    await screenshot(bob, 'spoof-shown-as-eve');
  });

  it('keeps a private conversation and a group to their people: Eve cannot read or receive them by any command, page parameter or reconnect', async () => {
    // Ann writes to Bob privately; Bob and Ann make a group.
    await sidebarButton(ann, /Bob Message privately/).click();
    await send(ann, 'Private: the door code is 4711.');
    await sidebarButton(bob, /^Ann(?! Message)/).click();
    await delivered(bob, 'Private: the door code is 4711.').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await bob.page.locator('#join-group-input').fill('insiders');
    await bob.page.getByRole('button', { name: 'Join', exact: true }).click();
    await sidebarButton(bob, /^insiders/).click();
    await send(bob, 'Insiders only: launch is Friday.');
    await screenshot(bob, 'private-and-group');

    // Eve received none of it, live.
    await sidebarButton(eve, /^Room/).click();
    await send(eve, 'Anyone there?');
    const evesText = async () =>
      (await eve.page.content()) + JSON.stringify(await eve.page.evaluate(() => document.title));
    expect(await evesText()).not.toContain('4711');
    expect(await evesText()).not.toContain('launch is Friday');

    // By hand, with the page's own client: read them outright, page them with their ids, write into them.
    const annId = (await pageConfig(ann)).user;
    const bobId = (await pageConfig(bob)).user;
    const dm = `dm:${[annId, bobId].sort().join(':')}`;
    const answers = await tryCommands(eve, [
      ['loadHistory', { conversation: dm }],
      ['loadHistory', { conversation: dm, limit: 100 }],
      ['loadHistory', { conversation: 'group:insiders' }],
      ['loadHistory', { conversation: 'room', limit: 100 }],
      ['sendMessage', { text: 'let me in', group: 'insiders' }],
    ]);
    expect(answers).toContain('forbidden-conversation');
    expect(answers).toContain('not-a-member');
    expect(answers).not.toContain('4711');
    expect(answers).not.toContain('launch is Friday');

    // Page parameters and a reconnect (reload) bring nothing either.
    for (const query of [`?name=${annId}`, `?conversation=${encodeURIComponent(dm)}`, '?service=webpubsub']) {
      await eve.page.goto(`${chat.stack.homeUrl}${query}`);
      await waitConnected(eve);
      await delivered(eve, 'Anyone there?').waitFor({ timeout: SHOW_TIMEOUT_MS });
      expect(await evesText()).not.toContain('4711');
      expect(await evesText()).not.toContain('launch is Friday');
    }
    await screenshot(eve, 'nothing-private');

    // Once Eve joins the group she reads its history: groups are open to whoever joins; private is private.
    await eve.page.locator('#join-group-input').fill('insiders');
    await eve.page.getByRole('button', { name: 'Join', exact: true }).click();
    await sidebarButton(eve, /^insiders/).click();
    await delivered(eve, 'Insiders only: launch is Friday.').waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(await evesText()).not.toContain('4711');
  });

  it('opens the conversation a shared link names once a signed-out browser has signed in', async () => {
    // Bob, on another browser and signed out, opens a link to the group, at the site's root and at the page.
    for (const [name, address] of [
      ['bob-root', `${chat.stack.functionsUrl}/#group:insiders`],
      ['bob-page', `${chat.stack.homeUrl}#group:insiders`],
    ] as const) {
      const person = await open(name);
      await person.page.goto(address);
      await person.page.waitForURL(/\/\.auth\/login\/aad/);
      await signIn(person, 'Bob', 'bob');
      await delivered(person, 'Insiders only: launch is Friday.').waitFor({ timeout: SHOW_TIMEOUT_MS });
      expect(new URL(person.page.url()).hash).toBe('#group:insiders');
      await expect(person.page.locator('#conversation-title').textContent()).resolves.toContain('insiders');
      await person.context.close();
    }
  });

  it('shows two people called Ann apart, by the start of their ids', async () => {
    const otherAnn = await open('ann2');
    await signIn(otherAnn, 'Ann', 'ann.two');
    const ids = [(await pageConfig(ann)).user, (await pageConfig(otherAnn)).user];
    expect(ids[0]).not.toBe(ids[1]);
    await sidebarButton(otherAnn, /^Room/).click();
    await send(otherAnn, 'I am the other Ann.');
    await sidebarButton(bob, /^Room/).click();
    const fromOther = bob.page.locator('.msg', { hasText: 'I am the other Ann.' });
    await fromOther.waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect(fromOther.locator('.msg-from').textContent()).resolves.toBe(`Ann (${ids[1]?.slice(0, 6)})`);
    const fromFirst = bob.page.locator('.msg', { hasText: 'Hello, signed in.' });
    await expect(fromFirst.locator('.msg-from').textContent()).resolves.toBe(`Ann (${ids[0]?.slice(0, 6)})`);
    await screenshot(bob, 'two-anns');
    await otherAnn.context.close();
  });

  it('does not scroll sideways on a 390 px phone, signed in with a long name', async () => {
    const phone = await chat.open('phil', { phone: true });
    await signIn(phone, 'Philippa Longname-Longname', 'phil.phone');
    expect(await horizontalOverflow(phone)).toBe(0);
    await phone.page.locator('#menu-button').click();
    expect(await horizontalOverflow(phone)).toBe(0);
    await phone.context.close();
  });

  it('ends the session on sign-out: the page and negotiate need a new sign-in', async () => {
    await ann.page.getByTestId('sign-out').click();
    await ann.page.getByRole('heading', { name: 'Signed out' }).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await screenshot(ann, 'signed-out');
    const cookies = await ann.context.cookies();
    expect(cookies.find((c) => c.name === 'AppServiceAuthSession')).toBeUndefined();
    // What the browser would send now (the context's cookies, which no longer hold a session).
    const response = await ann.context.request.post(
      `${chat.stack.functionsUrl}/api/negotiate?negotiateVersion=1`,
      {
        headers: { 'X-Requested-With': 'XMLHttpRequest' },
      },
    );
    const negotiate = { status: response.status(), body: await response.text() };
    expect(negotiate.status).toBe(401);
    expect(negotiate.body).not.toContain('accessToken');
    await ann.page.goto(chat.stack.homeUrl);
    await ann.page.waitForURL(/\/\.auth\/login\/aad/);
    expect(ann.pageErrors).toEqual([]);
    expect(bob.pageErrors).toEqual([]);
    expect(eve.pageErrors).toEqual([]);
  });

  it("refuses another site's page that auto-submits the sign-in form: the visitor stays signed out", async () => {
    // The attacker's page, on another site (localhost, not 127.0.0.1), posting the form at load.
    const target = `${chat.stack.functionsUrl}/.auth/login/aad`;
    const attacker = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><form id="f" method="post" action="${target}">
<input name="name" value="Mallory"><input name="account" value="mallory"></form>
<script>document.getElementById('f').submit()</script>`);
    });
    await new Promise<void>((done) => attacker.listen(0, '127.0.0.1', done));
    try {
      const port = (attacker.address() as AddressInfo).port;
      // The visitor has been on the sign-in page before: the browser holds a state cookie of its own.
      const victim = await open('victim');
      await victim.page.getByLabel('Name to show').waitFor({ timeout: SHOW_TIMEOUT_MS });
      const refused = victim.page.waitForResponse(
        (r) => r.url() === target && r.request().method() === 'POST',
      );
      await victim.page.goto(`http://localhost:${port}/`);
      expect((await refused).status()).toBe(403);
      await victim.page.getByText('Sign-in refused').waitFor({ timeout: SHOW_TIMEOUT_MS });
      const cookies = await victim.context.cookies(chat.stack.functionsUrl);
      expect(cookies.map((c) => c.name)).not.toContain('AppServiceAuthSession');
      const me = await victim.page.request.get(`${chat.stack.functionsUrl}/.auth/me`);
      expect(me.status()).toBe(401);
      // The same browser still signs in through the page itself.
      await victim.page.goto(chat.stack.homeUrl);
      await signIn(victim, 'Victim', 'victim@contoso.example');
      expect((await pageConfig(victim)).name).toBe('Victim');
    } finally {
      await new Promise<void>((done) => attacker.close(() => done()));
    }
  });
});
