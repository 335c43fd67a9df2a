/**
 * Where the keyboard focus goes after an action, in Chromium against the whole local stack, with the keyboard
 * only (`page.keyboard`, `document.activeElement`): it never drops to the page's body, which would send a
 * keyboard user back to "Skip to the message box". An owner's Members list (the question before a removal,
 * "Yes, remove", "Make owner"), "Join" in the channel directory on a desktop and on a phone, a conversation
 * opened from the phone's drawer, and a moderator's "Resolve"; Escape closes the innermost thing open (a
 * question, the Members list, the Moderate panel, the question before signing out with messages not sent) and
 * gives the focus back to what opened it.
 */
import type { Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserStack,
  composer,
  conversationButton,
  createGroup,
  delivered,
  type Person,
  problemsOf,
  SHOW_TIMEOUT_MS,
  send,
  showActions,
  signInOnPage,
  startBrowserStack,
  waitConnected,
} from '../support/browser.js';
import { type ChatClient, connectChat, isGroupRecord } from '../support/chat-clients.js';

/** What holds the focus: its `aria-label`, its test id, its id or its text; "nothing" for the page's body. */
const focused = (person: Person) =>
  person.page.evaluate(() => {
    const el = document.activeElement;
    if (!(el instanceof HTMLElement) || el === document.body) return 'nothing';
    return (
      el.getAttribute('aria-label') || el.dataset.testid || el.id || el.textContent?.trim() || el.tagName
    );
  });

/** The text of the list item that holds the focus ('' outside one). */
const focusedItem = (person: Person) =>
  person.page.evaluate(() => document.activeElement?.closest('li')?.textContent?.trim() ?? '');

/** Presses `key` on `target`, reached with the focus, as a keyboard user would. */
async function pressOn(person: Person, target: Locator, key = 'Enter') {
  await target.waitFor({ timeout: SHOW_TIMEOUT_MS });
  await target.focus();
  await person.page.keyboard.press(key);
}

