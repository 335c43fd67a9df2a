/**
 * The moderators' panel in Chromium, with sign-in (`CHAT_AUTH=entra`), where user ids are object ids the page
 * never shows: reports are named by where they were as people see it (a group's title, a private conversation's
 * two people), with "Go to message" where the moderator can open it, and muting, banning and deleting asked
 * first; a person to mute or ban is chosen by name and shown with their id; the conversation's "Mute
 * notifications" and a moderator's "Mute user…" are named apart. Screenshots go to test-results/e2e/.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserStack,
  delivered,
  horizontalOverflow,
  type Person,
  pickerOptions,
  pickPerson,
  problemsOf,
  SCREENSHOTS,
  SHOW_TIMEOUT_MS,
  send,
  showActions,
  sidebarButton,
  signInOnPage,
  startBrowserStack,
  waitConnected,
} from '../support/browser.js';

async function screenshot(person: Person, what: string): Promise<void> {
  await person.page.screenshot({
    path: join(SCREENSHOTS, `moderation-panel-${what}-${person.name}.png`),
    animations: 'disabled',
  });
}

/** Signs in on the development page with the person's own name as the account. */
const signIn = (person: Person, name: string, roles: string[] = []) =>
  signInOnPage(person, name, roles, person.name);

async function userIdOf(person: Person): Promise<string> {
  return JSON.parse((await person.page.locator('#chat-config').textContent()) ?? '{}').user;
}

/** The message of `text` in the open conversation. */
const messageItem = (person: Person, text: string) =>
  person.page.locator('.messages .msg:not(.pending)', { hasText: text });

/** The open report of the message `text` in the moderator's panel. */
const reportOf = (person: Person, text: string) =>
  person.page.getByTestId('moderation-panel').getByTestId('report-item').filter({ hasText: text });

/** The text of the element that has the focus. */
const focused = (person: Person) => person.page.evaluate(() => document.activeElement?.textContent ?? '');

/** Reports the message `text` from the open conversation, and waits for the answer. */
async function report(person: Person, text: string): Promise<void> {
  const message = messageItem(person, text);
  await message.waitFor({ timeout: SHOW_TIMEOUT_MS });
  await showActions(person, message);
  await message.getByRole('button', { name: 'More actions' }).click();
  await message.getByTestId('report').click();
  await person.page
    .getByTestId('moderation-notice')
    .filter({ hasText: 'Reported' })
    .waitFor({ timeout: SHOW_TIMEOUT_MS });
}

