/**
 * The moderators' panel as the state of things, in Chromium with sign-in (`CHAT_AUTH=entra`): who is muted
 * (until when) and banned now, offering only what applies, and the audit log in words, both fresh after every
 * action and whenever the panel opens or the page reloads. Screenshots go to test-results/e2e/.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserStack,
  type Person,
  pickerOptions,
  problemsOf,
  SCREENSHOTS,
  SHOW_TIMEOUT_MS,
  startBrowserStack,
  waitConnected,
} from '../support/browser.js';

async function screenshot(person: Person, what: string): Promise<void> {
  await person.page.screenshot({
    path: join(SCREENSHOTS, `moderation-state-${what}-${person.name}.png`),
    animations: 'disabled',
  });
}

/** Fills the development sign-in page as `name` (account: the person's name), ticking `roles`. */
async function signIn(person: Person, name: string, roles: string[] = []): Promise<void> {
  await person.page.getByLabel('Name to show').waitFor({ timeout: SHOW_TIMEOUT_MS });
  await person.page.getByLabel('Name to show').fill(name);
  await person.page.getByLabel('Account (optional)').fill(person.name);
  for (const role of roles) await person.page.getByLabel(role).check();
  await person.page.getByRole('button', { name: 'Sign in' }).click();
  await waitConnected(person);
}

async function userIdOf(person: Person): Promise<string> {
  return JSON.parse((await person.page.locator('#chat-config').textContent()) ?? '{}').user;
}

const panelOf = (person: Person) => person.page.getByTestId('moderation-panel');

/** Opens the moderator's panel (when it is not open). */
async function openPanel(person: Person): Promise<void> {
  if (!(await panelOf(person).isVisible())) await person.page.getByTestId('moderate').click();
  await panelOf(person).waitFor({ timeout: SHOW_TIMEOUT_MS });
}

/** Chooses `name` in the panel's people picker. */
async function choose(person: Person, name: string): Promise<void> {
  const field = panelOf(person).locator('#moderate-person');
  await field.click();
  await field.pressSequentially(name.toLowerCase());
  await pickerOptions(person, 'moderate-person').filter({ hasText: name }).first().click();
  await panelOf(person)
    .getByTestId('chosen-person')
    .filter({ hasText: name })
    .waitFor({ timeout: SHOW_TIMEOUT_MS });
}

/** Answers yes to the question the chosen person's `button` asks. */
async function confirmChosen(person: Person, button: string, answer: string): Promise<void> {
  const chosen = panelOf(person).getByTestId('chosen-person');
  await chosen.getByRole('button', { name: button }).click();
  await chosen.getByRole('button', { name: answer, exact: true }).click();
}

/** The audit log's lines, newest first. */
const auditLines = (person: Person) =>
  panelOf(person).getByTestId('audit-log').locator('li').allTextContents();

describe("the moderators' panel shows the state of things", () => {
  let chat: BrowserStack;
  let mona: Person;
  let bob: Person;
  let cy: Person;
  beforeAll(async () => {
    chat = await startBrowserStack({ env: { CHAT_AUTH: 'entra' } });
    mona = await chat.open('mona', { query: '' });
    bob = await chat.open('bob', { query: '' });
    cy = await chat.open('cy', { query: '' });
    await signIn(mona, 'Mona', ['Moderator']);
    await signIn(bob, 'Bob');
    await signIn(cy, 'Cy');
  });
  afterAll(async () => {
    await chat?.stop();
  });

  it('lists who is muted and banned now, offers only what applies, and logs each action in words, fresh when reopened and after a reload', async () => {
    await openPanel(mona);
    const panel = panelOf(mona);
    const sanctions = panel.getByTestId('sanctions');
    await sanctions.filter({ hasText: 'Nobody is muted or banned.' }).waitFor({ timeout: SHOW_TIMEOUT_MS });
    const chosen = panel.getByTestId('chosen-person');

    // Muted: Bob is listed with until when, and only "Unmute" is offered for him.
    await choose(mona, 'Bob');
    await confirmChosen(mona, 'Mute Bob for an hour…', 'Mute');
    await sanctions.locator('li', { hasText: /^Bob: muted until / }).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await chosen.getByRole('button', { name: 'Unmute Bob' }).waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(await chosen.getByRole('button', { name: 'Mute Bob for an hour…' }).count()).toBe(0);
    expect(await chosen.getByTestId('chosen-state').textContent()).toMatch(/^Muted until /);
    await expect
      .poll(async () => (await auditLines(mona))[0])
      .toMatch(/: Mona muted Bob for an hour \(until .+\)$/);

    // Lifted: nothing offers "Unmute" for Bob any more, and the log says so.
    await chosen.getByRole('button', { name: 'Unmute Bob' }).click();
    await chosen.getByRole('button', { name: 'Mute Bob for an hour…' }).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect.poll(() => panel.getByRole('button', { name: 'Unmute Bob' }).count()).toBe(0);
    await expect.poll(async () => (await auditLines(mona))[0]).toMatch(/: Mona lifted the mute of Bob$/);

    // Banned: Cy is listed with "Unban", and the log has the ban.
    await choose(mona, 'Cy');
    await confirmChosen(mona, 'Ban Cy…', 'Ban');
    await cy.page.locator('.status-pill[data-status="refused"]').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await sanctions.locator('li', { hasText: /^Cy: banned/ }).waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(await chosen.getByRole('button', { name: 'Ban Cy…' }).count()).toBe(0);
    await expect.poll(async () => (await auditLines(mona))[0]).toMatch(/: Mona banned Cy from the chat$/);
    await screenshot(mona, 'after-ban');

    // Closed and opened again, then after a reload: the same state, asked for afresh.
    for (const again of ['reopened', 'reloaded']) {
      if (again === 'reopened') await panel.getByRole('button', { name: 'Close' }).click();
      else {
        await mona.page.reload();
        await waitConnected(mona);
      }
      await openPanel(mona);
      await sanctions.getByRole('button', { name: 'Unban Cy' }).waitFor({ timeout: SHOW_TIMEOUT_MS });
      expect(await panel.getByRole('button', { name: 'Unmute Bob' }).count()).toBe(0);
      expect(await sanctions.locator('li').count()).toBe(1);
      await expect
        .poll(() => auditLines(mona))
        .toEqual([
          expect.stringMatching(/: Mona banned Cy from the chat$/),
          expect.stringMatching(/: Mona lifted the mute of Bob$/),
          expect.stringMatching(/: Mona muted Bob for an hour \(until .+\)$/),
        ]);
    }
    // Words and names only: no command's name, no user id.
    const text = (await panel.textContent()) ?? '';
    for (const raw of ['muteUser', 'unmuteUser', 'banUser', await userIdOf(bob), await userIdOf(cy)])
      expect(text).not.toContain(raw);

    // Lifted from the list: nobody is left, and Cy comes back.
    await sanctions.getByRole('button', { name: 'Unban Cy' }).click();
    await sanctions.filter({ hasText: 'Nobody is muted or banned.' }).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect.poll(async () => (await auditLines(mona))[0]).toMatch(/: Mona lifted the ban of Cy$/);
    await cy.page.reload();
    await waitConnected(cy);
    for (const person of [mona, bob, cy])
      expect(problemsOf(person)).toEqual({ name: person.name, errors: [], dialogs: [], csp: [] });
  });
});
