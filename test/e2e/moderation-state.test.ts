/**
 * The moderators' panel as the state of things, in Chromium with sign-in (`CHAT_AUTH=entra`): who is muted
 * (until when) and banned now, offering only what applies, and the audit log in words, both fresh after every
 * action and whenever the panel opens or the page reloads; and a banned person's page, which keeps what they
 * wrote without asking before a reload, and comes back once the ban is lifted; the panel on a phone; and a
 * moderator's "Remove from channel", asked first. Screenshots go to test-results/e2e/.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserStack,
  composer,
  createGroup,
  delivered,
  horizontalOverflow,
  type Person,
  pickerOptions,
  problemsOf,
  SCREENSHOTS,
  SHOW_TIMEOUT_MS,
  send,
  showActions,
  signInOnPage,
  startBrowserStack,
  waitConnected,
} from '../support/browser.js';

async function screenshot(person: Person, what: string): Promise<void> {
  await person.page.screenshot({
    path: join(SCREENSHOTS, `moderation-state-${what}-${person.name}.png`),
    animations: 'disabled',
  });
}

/** Signs in on the development page with the person's own name as the account. */
const signIn = (person: Person, name: string, roles: string[] = []) =>
  signInOnPage(person, name, roles, person.name);

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

/** How often a banned page asks again whether its ban is lifted (static/link/refusal.js). */
const { BANNED_RETRY_MS } = (await import(new URL('../../static/link/refusal.js', import.meta.url).href)) as {
  BANNED_RETRY_MS: number;
};

/** Mona bans `name` from her panel, and waits until their page says so. */
async function ban(mona: Person, person: Person, name: string): Promise<void> {
  await openPanel(mona);
  await choose(mona, name);
  await confirmChosen(mona, `Ban ${name}…`, 'Ban');
  await person.page.locator('.status-pill[data-status="refused"]').waitFor({ timeout: SHOW_TIMEOUT_MS });
}