describe("the moderators' panel, signed in", () => {
  let chat: BrowserStack;
  let mona: Person;
  beforeAll(async () => {
    chat = await startBrowserStack({ env: { CHAT_AUTH: 'entra' } });
    mona = await chat.open('mona', { query: '' });
    await signIn(mona, 'Mona', ['Moderator']);
  });
  afterAll(async () => {
    await chat?.stop();
  });

  it('names where each report was as people see it, goes to the message, and asks before deleting, muting or banning', async () => {
    const ann = await chat.open('ann', { query: '' });
    const bob = await chat.open('bob', { query: '' });
    await signIn(ann, 'Ann');
    await signIn(bob, 'Bob');

    // A private group of Ann and Bob, titled apart from its name; Mona is not in it.
    await ann.page.locator('#new-group-name').fill('standup');
    await pickPerson(
      ann,
      'new-group-members',
      'Bob',
      pickerOptions(ann, 'new-group-members').filter({ hasText: 'Bob' }),
    );
    await ann.page.getByRole('button', { name: 'Create private group' }).click();
    await ann.page.getByRole('button', { name: 'Rename or set topic' }).click();
    await ann.page.locator('#group-title-input').fill('Daily standup');
    await ann.page.getByRole('button', { name: 'Save', exact: true }).click();
    await ann.page
      .locator('#conversation-title', { hasText: 'Daily standup' })
      .waitFor({ timeout: SHOW_TIMEOUT_MS });
    await send(ann, 'you are all fools');
    await sidebarButton(bob, /Daily standup/).click();
    await report(bob, 'you are all fools');
    // A private conversation of Ann and Bob.
    await sidebarButton(ann, /Bob Message privately/).click();
    await send(ann, 'a rude private word');
    await sidebarButton(bob, /^Ann(?! Message)/).click();
    await report(bob, 'a rude private word');
    // The room, where the message is followed by others.
    await sidebarButton(ann, /^Room/).click();
    await send(ann, 'buy my pills');
    for (let i = 0; i < 3; i++) await send(ann, `and more ${i}`);
    await sidebarButton(bob, /^Room/).click();
    await report(bob, 'buy my pills');

    await mona.page.getByTestId('moderate').filter({ hasText: '3' }).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await mona.page.getByTestId('moderate').click();
    const group = reportOf(mona, 'you are all fools');
    const dm = reportOf(mona, 'a rude private word');
    const room = reportOf(mona, 'buy my pills');
    await room.waitFor({ timeout: SHOW_TIMEOUT_MS });
    // Named as people see them, never by id.
    expect(await group.getByTestId('report-place').textContent()).toBe('the private group Daily standup');
    expect(await dm.getByTestId('report-place').textContent()).toMatch(
      /^the private conversation of (Ann and Bob|Bob and Ann)$/,
    );
    expect(await room.getByTestId('report-place').textContent()).toBe('the room');
    const panelText = (await mona.page.getByTestId('moderation-panel').textContent()) ?? '';
    expect(panelText).not.toContain('group:');
    expect(panelText).not.toContain('dm:');
    for (const id of [await userIdOf(ann), await userIdOf(bob)]) expect(panelText).not.toContain(id);
    // Where Mona cannot read, the panel says so instead of offering to go there.
    expect(await group.getByRole('button', { name: 'Go to message' }).count()).toBe(0);
    expect(await group.getByTestId('report-closed').textContent()).toContain('Only the group’s members');
    expect(await dm.getByRole('button', { name: 'Go to message' }).count()).toBe(0);
    expect(await dm.getByTestId('report-closed').textContent()).toContain('Only its two people');
    await screenshot(mona, 'reports');

    // From another conversation, "Go to message" opens the room at the message, focused.
    await sidebarButton(mona, /Bob Message privately/).click();
    await mona.page.locator('#conversation-title', { hasText: 'Bob' }).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await room.getByRole('button', { name: 'Go to message' }).click();
    await mona.page.locator('#conversation-title', { hasText: 'Room' }).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await mona.page
      .locator('.messages .msg.jump-target', { hasText: 'buy my pills' })
      .waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect.poll(() => focused(mona), { timeout: SHOW_TIMEOUT_MS }).toContain('buy my pills');
    // Only the messages scrolled: the page stays where it was, its top bar in view (the panel leaves the list
    // short, with messages below what it shows).
    expect(await mona.page.evaluate(() => document.documentElement.scrollTop)).toBe(0);
    expect(
      await mona.page.evaluate(() => document.querySelector('.topbar')?.getBoundingClientRect().top),
    ).toBe(0);

    // Deleting asks first; yes deletes it for its readers and resolves the report.
    await group.getByRole('button', { name: 'Delete message…' }).click();
    const askDelete = group.getByRole('group', {
      name: "Delete Ann's message for everyone and resolve the report?",
    });
    await askDelete.waitFor({ timeout: SHOW_TIMEOUT_MS });
    await askDelete.getByRole('button', { name: 'Delete' }).click();
    await group.waitFor({ state: 'detached', timeout: SHOW_TIMEOUT_MS });
    await sidebarButton(bob, /Daily standup/).click();
    await bob.page
      .locator('.messages .bubble.deleted', { hasText: 'Message deleted by a moderator' })
      .waitFor({ timeout: SHOW_TIMEOUT_MS });

    // Muting the author asks first, with the focus on Cancel; cancelled, the focus is back and Ann still writes.
    const muteAnn = room.getByRole('button', { name: 'Mute author Ann for an hour…' });
    await muteAnn.click();
    const askMute = room.getByRole('group', { name: 'Mute Ann for an hour?' });
    await askMute.waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect.poll(() => focused(mona)).toBe('Cancel');
    await screenshot(mona, 'ask-mute');
    await askMute.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => focused(mona)).toContain('Mute author');
    expect(await ann.page.getByTestId('muted').count()).toBe(0);
    await muteAnn.click();
    await askMute.getByRole('button', { name: 'Mute', exact: true }).click();
    await ann.page.getByTestId('muted').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await mona.page
      .getByTestId('moderation-panel')
      .getByRole('status')
      .filter({ hasText: 'Muted.' })
      .waitFor();

    // Banning the author asks first too; yes closes Ann's connection.
    await dm.getByRole('button', { name: 'Ban author Ann…' }).click();
    const askBan = dm.getByRole('group', { name: 'Ban Ann from the chat?' });
    await askBan.getByRole('button', { name: 'Ban', exact: true }).click();
    await ann.page.locator('.status-pill[data-status="refused"]').waitFor({ timeout: SHOW_TIMEOUT_MS });
    // The reports stay open until resolved.
    await room.getByRole('button', { name: 'Resolve' }).click();
    await room.waitFor({ state: 'detached', timeout: SHOW_TIMEOUT_MS });
    expect(await delivered(mona, 'buy my pills').count()).toBe(1);
    for (const person of [mona, ann, bob])
      expect(problemsOf(person)).toEqual({ name: person.name, errors: [], dialogs: [], csp: [] });
  });

  it('mutes and bans a person chosen by name, shown with their id first, and lifts both; two of one name are told apart', async () => {
    const dee1 = await chat.open('dee1', { query: '' });
    const dee2 = await chat.open('dee2', { query: '' });
    await signIn(dee1, 'Dee');
    await signIn(dee2, 'Dee');
    const id2 = await userIdOf(dee2);
    const panel = mona.page.getByTestId('moderation-panel');
    if (!(await panel.isVisible())) await mona.page.getByTestId('moderate').click();
    // No field takes a user id: nobody knows them with sign-in.
    expect(await panel.getByPlaceholder('User id').count()).toBe(0);
    const field = panel.getByRole('combobox', {
      name: 'Person to mute or ban: type a name, then choose the person',
    });
    await field.click();
    await field.pressSequentially('dee');
    const options = pickerOptions(mona, 'moderate-person');
    await expect.poll(() => options.count(), { timeout: SHOW_TIMEOUT_MS }).toBe(2);
    // The second Dee, told apart by the start of the id, chosen with the keyboard.
    const second = options.filter({ hasText: id2.slice(0, 6) });
    for (let i = 0; i < 2 && (await second.getAttribute('aria-selected')) !== 'true'; i++)
      await field.press('ArrowDown');
    await field.press('Enter');
    const chosen = panel.getByTestId('chosen-person');
    await chosen.waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(await chosen.textContent()).toContain('Dee');
    expect(await chosen.locator('.user-id').textContent()).toBe(id2);
    await screenshot(mona, 'chosen');

    // Muting asks first; cancelled, nothing happens and the focus is back on the button.
    await chosen.getByRole('button', { name: 'Mute Dee for an hour…' }).click();
    const askMute = chosen.getByRole('group', { name: 'Mute Dee for an hour?' });
    await expect.poll(() => focused(mona)).toBe('Cancel');
    await askMute.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => focused(mona)).toBe('Mute for an hour…');
    await chosen.getByRole('button', { name: 'Mute Dee for an hour…' }).click();
    await askMute.getByRole('button', { name: 'Mute', exact: true }).click();
    await dee2.page.getByTestId('muted').waitFor({ timeout: SHOW_TIMEOUT_MS });
    // The other Dee is not touched.
    await send(dee1, 'the other Dee still writes');
    expect(await dee1.page.getByTestId('muted').count()).toBe(0);
    await chosen.getByRole('button', { name: 'Unmute Dee' }).click();
    await dee2.page.getByTestId('muted').waitFor({ state: 'detached', timeout: SHOW_TIMEOUT_MS });

    // Banning asks first too; lifted, the person comes back.
    await chosen.getByRole('button', { name: 'Ban Dee…' }).click();
    await chosen
      .getByRole('group', { name: 'Ban Dee from the chat?' })
      .getByRole('button', { name: 'Ban', exact: true })
      .click();
    await dee2.page.locator('.status-pill[data-status="refused"]').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect.poll(() => dee1.page.locator('.status-pill').getAttribute('data-status')).toBe('connected');
    await chosen.getByRole('button', { name: 'Unban Dee' }).click();
    await panel.getByRole('status').filter({ hasText: 'Ban lifted.' }).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await dee2.page.reload();
    await waitConnected(dee2);

    // On a phone the panel, its picker and the id fit the width.
    const ada = await chat.open('ada', { query: '', phone: true });
    await signIn(ada, 'Ada', ['Admin']);
    await ada.page.getByTestId('moderate').click();
    const adaField = ada.page.locator('#moderate-person');
    await adaField.pressSequentially('dee');
    await pickerOptions(ada, 'moderate-person').first().click();
    await ada.page.getByTestId('chosen-person').waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(await horizontalOverflow(ada)).toBe(0);
    await screenshot(ada, 'chosen');
    for (const person of [mona, dee1, dee2, ada])
      expect(problemsOf(person)).toEqual({ name: person.name, errors: [], dialogs: [], csp: [] });
  });

  it("names the conversation's mute and a moderator's mute of a person apart, on a desktop and on a phone", async () => {
    const max = await chat.open('max', { query: '', phone: true });
    await signIn(max, 'Max', ['Moderator']);
    const eve = await chat.open('eve', { query: '' });
    await signIn(eve, 'Eve');
    await send(eve, 'a word from Eve');
    for (const person of [mona, max]) {
      const { page } = person;
      if (person === mona)
        await page.getByTestId('moderation-panel').getByRole('button', { name: 'Close' }).click();
      const message = messageItem(person, 'a word from Eve');
      await message.waitFor({ timeout: SHOW_TIMEOUT_MS });
      // The header's mute is the conversation's notifications, by name and for screen readers alike.
      const header = page.getByTestId('mute');
      expect(await header.getAttribute('aria-pressed')).toBe('false');
      expect(await page.getByRole('button', { name: 'Mute notifications', exact: true }).count()).toBe(1);
      // The message's is a moderator's mute of its author, asked first.
      await showActions(person, message);
      await message.getByRole('button', { name: 'More actions' }).click();
      const muteEve = message.getByRole('button', { name: 'Mute user Eve for an hour…' });
      expect(await muteEve.textContent()).toBe('Mute user…');
      // No button is a bare "Mute" any more.
      expect(await page.getByRole('button', { name: 'Mute', exact: true }).count()).toBe(0);
      expect(await page.getByText('Mute', { exact: true }).count()).toBe(0);
      await header.click();
      expect(await header.getAttribute('aria-pressed')).toBe('true');
      expect(await page.getByRole('button', { name: 'Unmute notifications', exact: true }).count()).toBe(1);
      await screenshot(person, 'mutes');
      expect(await horizontalOverflow(person)).toBe(0);
      await header.click();
      expect(await header.getAttribute('aria-pressed')).toBe('false');
    }
    for (const person of [max, eve])
      expect(problemsOf(person)).toEqual({ name: person.name, errors: [], dialogs: [], csp: [] });
  });
});
