/**
 * The page's link, header and sign-out with sign-in (`CHAT_AUTH=entra`) in Chromium, on both services: a banned
 * person is told so, the message box is off, and "Try again" brings the page back once the ban is lifted; a
 * session signed out elsewhere asks
 * to sign in again, with a link that works; the phone's top bar fits 390 px in every status; and "Sign out" leaves
 * none of the person's drafts, mutes or unsent messages on the browser, asking first when messages are unsent.
 * Screenshots go to test-results/e2e/.
 */
import { join } from 'node:path';
import type { Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserStack,
  composer,
  horizontalOverflow,
  type Person,
  problemsOf,
  SCREENSHOTS,
  SHOW_TIMEOUT_MS,
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
  await person.page.screenshot({ path: join(SCREENSHOTS, `page-link-${what}-${person.name}.png`) });
}

/** Fills the development sign-in page (ticking `roles`); the chat then loads. */
async function fillSignIn(person: Person, name: string, roles: string[] = []): Promise<void> {
  await person.page.getByLabel('Name to show').waitFor({ timeout: SHOW_TIMEOUT_MS });
  await person.page.getByLabel('Name to show').fill(name);
  await person.page.getByLabel('Account (optional)').fill(name.toLowerCase().replaceAll(' ', '.'));
  for (const role of roles) await person.page.getByLabel(role).check();
  await person.page.getByRole('button', { name: 'Sign in' }).click();
}

async function signIn(person: Person, name: string, roles: string[] = []): Promise<void> {
  await fillSignIn(person, name, roles);
  await waitConnected(person);
}

async function userIdOf(person: Person): Promise<string> {
  return JSON.parse((await person.page.locator('#chat-config').textContent()) ?? '{}').user;
}

const pill = (person: Person, status: string) => person.page.locator(`.status-pill[data-status="${status}"]`);
const banner = (person: Person) => person.page.getByTestId('connection-banner');

/** The page is as wide as the phone, and nothing in it (the top bar above all) reaches past its edge. */
async function expectFits(person: Person, what: string): Promise<void> {
  const width = await person.page.evaluate(() => document.documentElement.scrollWidth);
  expect(width, `${person.name}: page width while ${what}`).toBeLessThanOrEqual(390);
  expect(await horizontalOverflow(person), `${person.name}: overflow while ${what}`).toBe(0);
}

/**
 * Mona, a moderator, mutes (for an hour) or bans `person` from her panel: chosen by their name, `shown`, and
 * checked by their id before she answers the question.
 */
async function moderate(mona: Person, action: 'Ban' | 'Mute', person: Person, shown: string): Promise<void> {
  const panel = mona.page.getByTestId('moderation-panel');
  if (!(await panel.isVisible())) await mona.page.getByTestId('moderate').click();
  await panel.locator('#moderate-person').pressSequentially(shown);
  await mona.page.locator('#moderate-person-list [role="option"]', { hasText: shown }).click();
  await panel
    .getByTestId('chosen-person')
    .filter({ hasText: await userIdOf(person) })
    .waitFor();
  await panel
    .getByRole('button', { name: action === 'Ban' ? `Ban ${shown}…` : `Mute ${shown} for an hour…` })
    .click();
  await panel.getByRole('button', { name: action, exact: true }).click();
  await panel.getByRole('status').waitFor({ timeout: SHOW_TIMEOUT_MS });
}

const stored = (person: Person, key: string) => person.page.evaluate((k) => localStorage.getItem(k), key);

