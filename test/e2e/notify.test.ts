/**
 * Mentions, typing indicators and notifications in Debian's Chromium against the whole local stack: bob's
 * typing shows on ann's page and stops when his message arrives; `@` completes names from the keyboard; a
 * mention of ann is highlighted and counted apart; cat's tab is hidden (its `document.visibilityState` is
 * overridden before the page loads), chats over Web PubSub and gets a browser notification for a mention and a private message, with
 * no message text once the conversation is muted. Notifications are recorded by wrapping the page's
 * `Notification` constructor (headless Chromium shows none a test could observe).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserStack,
  composer,
  delivered,
  type Person,
  problemsOf,
  SHOW_TIMEOUT_MS,
  send,
  sidebarButton,
  startBrowserStack,
  waitConnected,
} from '../support/browser.js';

/** Runs in cat's page before its scripts: a hidden tab, and every notification recorded. */
const HIDDEN_TAB_WITH_RECORDED_NOTIFICATIONS = `
  Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get: () => 'hidden' });
  Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => true });
  window.__notifications = [];
  window.__permissionRequests = 0;
  const Real = window.Notification;
  class Recorded extends Real {
    constructor(title, options) {
      super(title, options);
      window.__notifications.push({ title, body: (options && options.body) || '', shown: this });
    }
    static get permission() { return Real.permission; }
    static requestPermission() {
      window.__permissionRequests += 1;
      return Real.requestPermission();
    }
  }
  window.Notification = Recorded;
`;

interface Shown {
  title: string;
  body: string;
}

let chat: BrowserStack;
let ann: Person;
let bob: Person;
let cat: Person;

const notifications = (person: Person) =>
  person.page.evaluate(() =>
    (window as unknown as { __notifications: Shown[] }).__notifications.map(({ title, body }) => ({
      title,
      body,
    })),
  );

async function waitForNotifications(person: Person, count: number): Promise<Shown[]> {
  await person.page.waitForFunction(
    (n) => (window as unknown as { __notifications: unknown[] }).__notifications.length >= n,
    count,
    { timeout: SHOW_TIMEOUT_MS },
  );
  return notifications(person);
}

const typingLine = (person: Person) => person.page.getByTestId('typing');

beforeAll(async () => {
  chat = await startBrowserStack({ webPubSub: true });
  ann = await chat.open('ann');
  bob = await chat.open('bob');
  // Cat chats over Web PubSub: typing, mentions and private messages reach it through that service too.
  cat = await chat.open('cat', {
    query: '?name=cat&service=webpubsub',
    beforeLoad: async (person) => {
      await person.page.addInitScript(HIDDEN_TAB_WITH_RECORDED_NOTIFICATIONS);
    },
  });
  await Promise.all([ann, bob, cat].map((p) => waitConnected(p)));
  // Everyone sees everyone online (the completion offers the online people).
  await sidebarButton(bob, /cat/).waitFor({ timeout: SHOW_TIMEOUT_MS });
  await sidebarButton(bob, /^ann Message privately/).waitFor({ timeout: SHOW_TIMEOUT_MS });
});

afterAll(async () => {
  await chat?.stop();
});

describe('typing indicators', () => {
  it('shows "bob is typing…" to ann while bob types, never to bob, and clears it when his message arrives', async () => {
    await composer(bob).fill('Hello th');
    await expect
      .poll(() => typingLine(ann).textContent(), { timeout: SHOW_TIMEOUT_MS })
      .toBe('bob is typing…');
    await expect(typingLine(bob).textContent()).resolves.toBe('');
    await composer(bob).fill('Hello there');
    await composer(bob).press('Enter');
    await delivered(ann, 'Hello there').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect.poll(() => typingLine(ann).textContent(), { timeout: SHOW_TIMEOUT_MS }).toBe('');
  });
});

