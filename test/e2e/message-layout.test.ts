/**
 * The message list's layout in Chromium against the whole local stack, at 1280 and 390 px: a jump to a quoted
 * message scrolls the list alone, never the page (its top bar stays in view, nothing shows under the message
 * box). Screenshots go to test-results/e2e/layout-*.png.
 */
import { join } from 'node:path';
import type { Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserStack,
  delivered,
  type Person,
  problemsOf,
  SCREENSHOTS,
  SHOW_TIMEOUT_MS,
  startBrowserStack,
  waitConnected,
} from '../support/browser.js';
import { type ChatClient, connectChat, isMessage } from '../support/chat-clients.js';

const shot = (person: Person, what: string) =>
  person.page.screenshot({
    path: join(SCREENSHOTS, `layout-${what}-${person.phone ? 'phone' : 'desktop'}.png`),
    animations: 'disabled',
  });

/** The list item of a delivered message of the open conversation, by the text of its bubble. */
const messageItem = (person: Person, text: string): Locator =>
  person.page.locator('.messages .msg:not(.pending)', {
    has: person.page.locator('.bubble', { hasText: text }),
  });

/** Where the page stands: its own scroll, the top bar's top and how far the message box ends above the bottom. */
const pagePlace = (person: Person) =>
  person.page.evaluate(() => ({
    scrollY: window.scrollY,
    barTop: document.querySelector('.topbar')?.getBoundingClientRect().top,
    belowComposer: Math.round(
      window.innerHeight - (document.querySelector('.composer')?.getBoundingClientRect().bottom ?? 0),
    ),
  }));

describe('the message list without sign-in', () => {
  let chat: BrowserStack;
  let ann: Person;
  let dee: Person;
  let bob: ChatClient;

  beforeAll(async () => {
    chat = await startBrowserStack();
    ann = await chat.open('ann');
    dee = await chat.open('dee', { phone: true });
    await Promise.all([waitConnected(ann), waitConnected(dee)]);
    bob = await connectChat(chat.stack.functionsUrl, 'bob', 'signalr');
  });

  afterAll(async () => {
    await bob?.close();
    await chat?.stop();
  });

  it('jumps to a quoted message by scrolling the list alone: the top bar stays, nothing shows under the box', async () => {
    for (let i = 1; i <= 15; i += 1) await bob.send('sendMessage', { text: `filler ${i}` });
    await bob.send('sendMessage', { text: 'the message replied to' });
    const target = await bob.waitFor(isMessage('the message replied to'));
    await bob.send('sendMessage', { text: 'the reply to it', replyTo: target.payload.id });
    for (const person of [ann, dee]) {
      await delivered(person, 'the reply to it').waitFor({ timeout: SHOW_TIMEOUT_MS });
      await messageItem(person, 'the reply to it').locator('.reply-quote').click();
      // The message quoted is reached (focused and highlighted) near the end of the list, which cannot scroll
      // further down: the page must not scroll in its place.
      await messageItem(person, 'the message replied to')
        .and(person.page.locator('.jump-target'))
        .waitFor({ timeout: SHOW_TIMEOUT_MS });
      await expect
        .poll(() =>
          person.page.evaluate(() => document.activeElement?.querySelector('.bubble')?.textContent?.trim()),
        )
        .toBe('the message replied to');
      expect(await pagePlace(person)).toEqual({ scrollY: 0, barTop: 0, belowComposer: 0 });
      await shot(person, 'jump');
      expect(problemsOf(person)).toEqual({ name: person.name, errors: [], dialogs: [], csp: [] });
    }
  });
});
