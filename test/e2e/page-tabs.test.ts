/**
 * Tabs of one browser with sign-in (`CHAT_AUTH=entra`) in Chromium: the browser holds one session, so a sign-out
 * in one tab signs out every tab of it at once (its link stopped, nothing of the person kept or written back,
 * nothing queued sent), and a tab whose person is no longer the one signed in on the browser (another account
 * signed in in another tab) stops too and stays stopped after a network blip. Two pages of one browser context
 * are two tabs. Every wait is for something a page shows; screenshots go to test-results/e2e/.
 */
import { join } from 'node:path';
import type { Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserStack,
  composer,
  delivered,
  type Person,
  problemsOf,
  SCREENSHOTS,
  SHOW_TIMEOUT_MS,
  send,
  startBrowserStack,
  storedOutbox,
  waitConnected,
} from '../support/browser.js';

let chat: BrowserStack;
beforeAll(async () => {
  chat = await startBrowserStack({ env: { CHAT_AUTH: 'entra' } });
});
afterAll(async () => {
  await chat?.stop();
});

async function screenshot(person: Person, what: string): Promise<void> {
  await person.page.screenshot({ path: join(SCREENSHOTS, `page-tabs-${what}-${person.name}.png`) });
}

/** Fills the development sign-in page; the chat then loads and connects. */
async function signIn(person: Person, name: string): Promise<void> {
  await person.page.getByLabel('Name to show').waitFor({ timeout: SHOW_TIMEOUT_MS });
  await person.page.getByLabel('Name to show').fill(name);
  await person.page.getByLabel('Account (optional)').fill(name.toLowerCase());
  await person.page.getByRole('button', { name: 'Sign in' }).click();
  await waitConnected(person);
}

/** Another tab of the same browser (same cookies and storage), open on the chat. */
async function secondTab(person: Person, query = ''): Promise<Person> {
  const page = await person.context.newPage();
  const tab: Person = { ...person, name: `${person.name}-tab2`, page, pageErrors: [] };
  page.on('pageerror', (error) => tab.pageErrors.push(error.message));
  await page.goto(`${chat.stack.homeUrl}${query}`);
  await waitConnected(tab);
  return tab;
}

async function userIdOf(person: Person): Promise<string> {
  return JSON.parse((await person.page.locator('#chat-config').textContent()) ?? '{}').user;
}

const pill = (person: Person, status: string) => person.page.locator(`.status-pill[data-status="${status}"]`);
const banner = (person: Person) => person.page.getByTestId('connection-banner');
/** Someone in a person's online list, by the name shown. */
const online = (person: Person, name: string): Locator =>
  person.page.locator('section[aria-labelledby="online-heading"] .person-name', { hasText: name });
const pending = (person: Person, text: string) =>
  person.page.locator('.messages .msg.pending', { hasText: text });
const stored = (person: Person, key: string) => person.page.evaluate((k) => localStorage.getItem(k), key);

