/**
 * Message search in Chromium against the whole local stack with Web PubSub on: ann over SignalR on a desktop
 * viewport, bob over Azure Web PubSub on a 390 px phone. A plain client, cy, writes the message to find and then
 * enough to push it off the first history page: a click on the result loads the older page and highlights it.
 * The panel counts its results, dates them as the message list does, and closes when another conversation opens.
 * Screenshots go to test-results/e2e/. Every wait is for something the page shows.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_HISTORY_LIMIT } from '../../src/lib/conversation.js';
import {
  type BrowserStack,
  createGroup,
  delivered,
  horizontalOverflow,
  type Person,
  problemsOf,
  SCREENSHOTS,
  SHOW_TIMEOUT_MS,
  startBrowserStack,
  waitConnected,
} from '../support/browser.js';
import { type ChatClient, connectChat, isMessage } from '../support/chat-clients.js';

let chat: BrowserStack;
let ann: Person;
let bob: Person;
let cy: ChatClient;

const TARGET = 'Le Café de Zoë ouvre à 8h <b>demain</b>';

async function screenshot(person: Person, what: string): Promise<void> {
  const file = `search-${what}-${person.name}-${person.phone ? 'phone' : 'desktop'}.png`;
  await person.page.screenshot({ path: join(SCREENSHOTS, file), animations: 'disabled' });
}

/** Sends as cy, waiting out the command limit when a send is refused for it. */
async function sendPaced(text: string): Promise<void> {
  for (;;) {
    const mark = cy.events.length;
    await cy.send('sendMessage', { text, clientMessageId: `cy-${text}` });
    const answer = await cy.waitFor((e) => isMessage(text)(e) || e.type === 'error', mark);
    if (answer.type !== 'error') return;
    expect((answer.payload as { code: string }).code).toBe('rate-limited');
    await sleep((answer.payload as { retryAfterMs?: number }).retryAfterMs ?? 100);
  }
}

beforeAll(async () => {
  chat = await startBrowserStack({ webPubSub: true });
  cy = await connectChat(chat.stack.functionsUrl, 'cy', 'signalr');
  await sendPaced(TARGET);
  for (let i = 1; i <= DEFAULT_HISTORY_LIMIT + 5; i += 1) await sendPaced(`filler ${i}`);
});

afterAll(async () => {
  await cy?.close();
  await chat?.stop();
});

describe('message search in Chromium', () => {
  it.each([
    ['ann', false, '?name=ann'],
    ['bob', true, '?name=bob&service=webpubsub'],
  ])(
    'finds a message for %s, marks the words as text, and goes to it on a click',
    async (name, phone, query) => {
      const person = await chat.open(name, { phone, query });
      await waitConnected(person);
      await delivered(person, `filler ${DEFAULT_HISTORY_LIMIT + 5}`).waitFor({ timeout: SHOW_TIMEOUT_MS });
      // The message to find is not on the first page.
      await expect(delivered(person, 'Le Café de Zoë').count()).resolves.toBe(0);
      if (name === 'ann') ann = person;
      else bob = person;

      const { page } = person;
      await page.getByTestId('search-toggle').click();
      const field = page.getByTestId('search-input');
      await field.waitFor({ timeout: SHOW_TIMEOUT_MS });
      await expect(field.evaluate((el) => el === document.activeElement)).resolves.toBe(true);
      // One letter is refused on the page, before anything is sent.
      await field.fill('c');
      await field.press('Enter');
      await page.getByTestId('search-problem').waitFor({ timeout: SHOW_TIMEOUT_MS });

      await field.fill('cafe ZOE');
      await field.press('Enter');
      const result = page.getByTestId('search-result');
      await result.first().waitFor({ timeout: SHOW_TIMEOUT_MS });
      await expect(result.count()).resolves.toBe(1);
      // The words found are marked in the text as it was written; the HTML in it is text.
      await expect(result.locator('mark').allTextContents()).resolves.toEqual(['Café', 'Zoë']);
      await expect(result.locator('.search-result-text').textContent()).resolves.toBe(TARGET);
      await expect(result.locator('b').count()).resolves.toBe(0);
      await expect(result.textContent()).resolves.toContain('cy');
      await expect(page.getByTestId('search-count').textContent()).resolves.toBe('1 result');
      const found = await result.locator('time').textContent();
      await screenshot(person, 'results');
      if (phone) await expect(horizontalOverflow(person)).resolves.toBe(0);

      await result.click();
      const target = page.locator('.messages .msg.jump-target', { hasText: 'Le Café de Zoë' });
      await target.waitFor({ timeout: SHOW_TIMEOUT_MS });
      await expect(target.isVisible()).resolves.toBe(true);
      // Sent today: the result says the time only, as the message list does.
      await expect(target.locator('.msg-meta time').textContent()).resolves.toBe(found);
      await screenshot(person, 'jumped');

      // Escape closes the panel and gives the focus back to its button.
      await field.focus();
      await page.keyboard.press('Escape');
      await expect.poll(() => page.getByTestId('search-panel').count(), { timeout: SHOW_TIMEOUT_MS }).toBe(0);
      await expect(
        page.getByTestId('search-toggle').evaluate((el) => el === document.activeElement),
      ).resolves.toBe(true);
    },
  );

  it('says how many results there are, and closes when another conversation opens', async () => {
    const { page } = ann;
    await page.getByTestId('search-toggle').click();
    const field = page.getByTestId('search-input');
    await field.fill('filler');
    await field.press('Enter');
    const count = page.getByTestId('search-count');
    const fillers = DEFAULT_HISTORY_LIMIT + 5;
    // 20 an answer, newest first: more are left until the scan reaches the first message.
    for (const shown of [20, 40]) {
      await expect
        .poll(() => page.getByTestId('search-result').count(), { timeout: SHOW_TIMEOUT_MS })
        .toBe(shown);
      await expect(count.textContent()).resolves.toBe(`${shown}+ results, search older for more`);
      await page.getByTestId('search-older').click();
    }
    await expect.poll(() => count.textContent(), { timeout: SHOW_TIMEOUT_MS }).toBe(`${fillers} results`);
    await expect(page.getByTestId('search-result').count()).resolves.toBe(fillers);
    await screenshot(ann, 'count');

    // Another conversation: the search of the room closes, its query with it.
    await createGroup(ann, 'Elsewhere');
    await expect.poll(() => page.getByTestId('search-panel').count(), { timeout: SHOW_TIMEOUT_MS }).toBe(0);
    await expect(page.getByTestId('search-toggle').getAttribute('aria-expanded')).resolves.toBe('false');
    await page.getByTestId('search-toggle').click();
    await expect(field.inputValue()).resolves.toBe('');
    await expect(page.getByTestId('search-result').count()).resolves.toBe(0);
    await page.keyboard.press('Escape');
  });

  it('says when nothing matches, and left the pages without problems', async () => {
    const { page } = ann;
    await page.getByTestId('search-toggle').click();
    await page.getByTestId('search-input').fill('nowhere to be found');
    await page.getByTestId('search-input').press('Enter');
    await page.getByTestId('search-empty').waitFor({ timeout: SHOW_TIMEOUT_MS });
    for (const person of [ann, bob]) {
      expect(problemsOf(person)).toEqual({ name: person.name, errors: [], dialogs: [], csp: [] });
    }
  });
});
