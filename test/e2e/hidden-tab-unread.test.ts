/**
 * A hidden tab reads nothing, in Chromium against the whole local stack: messages that arrive in the
 * conversation it has open count as unread (in the window title as in another browser of the same person that
 * shows another conversation), a mention there marks it "@", and once the tab is shown again they are read, in
 * both browsers, with the "New messages" line before the first of them. The tab's visibility is emulated by
 * overriding `document.visibilityState` before the page loads, as test/e2e/notify.test.ts does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserStack,
  conversationButton,
  delivered,
  type Person,
  problemsOf,
  SHOW_TIMEOUT_MS,
  startBrowserStack,
  waitConnected,
} from '../support/browser.js';
import { type ChatClient, connectChat, isMessage } from '../support/chat-clients.js';

/** Runs before the page's scripts: the tab is hidden while `window.__hidden` is true. */
const SWITCHABLE_VISIBILITY = `
  window.__hidden = false;
  Object.defineProperty(Document.prototype, 'visibilityState', {
    configurable: true,
    get: () => (window.__hidden ? 'hidden' : 'visible'),
  });
  Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => window.__hidden });
`;

/** Hides or shows the tab, as the browser does when another tab is chosen or this one again. */
const setHidden = (person: Person, hidden: boolean) =>
  person.page.evaluate((h) => {
    (window as unknown as { __hidden: boolean }).__hidden = h;
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);

/** The texts of the room's messages and its "New messages" line, in the order shown. */
const shownInOrder = (person: Person) =>
  person.page.evaluate(() =>
    Array.from(document.querySelectorAll('[data-testid="unread-line"], .messages .msg .bubble')).map((el) =>
      el.matches('[data-testid="unread-line"]') ? '— new —' : (el.textContent?.trim() ?? ''),
    ),
  );

let chat: BrowserStack;
let ann: Person;
let annElsewhere: Person;
let bob: ChatClient;

beforeAll(async () => {
  chat = await startBrowserStack();
  ann = await chat.open('ann', {
    beforeLoad: async (person) => {
      await person.page.addInitScript(SWITCHABLE_VISIBILITY);
    },
  });
  // Ann in another browser, in her private conversation with bob: the room is not open there.
  annElsewhere = await chat.open('ann', { query: '?name=ann#dm:ann:bob' });
  await Promise.all([ann, annElsewhere].map((p) => waitConnected(p)));
  bob = await connectChat(chat.stack.functionsUrl, 'bob', 'signalr');
});

afterAll(async () => {
  await bob?.close();
  await chat?.stop();
});

describe('a hidden tab', () => {
  it('counts what arrives in its open conversation as unread, with "@" for a mention, until it is seen', async () => {
    await bob.send('sendMessage', { text: 'before you left' });
    await delivered(ann, 'before you left').waitFor({ timeout: SHOW_TIMEOUT_MS });
    // Read where the room is open and shown; the other browser hears it.
    await expect.poll(() => annElsewhere.page.title(), { timeout: SHOW_TIMEOUT_MS }).toBe('Chat · ann');

    await setHidden(ann, true);
    await bob.send('sendMessage', { text: 'while away 1' });
    await bob.send('sendMessage', { text: 'while away 2, @ann look' });
    await bob.send('sendMessage', { text: 'while away 3' });
    await bob.waitFor(isMessage('while away 3'));
    await delivered(ann, 'while away 3').waitFor({ timeout: SHOW_TIMEOUT_MS });
    for (const person of [annElsewhere, ann])
      await expect.poll(() => person.page.title(), { timeout: SHOW_TIMEOUT_MS }).toBe('(3) Chat · ann');
    const room = conversationButton(ann, /^Room/);
    await room.getByTestId('mention-badge').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect(room.getAttribute('class')).resolves.toContain('has-unread');

    // Shown again: read here and in the other browser, the line before what came meanwhile.
    await setHidden(ann, false);
    for (const person of [ann, annElsewhere])
      await expect.poll(() => person.page.title(), { timeout: SHOW_TIMEOUT_MS }).toBe('Chat · ann');
    await room.getByTestId('mention-badge').waitFor({ state: 'detached', timeout: SHOW_TIMEOUT_MS });
    const shown = await shownInOrder(ann);
    expect(shown.slice(shown.indexOf('before you left'))).toEqual([
      'before you left',
      '— new —',
      'while away 1',
      'while away 2, @ann look',
      'while away 3',
    ]);
    for (const person of [ann, annElsewhere])
      expect(problemsOf(person)).toEqual({ name: 'ann', errors: [], dialogs: [], csp: [] });
  });
});
