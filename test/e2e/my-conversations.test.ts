/**
 * My conversations, writing to someone offline, and editing and deleting my messages, in Chromium against the
 * whole local stack with Web PubSub on (as `npm start` runs it): ann over SignalR on a desktop viewport, paz
 * over Azure Web PubSub on a 390 px phone, so each change crosses from one service to the other. Screenshots
 * of each step go to test-results/e2e/. Every wait is for something the page shows.
 */
import { join } from 'node:path';
import type { Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserStack,
  conversationButton,
  delivered,
  type Person,
  problemsOf,
  SCREENSHOTS,
  SHOW_TIMEOUT_MS,
  send,
  showActions,
  showSidebar,
  startBrowserStack,
  waitConnected,
} from '../support/browser.js';

let chat: BrowserStack;
let ann: Person;
let paz: Person;

async function screenshot(person: Person, what: string): Promise<void> {
  const file = `my-conversations-${what}-${person.name}-${person.phone ? 'phone' : 'desktop'}.png`;
  await person.page.screenshot({ path: join(SCREENSHOTS, file), animations: 'disabled' });
}

/** One of my delivered messages, as a list item (its actions live beside its bubble). */
function myMessage(person: Person, text: string): Locator {
  return person.page.locator('.messages .msg.mine:not(.pending)', {
    has: person.page.locator('.bubble', { hasText: text }),
  });
}

beforeAll(async () => {
  chat = await startBrowserStack({ webPubSub: true });
});

afterAll(async () => {
  await chat?.stop();
});

describe('my conversations and message actions in Chromium', () => {
  it('finds someone who is offline and writes to them', async () => {
    // Paz has used the chat once (over SignalR, whose close the service reports at once), then left.
    paz = await chat.open('paz', { phone: true });
    await waitConnected(paz);
    await paz.context.close();

    ann = await chat.open('ann');
    await waitConnected(ann);
    await ann.page.locator('#find-people-input').fill('Pa');
    await ann.page.locator('#find-people-input').press('Enter');
    const found = ann.page.getByRole('list', { name: 'People found' });
    await found.getByRole('button', { name: /Message paz privately/ }).click();
    await expect(ann.page.locator('#conversation-title').textContent()).resolves.toContain('paz');
    await ann.page.locator('.conversation-sub', { hasText: 'Offline' }).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await send(ann, 'See you at noon');
    await send(ann, 'wrong window, sorry');
    await screenshot(ann, 'wrote-offline');
  });

  it('keeps my private conversations after a reload', async () => {
    await ann.page.reload();
    await waitConnected(ann);
    await conversationButton(ann, /^paz/).click();
    await delivered(ann, 'See you at noon').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await screenshot(ann, 'reloaded');
  });

  it('edits and deletes my messages, and the marks survive a reload', async () => {
    const noon = myMessage(ann, 'See you at noon');
    await noon.hover();
    await noon.getByRole('button', { name: 'Edit' }).click();
    await ann.page.locator('.edit-form textarea').fill('See you at one');
    await ann.page.locator('.edit-form textarea').press('Enter');
    await delivered(ann, 'See you at one').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await myMessage(ann, 'See you at one').locator('.edited-mark').waitFor({ timeout: SHOW_TIMEOUT_MS });

    const wrong = myMessage(ann, 'wrong window, sorry');
    await wrong.hover();
    await wrong.getByRole('button', { name: 'Delete' }).click();
    await ann.page.getByText('Delete this message?').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await wrong.getByRole('button', { name: 'Delete' }).click();
    await ann.page
      .locator('.bubble.deleted', { hasText: 'Message deleted' })
      .waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect(delivered(ann, 'wrong window, sorry').count()).resolves.toBe(0);
    await screenshot(ann, 'edited-and-deleted');

    await ann.page.reload();
    await waitConnected(ann);
    await conversationButton(ann, /^paz/).click();
    await myMessage(ann, 'See you at one').locator('.edited-mark').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await ann.page.locator('.bubble.deleted').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect(delivered(ann, 'See you at noon').count()).resolves.toBe(0);
  });

  it('shows the waiting conversation to the person on arrival, with edits live', async () => {
    paz = await chat.open('paz', { phone: true, query: '?name=paz&service=webpubsub' });
    await waitConnected(paz);
    await paz.page.locator('[data-testid="service-tag"]').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await showSidebar(paz);
    await conversationButton(paz, /^ann/).click();
    await delivered(paz, 'See you at one').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await paz.page.locator('.bubble.deleted').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await screenshot(paz, 'arrived');

    // Live: ann edits again and deletes a new message while paz reads.
    await send(ann, 'bring snacks');
    await delivered(paz, 'bring snacks').waitFor({ timeout: SHOW_TIMEOUT_MS });
    const one = myMessage(ann, 'See you at one');
    await one.hover();
    await one.getByRole('button', { name: 'Edit' }).click();
    await ann.page.locator('.edit-form textarea').fill('See you at two');
    await ann.page.getByRole('button', { name: 'Save' }).click();
    await delivered(paz, 'See you at two').waitFor({ timeout: SHOW_TIMEOUT_MS });
    const snacks = myMessage(ann, 'bring snacks');
    await snacks.hover();
    await snacks.getByRole('button', { name: 'Delete' }).click();
    await snacks.getByRole('button', { name: 'Delete' }).click();
    await expect
      .poll(() => paz.page.locator('.bubble.deleted').count(), { timeout: SHOW_TIMEOUT_MS })
      .toBe(2);
    await expect(delivered(paz, 'bring snacks').count()).resolves.toBe(0);

    // On the phone, paz edits a message of their own (its actions show once it is tapped).
    await send(paz, 'on my way');
    const mine = myMessage(paz, 'on my way');
    await showActions(paz, mine);
    await mine.getByRole('button', { name: 'Edit' }).click();
    await paz.page.locator('.edit-form textarea').fill('on my way, 5 min');
    await paz.page.getByRole('button', { name: 'Save' }).click();
    await delivered(ann, 'on my way, 5 min').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await send(paz, 'typo msg');
    const typo = myMessage(paz, 'typo msg');
    await showActions(paz, typo);
    await typo.getByRole('button', { name: 'Delete' }).click();
    await typo.getByRole('button', { name: 'Delete' }).click();
    await expect
      .poll(() => ann.page.locator('.bubble.deleted').count(), { timeout: SHOW_TIMEOUT_MS })
      .toBe(3);
    await screenshot(paz, 'live-edits');
    await screenshot(ann, 'live-edits');
  });

  it('keeps the conversation, its edits and its deletes on the phone after a reload', async () => {
    await paz.page.reload();
    await waitConnected(paz);
    await showSidebar(paz);
    await conversationButton(paz, /^ann/).click();
    await myMessage(paz, 'on my way, 5 min').locator('.edited-mark').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await delivered(paz, 'See you at two').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect
      .poll(() => paz.page.locator('.bubble.deleted').count(), { timeout: SHOW_TIMEOUT_MS })
      .toBe(3);
    await screenshot(paz, 'reloaded');
  });

  it('ran without page errors, dialogs or Content-Security-Policy violations', () => {
    for (const person of chat.people) {
      expect(problemsOf(person)).toEqual({ name: person.name, errors: [], dialogs: [], csp: [] });
    }
  });
});