/** Mona lifts the ban of `name` from the list of who is banned now. */
async function unban(mona: Person, name: string): Promise<void> {
  const sanctions = panelOf(mona).getByTestId('sanctions');
  await sanctions.getByRole('button', { name: `Unban ${name}` }).click();
  await expect.poll(() => sanctions.getByRole('button', { name: `Unban ${name}` }).count()).toBe(0);
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

  it('gives a banned page its way back: the box is off, nothing asks before a reload, "Try again" asks at once, and the page asks by itself every few minutes', async () => {
    // Eve's clock can be moved on, to see the page ask again by itself.
    const eve = await chat.open('eve', { query: '', beforeLoad: (person) => person.page.clock.install() });
    await signIn(eve, 'Eve');
    let negotiates = 0;
    eve.page.on('request', (request) => {
      if (new URL(request.url()).pathname.endsWith('/negotiate')) negotiates++;
    });
    // Written while the network is gone, then banned: the message waits in the outbox, on this browser.
    await eve.context.setOffline(true);
    await composer(eve).fill('written before the ban');
    await composer(eve).press('Enter');
    await eve.page
      .locator('.msg.pending', { hasText: 'written before the ban' })
      .waitFor({ timeout: SHOW_TIMEOUT_MS });
    await openPanel(mona);
    await choose(mona, 'Eve');
    await confirmChosen(mona, 'Ban Eve…', 'Ban');
    await eve.context.setOffline(false);
    const refused = eve.page.locator('.status-pill[data-status="refused"]');
    await refused.waitFor({ timeout: SHOW_TIMEOUT_MS });
    const banner = eve.page.getByTestId('connection-banner');
    expect(await banner.textContent()).toContain('The page asks every 5 minutes whether the ban is lifted');
    // Nothing can be sent: the box is off and says why.
    expect(await composer(eve).isDisabled()).toBe(true);
    expect(await eve.page.getByTestId('composer-off').textContent()).toContain('Banned');
    await screenshot(eve, 'banned');

    // A reload asks nothing: the message is kept on this browser, and still waits after it.
    await eve.page.reload();
    await refused.waitFor({ timeout: SHOW_TIMEOUT_MS });
    await eve.page
      .locator('.msg.pending', { hasText: 'written before the ban' })
      .waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(eve.dialogs).toEqual([]);

    // "Try again" while still banned: one more negotiate, refused again.
    const tryAgain = banner.getByRole('button', { name: 'Try again' });
    const before = negotiates;
    await tryAgain.click();
    await expect.poll(() => negotiates).toBeGreaterThan(before);
    await tryAgain.waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(await eve.page.locator('.status-pill').getAttribute('data-status')).toBe('refused');

    // Lifted: "Try again" brings the page back, and what waited leaves.
    await unban(mona, 'Eve');
    await tryAgain.click();
    await waitConnected(eve);
    expect(await composer(eve).isDisabled()).toBe(false);
    await delivered(mona, 'written before the ban').waitFor({ timeout: SHOW_TIMEOUT_MS });

    // Banned and lifted again, nobody at the page: it asks again by itself, a few minutes later.
    await ban(mona, eve, 'Eve');
    await unban(mona, 'Eve');
    const waiting = negotiates;
    await eve.page.clock.fastForward(BANNED_RETRY_MS);
    await waitConnected(eve);
    expect(negotiates).toBeGreaterThan(waiting);
    await composer(eve).fill('back by itself');
    await composer(eve).press('Enter');
    await delivered(mona, 'back by itself').waitFor({ timeout: SHOW_TIMEOUT_MS });
    for (const person of [mona, eve])
      expect(problemsOf(person)).toEqual({ name: person.name, errors: [], dialogs: [], csp: [] });
  });

  it('is a sheet on a phone (390x844) that scrolls inside itself under a Close in reach, leaving the messages whole', async () => {
    const ada = await chat.open('ada', { query: '', phone: true });
    await ada.page.setViewportSize({ width: 390, height: 844 });
    await signIn(ada, 'Ada', ['Admin']);
    // Reports enough to fill more than a phone's height.
    for (const word of ['a word to report', 'another to report', 'a third to report']) {
      await send(cy, word);
      const reported = bob.page.locator('.messages .msg:not(.pending)', { hasText: word });
      await showActions(bob, reported);
      await reported.getByRole('button', { name: 'More actions' }).click();
      await reported.getByTestId('report').click();
      await bob.page
        .getByTestId('moderation-notice')
        .filter({ hasText: 'Reported' })
        .waitFor({ timeout: SHOW_TIMEOUT_MS });
    }
    await send(bob, 'the last word on the phone');
    const last = ada.page.locator('.messages .msg:not(.pending)', { hasText: 'the last word on the phone' });
    await last.waitFor({ timeout: SHOW_TIMEOUT_MS });
    const messages = ada.page.locator('.messages');
    const before = await last.boundingBox();

    await ada.page.getByTestId('moderate').click();
    const panel = panelOf(ada);
    await panel.getByTestId('report-item').nth(2).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await panel.getByTestId('audit-log').locator('li').first().waitFor({ timeout: SHOW_TIMEOUT_MS });
    await screenshot(ada, 'phone-panel');
    // Within the window, below the top bar; the page itself does not scroll, the panel does.
    const box = await panel.boundingBox();
    const top = await ada.page.locator('.topbar').boundingBox();
    expect(box && top && box.y >= top.y + top.height - 1 && box.y + box.height <= 844).toBe(true);
    expect(await ada.page.evaluate(() => document.documentElement.scrollHeight)).toBeLessThanOrEqual(844);
    expect(await panel.evaluate((el) => el.scrollHeight > el.clientHeight)).toBe(true);
    expect(await horizontalOverflow(ada)).toBe(0);
    // Nothing of the conversation shows half under it.
    expect(await last.isVisible()).toBe(false);
    expect(await composer(ada).isVisible()).toBe(false);
    // Scrolled to its end, "Close" is still in view, a thumb's size.
    await panel.evaluate((el) => el.scrollTo(0, el.scrollHeight));
    await panel.getByTestId('audit-log').locator('li').last().scrollIntoViewIfNeeded();
    const close = panel.getByRole('button', { name: 'Close' });
    const closeBox = await close.boundingBox();
    const after = await panel.boundingBox();
    expect(
      closeBox && after && closeBox.y >= after.y && closeBox.y + closeBox.height <= after.y + after.height,
    ).toBe(true);
    expect(closeBox?.height).toBeGreaterThanOrEqual(44);
    await screenshot(ada, 'phone-panel-end');
    await close.click();
    await panel.waitFor({ state: 'detached', timeout: SHOW_TIMEOUT_MS });
    // The messages are where they were, the last one whole with its actions.
    expect(await last.boundingBox()).toEqual(before);
    const list = await messages.boundingBox();
    expect(before && list && before.y + before.height <= list.y + list.height).toBe(true);

    // "Go to message" closes the sheet, so the message shows.
    await ada.page.getByTestId('moderate').click();
    await panel
      .getByTestId('report-item')
      .filter({ hasText: 'a word to report' })
      .getByRole('button', { name: 'Go to message' })
      .click();
    await panel.waitFor({ state: 'detached', timeout: SHOW_TIMEOUT_MS });
    await ada.page
      .locator('.messages .msg.jump-target', { hasText: 'a word to report' })
      .waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(await ada.page.locator('.messages .msg', { hasText: 'a word to report' }).isVisible()).toBe(true);
    expect(problemsOf(ada)).toEqual({ name: ada.name, errors: [], dialogs: [], csp: [] });
  });

  it('asks before removing someone from a channel, saying they can join again', async () => {
    await createGroup(mona, 'lobby');
    await cy.page.getByRole('button', { name: 'Browse channels' }).click();
    await cy.page
      .getByRole('list', { name: 'Channel directory' })
      .getByRole('button', { name: 'Join channel lobby' })
      .click();
    await cy.page
      .locator('.conversation-titles .conversation-sub', { hasText: 'Channel' })
      .waitFor({ timeout: SHOW_TIMEOUT_MS });
    await send(cy, 'hello lobby');
    const message = mona.page.locator('.messages .msg:not(.pending)', { hasText: 'hello lobby' });
    await message.waitFor({ timeout: SHOW_TIMEOUT_MS });
    const remove = message.getByRole('button', { name: 'Remove Cy from the channel…' });
    const ask = message.getByRole('group', {
      name: 'Remove Cy from this channel? They can join it again at once; to keep them out, ban them.',
    });

    // Asked first, with the focus on Cancel; cancelled, Cy is still in.
    await showActions(mona, message);
    await message.getByRole('button', { name: 'More actions' }).click();
    await remove.click();
    await ask.waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect.poll(() => mona.page.evaluate(() => document.activeElement?.textContent)).toBe('Cancel');
    await screenshot(mona, 'ask-remove');
    await ask.getByRole('button', { name: 'Cancel' }).click();
    await ask.waitFor({ state: 'detached', timeout: SHOW_TIMEOUT_MS });
    await send(cy, 'still in the lobby');
    await delivered(mona, 'still in the lobby').waitFor({ timeout: SHOW_TIMEOUT_MS });

    // Confirmed: Cy is out, and the log says where from.
    await showActions(mona, message);
    await message.getByRole('button', { name: 'More actions' }).click();
    await remove.click();
    await ask.getByRole('button', { name: 'Remove', exact: true }).click();
    await cy.page
      .getByRole('button', { name: 'Join channel', exact: true })
      .waitFor({ timeout: SHOW_TIMEOUT_MS });
    await openPanel(mona);
    await expect.poll(async () => (await auditLines(mona))[0]).toMatch(/: Mona removed Cy from #lobby$/);
    // As the question said, Cy can join again.
    await cy.page.getByRole('button', { name: 'Join channel', exact: true }).click();
    await send(cy, 'back in the lobby');
    await delivered(mona, 'back in the lobby').waitFor({ timeout: SHOW_TIMEOUT_MS });
    for (const person of [mona, cy])
      expect(problemsOf(person)).toEqual({ name: person.name, errors: [], dialogs: [], csp: [] });
  });
});