describe('mentions', () => {
  it('completes @names from the keyboard in a listbox', async () => {
    const box = composer(bob);
    await box.fill('');
    await box.pressSequentially('@a');
    const options = bob.page.getByRole('listbox', { name: 'People to mention' }).getByRole('option');
    // "ann" starts with "a"; "cat" contains it.
    await expect.poll(() => options.allTextContents()).toEqual(['ann', 'cat']);
    // A text box may not be a combobox: the open list is spoken from a live region, the option it highlights
    // through aria-activedescendant.
    const spoken = bob.page.getByTestId('mention-status');
    await expect(spoken.textContent()).resolves.toContain('2 people to mention: ann.');
    await expect(options.nth(0).getAttribute('aria-selected')).resolves.toBe('true');
    await box.press('ArrowDown');
    await expect(options.nth(1).getAttribute('aria-selected')).resolves.toBe('true');
    await expect(box.getAttribute('aria-activedescendant')).resolves.toBe('mention-option-1');
    await expect(spoken.textContent()).resolves.toContain('2 people to mention: cat.');
    await box.press('ArrowUp');
    await box.press('Escape');
    await expect(box.getAttribute('aria-activedescendant')).resolves.toBeNull();
    await expect(spoken.textContent()).resolves.toBe('');
    await expect(box.inputValue()).resolves.toBe('@a');
    await box.pressSequentially('n');
    await box.press('Tab');
    await expect(box.inputValue()).resolves.toBe('@ann ');
    await box.fill('');
  });

  it('highlights a message that mentions ann and counts it apart in her sidebar', async () => {
    // Ann looks at a private conversation, so the room's messages are unread for her.
    await sidebarButton(ann, /bob/).first().click();
    await composer(bob).pressSequentially('@an');
    await composer(bob).press('Enter');
    await composer(bob).pressSequentially('look at this');
    await composer(bob).press('Enter');
    await delivered(bob, '@ann look at this').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await send(bob, 'and nobody in particular');
    const badge = sidebarButton(ann, /^Room/).getByTestId('mention-badge');
    await badge.waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect(badge.getAttribute('aria-label')).resolves.toBe('1 mention of you');
    await sidebarButton(ann, /^Room/).click();
    const mentioned = ann.page.locator('.messages .msg.mentions-me');
    await mentioned.first().waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect(mentioned.allTextContents()).resolves.toHaveLength(1);
    await expect(mentioned.locator('.bubble span.mention.mention-me').textContent()).resolves.toBe('@ann');
    await expect(badge.count()).resolves.toBe(0);
  });

  it('keeps a mention in code as code, and a typed span as text', async () => {
    await composer(bob).fill('in code `@ann` and <span class="mention mention-me">fake</span>');
    await composer(bob).press('Enter');
    const bubble = delivered(ann, 'in code');
    await bubble.waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect(bubble.locator('code').textContent()).resolves.toBe('@ann');
    await expect(bubble.locator('span').count()).resolves.toBe(0);
    await expect(bubble.textContent()).resolves.toContain('<span class="mention mention-me">fake</span>');
    // A mention in code is not one: the message is not highlighted.
    await expect(
      ann.page.locator('.messages .msg.mentions-me', { hasText: 'in code' }).count(),
    ).resolves.toBe(0);
  });
});

describe('notifications', () => {
  it('asks permission only when the button is pressed, not on load', async () => {
    const asked = () =>
      cat.page.evaluate(() => (window as unknown as { __permissionRequests: number }).__permissionRequests);
    await expect(asked()).resolves.toBe(0);
    await cat.context.grantPermissions(['notifications']);
    await cat.page.getByTestId('enable-notifications').click();
    await expect(asked()).resolves.toBe(1);
    await cat.page
      .getByTestId('enable-notifications')
      .waitFor({ state: 'detached', timeout: SHOW_TIMEOUT_MS });
  });

  it('notifies a hidden tab of a mention and of a private message, and a click opens the conversation', async () => {
    await send(bob, '@cat are you around?');
    const [mention] = await waitForNotifications(cat, 1);
    expect(mention).toEqual({ title: 'bob mentioned you in the room', body: '@cat are you around?' });
    // A room message that mentions nobody raises none; the private one that follows does.
    await send(bob, 'just chatting');
    await sidebarButton(bob, /cat/).first().click();
    // Its body reads as the message does, without the Markdown's marks.
    await composer(bob).fill('a **private** word');
    await composer(bob).press('Enter');
    await delivered(bob, 'a private word').waitFor({ timeout: SHOW_TIMEOUT_MS });
    const shown = await waitForNotifications(cat, 2);
    expect(shown).toEqual([mention, { title: 'bob (private message)', body: 'a private word' }]);
    await cat.page.evaluate(() => {
      const list = (window as unknown as { __notifications: { shown: Notification }[] }).__notifications;
      list[1]?.shown.onclick?.(new Event('click'));
    });
    await expect
      .poll(() => cat.page.locator('#conversation-title').textContent(), { timeout: SHOW_TIMEOUT_MS })
      .toContain('bob');
    // Bob keeps typing (a typing leaves at most every 3 s) until cat, in their conversation now, sees it.
    await expect
      .poll(
        async () => {
          await composer(bob).fill(`still typing ${Math.random()}`);
          return typingLine(cat).textContent();
        },
        { timeout: SHOW_TIMEOUT_MS, interval: 500 },
      )
      .toBe('bob is typing…');
    await composer(bob).fill('');
  });

  it('never shows the text of a muted conversation', async () => {
    // Cat has the private conversation with bob open: mute it, then mute the room too.
    await cat.page.getByTestId('mute').click();
    await expect(cat.page.getByTestId('mute').getAttribute('aria-pressed')).resolves.toBe('true');
    await send(bob, 'muted private words');
    await sidebarButton(cat, /^Room/).click();
    await cat.page.getByTestId('mute').click();
    await sidebarButton(bob, /^Room/).click();
    await send(bob, '@cat muted room words');
    const shown = await waitForNotifications(cat, 3);
    // The muted private message raised none; the mention in the muted room raised one without its text.
    expect(shown.slice(2)).toEqual([{ title: 'bob mentioned you in the room', body: '' }]);
    expect(JSON.stringify(await notifications(cat))).not.toContain('muted');
    // The mute is kept for the next visit.
    await expect(
      cat.page.evaluate(() => JSON.parse(localStorage.getItem('chat.muted.cat') ?? '[]')),
    ).resolves.toEqual(['dm:bob:cat', 'room']);
  });

  it('left nothing wrong in any page', () => {
    for (const person of [ann, bob, cat])
      expect(problemsOf(person)).toMatchObject({ errors: [], dialogs: [], csp: [] });
  });
});
