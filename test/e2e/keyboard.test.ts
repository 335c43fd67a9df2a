/**
 * The message list with a keyboard, in Chromium against the whole local stack: the list is one stop of the Tab
 * key however many messages it holds (a roving focus, after the WAI-ARIA feed pattern), arrows, Home and End move
 * between messages, Tab goes through the focused message's actions and then leaves the list, Escape goes back to
 * the message, "Reply" works from there, and moving up past the oldest message loaded loads older ones.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserStack,
  composer,
  delivered,
  type Person,
  problemsOf,
  SHOW_TIMEOUT_MS,
  startBrowserStack,
  waitConnected,
} from '../support/browser.js';
import { type ChatClient, connectChat, isMessage } from '../support/chat-clients.js';

/** The messages in the list when the Tab stops are counted again. */
const MESSAGES = 30;
/** Messages in all once more are sent: more than one history page (50), so a reload shows only the newest. */
const ALL_MESSAGES = 61;

let chat: BrowserStack;
let ann: Person;
let bob: ChatClient;

/** What has the focus: a message's text, a button's name, or where it is. */
const focused = (person: Person) =>
  person.page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return 'nothing';
    if (el.matches('.messages .msg')) return `message: ${el.querySelector('.bubble')?.textContent?.trim()}`;
    const where = el.closest('#sidebar') ? 'sidebar' : el.closest('.messages') ? 'list' : 'page';
    const name =
      el.getAttribute('aria-label') ||
      el.getAttribute('title') ||
      el.textContent?.trim() ||
      el.id ||
      el.tagName;
    return `${where}: ${name}`;
  });

/** The stops Shift+Tab makes from the message box until the sidebar is reached. */
async function stopsBackToSidebar(person: Person): Promise<string[]> {
  await composer(person).focus();
  const stops: string[] = [];
  for (let i = 0; i < 300; i += 1) {
    await person.page.keyboard.press('Shift+Tab');
    const stop = await focused(person);
    if (stop.startsWith('sidebar:')) return stops;
    stops.push(stop);
  }
  throw new Error(`the sidebar was not reached: ${stops.join(' | ')}`);
}

/** Bob sends messages "news <from>" … "news <to>", and Ann sees the last one. */
async function bobSends(from: number, to: number): Promise<void> {
  for (let i = from; i <= to; i += 1) await bob.send('sendMessage', { text: `news ${i}` });
  await bob.waitFor(isMessage(`news ${to}`));
  await delivered(ann, `news ${to}`).waitFor({ timeout: SHOW_TIMEOUT_MS });
}

beforeAll(async () => {
  // bob sends many messages at once: the command limit is raised for him.
  chat = await startBrowserStack({ env: { CHAT_COMMAND_BURST: '300' } });
  ann = await chat.open('ann');
  await waitConnected(ann);
  bob = await connectChat(chat.stack.functionsUrl, 'bob', 'signalr');
});

afterAll(async () => {
  await bob?.close();
  await chat?.stop();
});