/** Polls `read` until it gives `expected` (the page writes storage in the background). */
async function until<T>(read: () => Promise<T>, expected: T, what: string): Promise<void> {
  for (let i = 0; i < 200; i += 1) {
    if ((await read()) === expected) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(await read(), what).toBe(expected);
}

/** Tells a page the browser went offline or came back (what the page listens to), without touching other tabs. */
const browserSays = (person: Person, event: 'offline' | 'online') =>
  person.page.evaluate((name) => window.dispatchEvent(new Event(name)), event);

let cy: Person;
/** Signed out by a sign-out in his other tab. */
let bob: Person;
/** Stopped by another account signing in in his other tab. */
let dan: Person;

describe('tabs of one browser with sign-in', () => {
  it('signs out every tab when one signs out: the other stops at once, keeps nothing and sends nothing queued', async () => {
    cy = await chat.open('cy', { query: '' });
    await signIn(cy, 'Cy');
    bob = await chat.open('bob', { query: '' });
    await signIn(bob, 'Bob');
    const id = await userIdOf(bob);
    const two = await secondTab(bob);
    await online(cy, 'Bob').waitFor({ timeout: SHOW_TIMEOUT_MS });

    // Tab one: a muted room, a message that waits (the page was told the browser is offline) and a draft.
    await bob.page.getByTestId('mute').click();
    await browserSays(bob, 'offline');
    await composer(bob).fill('queued in tab one');
    await composer(bob).press('Enter');
    await pending(bob, 'queued in tab one').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await until(() => storedOutbox(bob, id), 1, 'the queued message kept');
    await composer(bob).fill('half a thought in tab one');
    await until(async () => (await stored(bob, `chat.drafts.${id}`)) !== null, true, 'the draft kept');
    expect(await stored(bob, `chat.muted.${id}`)).toContain('room');

    // Tab two signs out; it asks about the message tab one could not send, since it goes too.
    await two.page.getByTestId('sign-out').click();
    const ask = two.page.getByTestId('sign-out-ask');
    await ask.waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(await ask.textContent()).toContain('1 message is not sent yet. Sign out and discard it?');
    await ask.getByTestId('sign-out-discard').click();
    await two.page.getByRole('heading', { name: 'Signed out' }).waitFor({ timeout: SHOW_TIMEOUT_MS });

    // Tab one is signed out at once, without a new negotiate: its link stopped, the box and the queue emptied.
    await pill(bob, 'refused').waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(await pill(bob, 'refused').textContent()).toContain('Signed out');
    expect(await banner(bob).textContent()).toContain(
      'You signed out in another tab: sign in again to keep chatting.',
    );
    await screenshot(bob, 'signed-out-elsewhere');
    expect(await pending(bob, 'queued in tab one').count()).toBe(0);
    expect(await composer(bob).inputValue()).toBe('');
    await online(cy, 'Bob').waitFor({ state: 'detached', timeout: SHOW_TIMEOUT_MS });

    // Back online, nothing leaves; hidden (drafts are written then) or muting, nothing is written back.
    await browserSays(bob, 'online');
    await bob.page.getByTestId('mute').click();
    await bob.page.evaluate(() => window.dispatchEvent(new Event('pagehide')));
    expect(await pill(bob, 'refused').count()).toBe(1);
    expect(await pending(bob, 'queued in tab one').count()).toBe(0);
    expect(await delivered(bob, 'queued in tab one').count()).toBe(0);
    expect(await stored(bob, `chat.drafts.${id}`)).toBeNull();
    expect(await stored(bob, `chat.muted.${id}`)).toBeNull();
    expect(await storedOutbox(bob, id)).toBe(0);
    expect(problemsOf(bob)).toEqual({ name: bob.name, errors: [], dialogs: [], csp: [] });
    expect(two.pageErrors).toEqual([]);
  });

  it('stops a tab whose person is no longer the one signed in on the browser, and a blip does not bring it back', async () => {
    dan = await chat.open('dan', { query: '?service=webpubsub' });
    await signIn(dan, 'Dan');
    const two = await secondTab(dan);
    await online(cy, 'Dan').waitFor({ timeout: SHOW_TIMEOUT_MS });

    // Eve signs in in tab two over Dan's session (the sign-in page, without signing out).
    await two.page.goto(`${chat.stack.functionsUrl}/.auth/login/aad`);
    await signIn(two, 'Eve');
    await pill(dan, 'refused').waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(await banner(dan).textContent()).toContain(
      'Another account is signed in on this browser now, so this page has stopped: sign in again',
    );
    await screenshot(dan, 'other-account');
    await online(cy, 'Dan').waitFor({ state: 'detached', timeout: SHOW_TIMEOUT_MS });

    // A blip: every connection is lost. Eve's tab comes back as Eve; Dan's tab stays stopped.
    await chat.stack.restartService();
    const back = 'Eve is back after the blip.';
    await send(two, back);
    await delivered(cy, back).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await online(cy, 'Eve').waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(await pill(dan, 'refused').count()).toBe(1);
    expect(await online(cy, 'Dan').count()).toBe(0);
    expect(problemsOf(dan)).toEqual({ name: dan.name, errors: [], dialogs: [], csp: [] });
    expect(two.pageErrors).toEqual([]);
  });

  it('says one thing while signed out: no promise to send later, the message box off with why, no online list', async () => {
    // A session ended where the page could not hear it: the cookie gone, then the connection lost (401).
    const fay = await chat.open('fay', { query: '' });
    await signIn(fay, 'Fay');
    await fay.context.clearCookies();
    await chat.stack.restartService();
    await pill(fay, 'refused').waitFor({ timeout: SHOW_TIMEOUT_MS });
    for (const person of [bob, dan, fay]) {
      expect(await pill(person, 'refused').textContent()).toContain('Signed out');
      const help = person.page.locator('#composer-help');
      expect(await help.textContent()).toBe('You are signed out: sign in again to write.');
      expect(await composer(person).isDisabled()).toBe(true);
      expect(await composer(person).getAttribute('placeholder')).toBe(
        'You are signed out: sign in again to write.',
      );
      expect(await person.page.locator('main').textContent()).not.toMatch(
        /sent when|when (the connection|it) is back/,
      );
      expect(await person.page.getByTestId('online-off').textContent()).toBe(
        'Sign in again to see who is online.',
      );
      expect(await person.page.locator('section[aria-labelledby="online-heading"] .person').count()).toBe(0);
      expect(await person.page.locator('.conversation-sub').textContent()).toBe('Everyone');
      await screenshot(person, 'signed-out-page');
      expect(problemsOf(person)).toEqual({ name: person.name, errors: [], dialogs: [], csp: [] });
    }
  });
});