describe('the focus after an action, without sign-in', () => {
  let chat: BrowserStack;
  let ann: Person;
  let zoe: ChatClient;
  beforeAll(async () => {
    chat = await startBrowserStack();
    ann = await chat.open('ann');
    await waitConnected(ann);
    // Zoe (a client, not a page) opens a channel for the directory.
    zoe = await connectChat(chat.stack.functionsUrl, 'zoe', 'signalr');
    await zoe.send('createGroup', { group: 'lounge', kind: 'channel' });
    await zoe.waitFor(isGroupRecord('lounge'));
  });
  afterAll(async () => {
    await zoe?.close();
    await chat?.stop();
  });

  it("follows an owner's Members list: Escape, the question before a removal, Yes, Make owner", async () => {
    await createGroup(ann, 'team', 'bob, cy, dee');
    const panel = ann.page.getByTestId('group-panel');
    const membersButton = panel.getByRole('button', { name: 'Members', exact: true });
    const list = panel.getByRole('list', { name: 'Group members' });
    await pressOn(ann, membersButton);
    await list.getByText('dee').waitFor({ timeout: SHOW_TIMEOUT_MS });

    // Escape from inside the list closes it; the focus is back on "Members".
    await pressOn(ann, list.getByRole('button', { name: 'Remove cy' }), 'Escape');
    await list.waitFor({ state: 'detached', timeout: SHOW_TIMEOUT_MS });
    await expect.poll(() => focused(ann)).toBe('Members');
    await ann.page.keyboard.press('Enter');
    await list.getByText('dee').waitFor({ timeout: SHOW_TIMEOUT_MS });

    // "Remove" asks first, the focus on Cancel; Escape answers no, the focus back on "Remove".
    await pressOn(ann, list.getByRole('button', { name: 'Remove cy' }));
    const question = list.getByTestId('confirm-remove');
    await question.waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect.poll(() => focused(ann)).toBe('Cancel');
    await ann.page.keyboard.press('Escape');
    await question.waitFor({ state: 'detached', timeout: SHOW_TIMEOUT_MS });
    await expect.poll(() => focused(ann)).toBe('Remove cy');
    await expect(list.isVisible()).resolves.toBe(true);

    // Yes: once cy is gone, the focus is on the next member's "Remove".
    await ann.page.keyboard.press('Enter');
    await expect.poll(() => focused(ann)).toBe('Cancel');
    await ann.page.keyboard.press('Shift+Tab');
    await expect.poll(() => focused(ann)).toBe('Yes, remove cy');
    await ann.page.keyboard.press('Enter');
    await list.getByText('cy').waitFor({ state: 'detached', timeout: SHOW_TIMEOUT_MS });
    await expect.poll(() => focused(ann)).toBe('Remove dee');

    // Make owner: once bob is one, the focus is on the control in its place, his "Remove".
    await pressOn(ann, list.getByRole('button', { name: 'Make bob an owner' }));
    await list.getByText('bob (owner)').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect.poll(() => focused(ann)).toBe('Remove bob');

    // The list closes with Escape from where the focus went.
    await ann.page.keyboard.press('Escape');
    await list.waitFor({ state: 'detached', timeout: SHOW_TIMEOUT_MS });
    await expect.poll(() => focused(ann)).toBe('Members');
    expect(problemsOf(ann)).toEqual({ name: 'ann', errors: [], dialogs: [], csp: [] });
  });

  it('"Join" in the channel directory puts the focus in the joined channel\'s message box (desktop)', async () => {
    await pressOn(ann, ann.page.getByRole('button', { name: 'Browse channels' }));
    await pressOn(ann, ann.page.getByRole('button', { name: 'Join channel lounge' }));
    await ann.page
      .locator('.conversation-titles .conversation-sub', { hasText: 'Channel' })
      .waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect.poll(() => focused(ann), { timeout: SHOW_TIMEOUT_MS }).toBe('composer-input');
    await ann.page.keyboard.type('hello lounge');
    await ann.page.keyboard.press('Enter');
    await delivered(ann, 'hello lounge').waitFor({ timeout: SHOW_TIMEOUT_MS });
  });

  it('on a phone, "Join" and a conversation opened from the drawer put the focus in the message box', async () => {
    const eve = await chat.open('eve', { phone: true });
    await waitConnected(eve);
    const menu = eve.page.locator('#menu-button');
    await pressOn(eve, menu);
    await expect.poll(() => menu.getAttribute('aria-expanded')).toBe('true');
    await pressOn(eve, eve.page.getByRole('button', { name: 'Browse channels' }));
    await pressOn(eve, eve.page.getByRole('button', { name: 'Join channel lounge' }));
    await expect.poll(() => menu.getAttribute('aria-expanded')).toBe('false');
    await eve.page
      .locator('.conversation-titles .conversation-sub', { hasText: 'Channel' })
      .waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect.poll(() => focused(eve), { timeout: SHOW_TIMEOUT_MS }).toBe('composer-input');

    // Back to the room from the drawer, with the keyboard.
    await pressOn(eve, menu);
    await expect.poll(() => menu.getAttribute('aria-expanded')).toBe('true');
    const room = conversationButton(eve, /^Room/);
    await pressOn(eve, room);
    await expect.poll(() => menu.getAttribute('aria-expanded')).toBe('false');
    await expect.poll(() => eve.page.locator('#conversation-title').textContent()).toContain('Room');
    await expect.poll(() => focused(eve)).toBe('composer-input');
    await eve.page.keyboard.type('hello from the phone');
    await eve.page.keyboard.press('Enter');
    await delivered(eve, 'hello from the phone').waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(problemsOf(eve)).toEqual({ name: 'eve', errors: [], dialogs: [], csp: [] });
  });
});