describe('the message list with a keyboard', () => {
  it('is one stop of Shift+Tab from the message box to the sidebar, with one message or 30', async () => {
    await bobSends(1, 1);
    const withOne = await stopsBackToSidebar(ann);
    expect(withOne).toContain('message: news 1');

    await bobSends(2, MESSAGES);
    const withThirty = await stopsBackToSidebar(ann);
    // One message is the list's stop, the one last focused; no message's buttons are on the way.
    expect(withThirty.filter((stop) => stop.startsWith('message:') || stop.startsWith('list:'))).toEqual([
      'message: news 1',
    ]);
    expect(withThirty).toEqual(withOne);
    expect(withThirty.length).toBeLessThan(10);
  });

  it('moves with the arrows, Home and End; Tab goes through one message’s actions, then leaves the list', async () => {
    await composer(ann).focus();
    await ann.page.keyboard.press('Shift+Tab');
    await expect.poll(() => focused(ann)).toBe('message: news 1');
    await ann.page.keyboard.press('End');
    await expect.poll(() => focused(ann)).toBe(`message: news ${MESSAGES}`);
    await ann.page.keyboard.press('ArrowUp');
    await expect.poll(() => focused(ann)).toBe(`message: news ${MESSAGES - 1}`);
    await ann.page.keyboard.press('Home');
    await expect.poll(() => focused(ann)).toBe('message: news 1');
    await ann.page.keyboard.press('ArrowDown');
    await expect.poll(() => focused(ann)).toBe('message: news 2');
    await ann.page.keyboard.press('End');
    await expect.poll(() => focused(ann)).toBe(`message: news ${MESSAGES}`);
    await ann.page.keyboard.press('ArrowUp');
    await ann.page.keyboard.press('ArrowUp');
    const target = `news ${MESSAGES - 2}`;
    await expect.poll(() => focused(ann)).toBe(`message: ${target}`);
    // The focused message shows its actions, as hover does.
    const item = ann.page.locator('.messages .msg', {
      has: ann.page.locator('.bubble', { hasText: target }),
    });
    await expect(item.locator('.msg-tools').evaluate((el) => getComputedStyle(el).opacity)).resolves.toBe(
      '1',
    );

    // Tab: that message's actions, then out of the list; Shift+Tab comes back to the same message.
    const actions: string[] = [];
    for (let i = 0; i < 10; i += 1) {
      await ann.page.keyboard.press('Tab');
      const stop = await focused(ann);
      if (!stop.startsWith('list:')) break;
      actions.push(stop);
    }
    expect(actions).toEqual(['list: Add reaction', 'list: Reply']);
    await expect(ann.page.evaluate(() => document.activeElement?.id)).resolves.toBe('composer-input');
    await ann.page.keyboard.press('Shift+Tab');
    await expect.poll(() => focused(ann)).toBe(`message: ${target}`);

    // Escape from an action goes back to the message.
    await ann.page.keyboard.press('Tab');
    await expect.poll(() => focused(ann)).toBe('list: Add reaction');
    await ann.page.keyboard.press('Escape');
    await expect.poll(() => focused(ann)).toBe(`message: ${target}`);

    // Reply, reached with Tab, answers that message.
    await ann.page.keyboard.press('Tab');
    await ann.page.keyboard.press('Tab');
    await expect.poll(() => focused(ann)).toBe('list: Reply');
    await ann.page.keyboard.press('Enter');
    await ann.page.getByTestId('reply-draft').getByText(target).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect(ann.page.evaluate(() => document.activeElement?.id)).resolves.toBe('composer-input');
    await ann.page.keyboard.type('noted, thanks');
    await ann.page.keyboard.press('Enter');
    const reply = ann.page.locator('.messages .msg:not(.pending)', {
      has: ann.page.locator('.bubble', { hasText: 'noted, thanks' }),
    });
    await reply.locator('.reply-quote', { hasText: target }).waitFor({ timeout: SHOW_TIMEOUT_MS });
  });

  it('loads older messages when the focus moves up past the oldest loaded', async () => {
    await bobSends(MESSAGES + 1, ALL_MESSAGES);
    await ann.page.reload();
    await waitConnected(ann);
    await delivered(ann, `news ${ALL_MESSAGES}`).waitFor({ timeout: SHOW_TIMEOUT_MS });
    // One page of history: the oldest messages are not loaded.
    await expect(delivered(ann, /^news 1$/).count()).resolves.toBe(0);
    const oldest = await ann.page.locator('.messages .msg .bubble').first().textContent();
    const number = Number(oldest?.replace('news ', ''));
    expect(number).toBeGreaterThan(1);

    await composer(ann).focus();
    await ann.page.keyboard.press('Shift+Tab');
    await expect.poll(() => focused(ann)).toMatch(/^message: /);
    await ann.page.keyboard.press('Home');
    await expect.poll(() => focused(ann)).toBe(`message: news ${number}`);
    await ann.page.keyboard.press('ArrowUp');
    await expect.poll(() => focused(ann), { timeout: SHOW_TIMEOUT_MS }).toBe(`message: news ${number - 1}`);
    expect(problemsOf(ann)).toEqual({ name: 'ann', errors: [], dialogs: [], csp: [] });
  });
});
