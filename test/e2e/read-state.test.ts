/**
 * Read state in Chromium against the whole local stack: ann has the chat open twice (a desktop window over
 * SignalR and a 390 px phone over Web PubSub), bob writes to her privately. Her unread counts are the same in
 * both, clear in both when she reads in one, and are the server's after a reload, whose "new messages" line
 * sits at her last-read position; bob sees "Seen" under his last message she read. Screenshots go to
 * test-results/e2e/. Every wait is for something the page shows.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserStack,
  conversationButton,
  delivered,
  horizontalOverflow,
  type Person,
  problemsOf,
  SCREENSHOTS,
  SHOW_TIMEOUT_MS,
  send,
  showSidebar,
  sidebarButton,
  startBrowserStack,
  waitConnected,
} from '../support/browser.js';

let chat: BrowserStack;
let bob: Person;
let annDesk: Person;
let annPhone: Person;

async function screenshot(person: Person, what: string): Promise<void> {
  const file = `read-state-${what}-${person.name}-${person.phone ? 'phone' : 'desktop'}.png`;
  await person.page.screenshot({ path: join(SCREENSHOTS, file), animations: 'disabled' });
}

/** The unread badge of the private conversation with bob, once it says `count`. */
async function unreadWithBob(person: Person, count: number): Promise<void> {
  await showSidebar(person);
  const badge = conversationButton(person, /^bob/).locator(`.badge[aria-label="${count} unread"]`);
  await badge.waitFor({ timeout: SHOW_TIMEOUT_MS });
  await expect(badge.textContent()).resolves.toBe(String(count));
}

/** Waits until the private conversation with bob shows no unread badge. */
async function noUnreadWithBob(person: Person): Promise<void> {
  await showSidebar(person);
  await conversationButton(person, /^bob/)
    .locator('.badge:not(.mention-badge)')
    .waitFor({ state: 'detached', timeout: SHOW_TIMEOUT_MS });
}

async function openWithBob(person: Person): Promise<void> {
  await showSidebar(person);
  await conversationButton(person, /^bob/).click();
  await person.page.locator('#conversation-title', { hasText: 'bob' }).waitFor({ timeout: SHOW_TIMEOUT_MS });
}

async function openRoom(person: Person): Promise<void> {
  await showSidebar(person);
  await conversationButton(person, /^room/i).click();
}

beforeAll(async () => {
  chat = await startBrowserStack({ webPubSub: true });
});

afterAll(async () => {
  await chat?.stop();
});

describe('read state in Chromium', () => {
  it('counts the same unread in two windows, and clears both when one reads', async () => {
    annDesk = await chat.open('ann');
    annPhone = await chat.open('ann', { phone: true, query: '?name=ann&service=webpubsub' });
    bob = await chat.open('bob');
    await Promise.all([waitConnected(annDesk), waitConnected(annPhone), waitConnected(bob)]);
    await sidebarButton(bob, /^ann/).first().click();
    await bob.page.locator('#conversation-title', { hasText: 'ann' }).waitFor({ timeout: SHOW_TIMEOUT_MS });
    for (const text of ['one', 'two', 'three']) await send(bob, text);

    await unreadWithBob(annDesk, 3);
    await unreadWithBob(annPhone, 3);
    await screenshot(annPhone, 'unread');

    await openWithBob(annDesk);
    await delivered(annDesk, 'three').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await noUnreadWithBob(annPhone);
    await screenshot(annDesk, 'read');
  });

  it('shows bob "Seen" under his last message ann read', async () => {
    const three = bob.page.locator('.messages .msg.mine', {
      has: bob.page.locator('.bubble', { hasText: 'three' }),
    });
    await three.locator('[data-testid="seen"]').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect(bob.page.locator('[data-testid="seen"]').count()).resolves.toBe(1);
    await screenshot(bob, 'seen');
  });

  it('keeps the counts and the new-messages line through a reload', async () => {
    await openRoom(annDesk);
    for (const text of ['four', 'five']) await send(bob, text);
    await unreadWithBob(annDesk, 2);
    await unreadWithBob(annPhone, 2);

    await annPhone.page.reload();
    await waitConnected(annPhone);
    await unreadWithBob(annPhone, 2);
    await openWithBob(annPhone);
    await delivered(annPhone, 'five').waitFor({ timeout: SHOW_TIMEOUT_MS });
    // The line sits at the server's last-read position: right before the first message after "three".
    const line = annPhone.page.locator('[data-testid="unread-line"]');
    await line.waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect(
      line.evaluate((li) => li.nextElementSibling?.querySelector('.bubble')?.textContent?.trim()),
    ).resolves.toBe('four');
    await screenshot(annPhone, 'reloaded');
    // Read on the phone: the desktop window clears, and "Seen" moves under "five".
    await noUnreadWithBob(annDesk);
    const five = bob.page.locator('.messages .msg.mine', {
      has: bob.page.locator('.bubble', { hasText: 'five' }),
    });
    await five.locator('[data-testid="seen"]').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect(horizontalOverflow(annPhone)).resolves.toBe(0);
  });

  it('had nothing go wrong in any page', () => {
    for (const person of chat.people) {
      expect(problemsOf(person)).toEqual({ name: person.name, errors: [], dialogs: [], csp: [] });
    }
  });
});