/** Polls `read` until it gives `expected` (the page writes storage in the background). */
async function until<T>(read: () => Promise<T>, expected: T, what: string): Promise<void> {
  for (let i = 0; i < 200; i += 1) {
    if ((await read()) === expected) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(await read(), what).toBe(expected);
}

let mona: Person;

describe('the page’s link with sign-in (both services)', () => {
  it('tells a banned person they are banned, with the box off, and lets them back once the ban is lifted (phone)', async () => {
    mona = await chat.open('mona', { query: '' });
    await signIn(mona, 'Mona', ['Moderator']);
    const bob = await chat.open('bob', { query: '', phone: true });
    await signIn(bob, 'Bob');
    const cy = await chat.open('cy', { query: '?service=webpubsub', phone: true });
    await signIn(cy, 'Cy');
    for (const person of [bob, cy]) {
      const shown = person === bob ? 'Bob' : 'Cy';
      await moderate(mona, 'Ban', person, shown);
      await pill(person, 'refused').waitFor({ timeout: SHOW_TIMEOUT_MS });
      expect(await banner(person).textContent()).toContain('This account is banned from the chat');
      // Still refused: the page did not go back to counting down to another try.
      expect(await pill(person, 'refused').textContent()).toContain('Banned');
      // Nothing written could be sent: the box is off and says why; the online list, which nothing keeps true
      // now, is gone.
      expect(await composer(person).isDisabled()).toBe(true);
      expect(await person.page.locator('#composer-help').textContent()).toBe(
        'Banned: you can write once the ban is lifted.',
      );
      expect(await person.page.getByTestId('online-off').textContent()).toBe(
        'Who is online is not shown while this account is banned.',
      );
      await expectFits(person, 'banned');
      await screenshot(person, 'banned');
      // Lifted: "Try again" negotiates again, on either service, and the page is back.
      await mona.page
        .getByTestId('sanctions')
        .getByRole('button', { name: `Unban ${shown}` })
        .click();
      await mona.page
        .getByTestId('moderation-panel')
        .getByRole('status')
        .filter({ hasText: 'Ban lifted.' })
        .waitFor({ timeout: SHOW_TIMEOUT_MS });
      await banner(person).getByRole('button', { name: 'Try again' }).click();
      await waitConnected(person);
      expect(await composer(person).isDisabled()).toBe(false);
      expect(problemsOf(person)).toEqual({ name: person.name, errors: [], dialogs: [], csp: [] });
    }
  });

  it('fits the phone’s top bar in every status: connecting, offline with its countdown, browser offline, connected', async () => {
    for (const query of ['', '?service=webpubsub']) {
      /** Negotiate held (connecting), failing (offline, counting down), or let through. */
      let mode: 'hold' | 'fail' | 'pass' = 'hold';
      const held: Route[] = [];
      const fail = (route: Route) => route.fulfill({ status: 503, body: 'down for the test' });
      const name = query ? 'wes' : 'sam';
      const person = await chat.open(name, {
        query,
        phone: true,
        beforeLoad: async ({ page }) => {
          await page.route('**/api/negotiate**', (route) => {
            if (mode === 'hold') held.push(route);
            else if (mode === 'fail') void fail(route);
            else void route.continue();
          });
        },
      });
      await fillSignIn(person, `${name === 'wes' ? 'Wesley' : 'Samantha'} Longname`);
      await pill(person, 'connecting').waitFor({ timeout: SHOW_TIMEOUT_MS });
      await expectFits(person, 'connecting');
      mode = 'fail';
      for (const route of held.splice(0)) await fail(route);
      await person.page
        .locator('.status-pill[data-status="offline"]', { hasText: /retrying in \d+s/ })
        .waitFor({ timeout: SHOW_TIMEOUT_MS });
      await expectFits(person, 'offline, retrying');
      await screenshot(person, 'retrying');
      await person.context.setOffline(true);
      await banner(person).filter({ hasText: 'You are offline' }).waitFor({ timeout: SHOW_TIMEOUT_MS });
      await expectFits(person, 'the browser is offline');
      await person.context.setOffline(false);
      mode = 'pass';
      await waitConnected(person);
      await expectFits(person, 'connected');
      await person.context.close();
    }
  });

  it('signs out without leaving drafts, mutes or unsent messages behind, asking first about the unsent', async () => {
    const dee = await chat.open('dee', { query: '' });
    await signIn(dee, 'Dee');
    const id = await userIdOf(dee);
    // A message that cannot leave: written offline, then refused once Dee is muted, it waits in the outbox (a
    // muted page does not send what is typed, so it is written before the mute).
    await dee.context.setOffline(true);
    await composer(dee).fill('this one is refused');
    await composer(dee).press('Enter');
    await moderate(mona, 'Mute', dee, 'Dee');
    await dee.context.setOffline(false);
    await dee.page.getByTestId('muted').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await dee.page
      .locator('.messages .msg.pending.failed', { hasText: 'this one is refused' })
      .waitFor({ timeout: SHOW_TIMEOUT_MS });
    await dee.page.getByTestId('mute').click();
    await composer(dee).fill('half a thought');
    await until(() => storedOutbox(dee, id), 1, 'the unsent message kept');
    await until(async () => (await stored(dee, `chat.drafts.${id}`)) !== null, true, 'the draft kept');
    expect(await stored(dee, `chat.muted.${id}`)).toContain('room');

    // Asked first; keeping the message keeps everything.
    await dee.page.getByTestId('sign-out').click();
    const ask = dee.page.getByTestId('sign-out-ask');
    await ask.waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(await ask.textContent()).toContain('1 message is not sent yet. Sign out and discard it?');
    await screenshot(dee, 'sign-out-ask');
    await ask.getByRole('button', { name: 'Keep it' }).click();
    await ask.waitFor({ state: 'detached', timeout: SHOW_TIMEOUT_MS });
    expect(await storedOutbox(dee, id)).toBe(1);
    expect(dee.page.url()).toContain('/api/home');

    await dee.page.getByTestId('sign-out').click();
    await ask.getByTestId('sign-out-discard').click();
    await dee.page.getByRole('heading', { name: 'Signed out' }).waitFor({ timeout: SHOW_TIMEOUT_MS });
    // Same origin: the browser's storage as the next person at it would find it.
    expect(await storedOutbox(dee, id)).toBe(0);
    expect(await stored(dee, `chat.drafts.${id}`)).toBeNull();
    expect(await stored(dee, `chat.muted.${id}`)).toBeNull();
    expect(problemsOf(dee)).toEqual({ name: dee.name, errors: [], dialogs: [], csp: [] });
  });

  it('asks a session signed out elsewhere to sign in again, on both services, and the link signs in', async () => {
    const ann = await chat.open('ann', { query: '', phone: true });
    await signIn(ann, 'Ann');
    const wesPage = await ann.context.newPage();
    const annWps: Person = { ...ann, name: 'ann-webpubsub', page: wesPage };
    // A group is open there: signing in again comes back to it.
    await wesPage.goto(`${chat.stack.homeUrl}?service=webpubsub#group:crew`);
    await waitConnected(annWps);
    // The session ends (as when signed out in another tab), and both connections are lost.
    await ann.context.clearCookies();
    await chat.stack.restartService();
    for (const person of [ann, annWps]) {
      await pill(person, 'refused').waitFor({ timeout: SHOW_TIMEOUT_MS });
      expect(await banner(person).textContent()).toContain('You are signed out: sign in again');
      await expectFits(person, 'signed out');
      await screenshot(person, 'signed-out');
    }
    const again = annWps.page.getByTestId('sign-in-again');
    expect(await again.getAttribute('href')).toBe(
      `/.auth/login/aad?post_login_redirect_uri=${encodeURIComponent('/api/home?service=webpubsub#group:crew')}`,
    );
    await again.click();
    await signIn(annWps, 'Ann');
    expect(await annWps.page.locator('[data-testid="service-tag"]').count()).toBe(1);
    expect(new URL(annWps.page.url()).hash).toBe('#group:crew');
    await expect(annWps.page.locator('#conversation-title').textContent()).resolves.toContain('crew');
    expect(problemsOf(ann)).toEqual({ name: ann.name, errors: [], dialogs: [], csp: [] });
  });
});