describe('the focus in the Moderate panel, with sign-in', () => {
  let chat: BrowserStack;
  beforeAll(async () => {
    chat = await startBrowserStack({ env: { CHAT_AUTH: 'entra' } });
  });
  afterAll(async () => {
    await chat?.stop();
  });

  it('"Resolve" goes on to the next report, then to the list\'s heading; Escape or Close closes the panel', async () => {
    const mona = await chat.open('mona', { query: '' });
    const bob = await chat.open('bob', { query: '' });
    await signInOnPage(mona, 'Mona', ['Moderator']);
    await signInOnPage(bob, 'Bob');
    for (const text of ['first thing', 'second thing']) {
      await send(mona, text);
      const item = bob.page.locator('.messages .msg:not(.pending)', { hasText: text });
      await showActions(bob, item);
      await item.getByRole('button', { name: 'More actions' }).click();
      await item.getByTestId('report').click();
    }
    const moderate = mona.page.getByTestId('moderate');
    await moderate.filter({ hasText: '2' }).waitFor({ timeout: SHOW_TIMEOUT_MS });

    // Opened and closed with the keyboard: Escape on its button, then from inside the panel.
    const panel = mona.page.getByTestId('moderation-panel');
    await pressOn(mona, moderate);
    await panel.waitFor({ timeout: SHOW_TIMEOUT_MS });
    await mona.page.keyboard.press('Escape');
    await panel.waitFor({ state: 'detached', timeout: SHOW_TIMEOUT_MS });
    await expect.poll(() => focused(mona)).toBe('moderate');
    await mona.page.keyboard.press('Enter');
    const reports = panel.getByTestId('report-item');
    await expect.poll(() => reports.count(), { timeout: SHOW_TIMEOUT_MS }).toBe(2);

    // Newest first: resolving it moves the focus to the next report's "Resolve".
    await pressOn(mona, reports.filter({ hasText: 'second thing' }).getByRole('button', { name: 'Resolve' }));
    await reports
      .filter({ hasText: 'second thing' })
      .waitFor({ state: 'detached', timeout: SHOW_TIMEOUT_MS });
    await expect.poll(() => focused(mona)).toBe('Resolve');
    await expect.poll(() => focusedItem(mona)).toContain('first thing');
    // The last one: the focus goes to the heading of the list, now empty.
    await mona.page.keyboard.press('Enter');
    await panel.getByText('No open reports.').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect.poll(() => focused(mona)).toBe('Open reports');

    await mona.page.keyboard.press('Escape');
    await panel.waitFor({ state: 'detached', timeout: SHOW_TIMEOUT_MS });
    await expect.poll(() => focused(mona)).toBe('moderate');
    // Close does the same.
    await mona.page.keyboard.press('Enter');
    await pressOn(mona, panel.getByRole('button', { name: 'Close' }));
    await panel.waitFor({ state: 'detached', timeout: SHOW_TIMEOUT_MS });
    await expect.poll(() => focused(mona)).toBe('moderate');
    for (const person of [mona, bob])
      expect(problemsOf(person)).toEqual({ name: person.name, errors: [], dialogs: [], csp: [] });
  });

  it('asks before signing out with a message not sent, the focus on Keep; Escape keeps it', async () => {
    const cy = await chat.open('cy', { query: '' });
    await signInOnPage(cy, 'Cy');
    await cy.context.setOffline(true);
    await composer(cy).fill('still on its way');
    await composer(cy).press('Enter');
    await cy.page.locator('.messages .msg.pending', { hasText: 'still on its way' }).waitFor();
    const signOut = cy.page.getByTestId('sign-out');
    await pressOn(cy, signOut);
    const ask = cy.page.getByTestId('sign-out-ask');
    await ask.waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect.poll(() => focused(cy)).toBe('Keep it');
    await cy.page.keyboard.press('Escape');
    await ask.waitFor({ state: 'detached', timeout: SHOW_TIMEOUT_MS });
    await expect.poll(() => focused(cy)).toBe('sign-out');
    // Nothing was discarded: back online, the message leaves.
    await cy.context.setOffline(false);
    await delivered(cy, 'still on its way').waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(problemsOf(cy)).toEqual({ name: 'cy', errors: [], dialogs: [], csp: [] });
  });
});
