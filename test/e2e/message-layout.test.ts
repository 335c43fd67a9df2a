/**
 * The message list's layout in Chromium against the whole local stack, at 1280 and 390 px: a jump to a quoted
 * message scrolls the list alone, never the page (its top bar stays in view, nothing shows under the message
 * box); a message's actions take no room in the list, show on one line beside the bubble on hover or with the
 * keyboard's focus (Tab goes through them) and under the message tapped on a phone; the reaction picker leaves
 * its bubble readable; Edit is offered only where there is text (a file with a text keeps its file); with
 * sign-in "More actions" opens Report (and a moderator's actions) by keyboard and by touch, and "Reported" shows
 * under the message reported and is said by a status line. Screenshots go to test-results/e2e/layout-*.png.
 */
import { join } from 'node:path';
import type { Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserStack,
  composer,
  delivered,
  horizontalOverflow,
  type Person,
  problemsOf,
  SCREENSHOTS,
  SHOW_TIMEOUT_MS,
  send,
  showActions,
  signInOnPage,
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

/** What has the focus: a message (its text), a control of the list (its name), or what else (its id). */
const focused = (person: Person) =>
  person.page.evaluate(() => {
    const el = document.activeElement;
    if (!el) return 'nothing';
    if (el.matches('.messages .msg')) return `message: ${el.querySelector('.bubble')?.textContent?.trim()}`;
    if (el.closest('.messages')) return `list: ${el.getAttribute('aria-label') || el.textContent?.trim()}`;
    return el.id || el.tagName;
  });

/** Where a message's parts are on the screen (null for a part it does not show), and the window's width. */
const placeOf = (item: Locator) =>
  item.evaluate((article) => {
    const box = (selector: string | null) => {
      const el = selector === null ? article : article.querySelector(selector);
      if (!el?.checkVisibility({ opacityProperty: true })) return null;
      const { top, bottom, left, right } = el.getBoundingClientRect();
      return { top, bottom, left, right };
    };
    const tops = Array.from(article.querySelectorAll('.msg-tools button')).map(
      (b) => b.getBoundingClientRect().top,
    );
    return {
      article: box(null),
      bubble: box('.bubble'),
      tools: box('.msg-tools'),
      toolRows: new Set(tops.map(Math.round)).size,
      width: window.innerWidth,
    };
  });

/** The names of the actions Tab goes through from the focused message, until the focus leaves the list. */
async function tabThroughActions(person: Person): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < 12; i += 1) {
    await person.page.keyboard.press('Tab');
    const stop = await focused(person);
    if (!stop.startsWith('list: ')) return names;
    names.push(stop.slice('list: '.length));
  }
  throw new Error(`the focus did not leave the list: ${names.join(' | ')}`);
}

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

  it('keeps the actions out of the list until hovered or focused, then shows them beside the bubble on one line', async () => {
    await send(ann, 'mine to act on');
    await bob.send('sendMessage', { text: 'theirs to act on' });
    await delivered(ann, 'theirs to act on').waitFor({ timeout: SHOW_TIMEOUT_MS });
    const mine = messageItem(ann, 'mine to act on');
    const theirs = messageItem(ann, 'theirs to act on');
    await ann.page.locator('#conversation-title').hover();
    for (const item of [mine, theirs]) {
      const place = await placeOf(item);
      // Nothing under the bubble: the hidden actions leave no gap.
      expect(place.tools).toBeNull();
      expect(Math.abs((place.article?.bottom ?? 0) - (place.bubble?.bottom ?? 0))).toBeLessThan(1);
    }
    // Hovered: one row beside the bubble, never over it; mine on its left, another's on its right.
    await showActions(ann, theirs);
    const shown = await placeOf(theirs);
    expect(shown.toolRows).toBe(1);
    expect(shown.tools?.left).toBeGreaterThanOrEqual(shown.bubble?.right ?? Number.POSITIVE_INFINITY);
    expect(shown.tools?.right).toBeLessThanOrEqual(shown.width);
    await shot(ann, 'actions-hover');
    await showActions(ann, mine);
    const mineShown = await placeOf(mine);
    expect(mineShown.toolRows).toBe(1);
    expect(mineShown.tools?.right).toBeLessThanOrEqual(mineShown.bubble?.left ?? 0);
    await ann.page.locator('#conversation-title').hover();

    // With the keyboard: the message reached with the arrows shows them, and Tab goes through them by name.
    await composer(ann).focus();
    await ann.page.keyboard.press('Shift+Tab');
    await ann.page.keyboard.press('End');
    await expect.poll(() => focused(ann)).toBe('message: theirs to act on');
    expect(await tabThroughActions(ann)).toEqual(['Add reaction', 'Reply']);
    await ann.page.keyboard.press('Shift+Tab');
    await ann.page.keyboard.press('ArrowUp');
    await expect.poll(() => focused(ann)).toBe('message: mine to act on');
    expect((await placeOf(mine)).tools).not.toBeNull();
    expect(await tabThroughActions(ann)).toEqual(['Add reaction', 'Reply', 'Edit', 'Delete']);
    // Back to the message; Delete asks first, on the answer that changes nothing.
    await ann.page.keyboard.press('Shift+Tab');
    await expect.poll(() => focused(ann)).toBe('message: mine to act on');
    for (let i = 0; i < 4; i += 1) await ann.page.keyboard.press('Tab');
    await expect.poll(() => focused(ann)).toBe('list: Delete');
    await ann.page.keyboard.press('Enter');
    await expect.poll(() => focused(ann)).toBe('list: Keep');
    await ann.page.keyboard.press('Enter');
    await expect.poll(() => focused(ann)).toBe('message: mine to act on');
    expect(problemsOf(ann)).toEqual({ name: 'ann', errors: [], dialogs: [], csp: [] });
  });

  it('shows the actions of the message tapped on a phone, under it, on one line, and only those', async () => {
    const theirs = messageItem(dee, 'theirs to act on');
    await theirs.waitFor({ timeout: SHOW_TIMEOUT_MS });
    // A tap outside the list: no message is chosen, none shows its actions.
    await dee.page.locator('#conversation-title').tap();
    await expect(dee.page.locator('.msg-tools:visible').count()).resolves.toBe(0);
    const before = await placeOf(theirs);
    expect(Math.abs((before.article?.bottom ?? 0) - (before.bubble?.bottom ?? 0))).toBeLessThan(1);

    await showActions(dee, theirs);
    await expect.poll(() => placeOf(theirs).then((p) => p.tools !== null)).toBe(true);
    const shown = await placeOf(theirs);
    expect(shown.toolRows).toBe(1);
    expect(shown.tools?.top).toBeGreaterThanOrEqual(shown.bubble?.bottom ?? Number.POSITIVE_INFINITY);
    expect(shown.tools?.right).toBeLessThanOrEqual(shown.width);
    await expect(dee.page.locator('.msg-tools:visible').count()).resolves.toBe(1);
    expect(await horizontalOverflow(dee)).toBe(0);
    await shot(dee, 'actions-tapped');
    await theirs.getByRole('button', { name: 'Reply' }).tap();
    await dee.page
      .getByTestId('reply-draft')
      .getByText('theirs to act on')
      .waitFor({ timeout: SHOW_TIMEOUT_MS });
    await composer(dee).press('Escape');

    // My own message, tapped: Edit and Delete too; another message tapped takes them away from it.
    await send(dee, 'from the phone');
    const mine = messageItem(dee, 'from the phone');
    await showActions(dee, mine);
    await mine.getByRole('button', { name: 'Edit' }).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await showActions(dee, theirs);
    await expect.poll(() => placeOf(mine).then((p) => p.tools)).toBeNull();
    await showActions(dee, mine);
    await mine.getByRole('button', { name: 'Delete' }).tap();
    await mine
      .getByRole('group', { name: 'Delete this message?' })
      .getByRole('button', { name: 'Delete' })
      .tap();
    await dee.page.locator('.messages .bubble.deleted').waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(problemsOf(dee)).toEqual({ name: 'dee', errors: [], dialogs: [], csp: [] });
  });

  it('opens the reaction picker away from the bubble, which stays readable, inside the screen', async () => {
    await send(ann, 'pick for me');
    for (const person of [ann, dee]) {
      for (const text of ['theirs to act on', 'pick for me']) {
        const item = messageItem(person, text);
        await showActions(person, item);
        await item.getByRole('button', { name: 'Add reaction' }).click();
        const picker = item.getByRole('group', { name: 'Choose a reaction' });
        await picker.getByRole('button', { name: 'thumbs up' }).waitFor({ timeout: SHOW_TIMEOUT_MS });
        const bubble = await item.locator('.bubble').boundingBox();
        const shown = await picker.boundingBox();
        if (!bubble || !shown) throw new Error('no bubble or no picker');
        const apart =
          shown.x >= bubble.x + bubble.width ||
          shown.x + shown.width <= bubble.x ||
          shown.y >= bubble.y + bubble.height ||
          shown.y + shown.height <= bubble.y;
        expect(apart, `${person.name}: picker over "${text}"`).toBe(true);
        expect(shown.x).toBeGreaterThanOrEqual(0);
        expect(shown.x + shown.width).toBeLessThanOrEqual(person.phone ? 390 : 1280);
        await expect(picker.evaluate((el) => el.contains(document.activeElement))).resolves.toBe(true);
        expect(await horizontalOverflow(person)).toBe(0);
        await shot(person, `picker-${text === 'pick for me' ? 'mine' : 'theirs'}`);
        await person.page.keyboard.press('Escape');
        await expect(picker.count()).resolves.toBe(0);
      }
    }
  });

  it('offers Edit only on a message with text: not on a file alone; a file with text keeps its file when edited', async () => {
    await ann.page.getByTestId('attach-input').setInputFiles({
      name: 'notes.pdf',
      mimeType: 'application/pdf',
      buffer: Buffer.from('%PDF-1.4\n%small\n'),
    });
    const fileAlone = ann.page.locator('.messages .msg:not(.pending)', {
      has: ann.page.locator('a.attachment-chip', { hasText: 'notes.pdf' }),
    });
    await fileAlone.waitFor({ timeout: SHOW_TIMEOUT_MS });
    await showActions(ann, fileAlone);
    await fileAlone.getByRole('button', { name: 'Delete' }).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect(fileAlone.getByRole('button', { name: 'Edit' }).count()).resolves.toBe(0);

    // The same file sent again by ann with a text, as another client of the protocol may.
    const sent = await bob.waitFor(
      (e) =>
        e.type === 'message' && (e.payload.attachment as { name?: string } | undefined)?.name === 'notes.pdf',
    );
    const annClient = await connectChat(chat.stack.functionsUrl, 'ann', 'signalr');
    try {
      await annClient.send('sendMessage', {
        text: 'the notes, with a word',
        attachment: sent.payload.attachment,
      });
      const withText = messageItem(ann, 'the notes, with a word');
      await withText.waitFor({ timeout: SHOW_TIMEOUT_MS });
      // Found by its id: its text goes into the edit box.
      const item = ann.page.locator(`.messages .msg[data-id="${await withText.getAttribute('data-id')}"]`);
      await showActions(ann, item);
      await item.getByRole('button', { name: 'Edit' }).click();
      await expect(item.getByTestId('edit-file').textContent()).resolves.toContain('The file stays');
      // Opened near the end of the list, the edit box shows whole, Save included.
      const saveInView = await item.getByRole('button', { name: 'Save' }).evaluate((el) => {
        const box = el.getBoundingClientRect();
        const list = el.closest('.scroller')?.getBoundingClientRect();
        return !!list && box.top >= list.top - 1 && box.bottom <= list.bottom + 1;
      });
      expect(saveInView).toBe(true);
      await shot(ann, 'file-with-text-editing');
      await ann.page.keyboard.press('ControlOrMeta+a');
      await ann.page.keyboard.type('the notes, corrected');
      await ann.page.keyboard.press('Enter');
      await delivered(ann, 'the notes, corrected').waitFor({ timeout: SHOW_TIMEOUT_MS });
      await expect(item.locator('a.attachment-chip', { hasText: 'notes.pdf' }).count()).resolves.toBe(1);
      await shot(ann, 'file-with-text-edited');
    } finally {
      await annClient.close();
    }
  });
});

/** Whether the answer to a report shows under that message, in the list's view, and only there. */
async function expectReportedAt(person: Person, item: Locator): Promise<void> {
  const notice = item.getByTestId('moderation-notice');
  await notice.filter({ hasText: 'Reported' }).waitFor({ timeout: SHOW_TIMEOUT_MS });
  await expect(person.page.getByTestId('moderation-notice').count()).resolves.toBe(1);
  // Said to screen readers by the list's status line.
  await expect(
    person.page.getByRole('status').filter({ hasText: 'Reported: the moderators will look at it.' }).count(),
  ).resolves.toBeGreaterThan(0);
  const inView = await notice.evaluate((el) => {
    const box = el.getBoundingClientRect();
    const list = el.closest('.scroller')?.getBoundingClientRect();
    return !!list && box.top >= list.top && box.bottom <= list.bottom;
  });
  expect(inView).toBe(true);
}

describe('the message list with sign-in', () => {
  let chat: BrowserStack;
  let mona: Person;
  let bob: Person;

  beforeAll(async () => {
    chat = await startBrowserStack({ env: { CHAT_AUTH: 'entra' } });
    mona = await chat.open('mona', { query: '' });
    bob = await chat.open('bob', { query: '', phone: true });
    await signInOnPage(mona, 'Mona', ['Moderator']);
    await signInOnPage(bob, 'Bob');
  });

  afterAll(async () => {
    await chat?.stop();
  });

  it('opens "More actions" by keyboard on a desktop; a report is answered under the message reported', async () => {
    await send(bob, 'a message to report');
    await send(bob, 'and one after it');
    const item = messageItem(mona, 'a message to report');
    await item.waitFor({ timeout: SHOW_TIMEOUT_MS });
    await delivered(mona, 'and one after it').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await composer(mona).focus();
    await mona.page.keyboard.press('Shift+Tab');
    await mona.page.keyboard.press('End');
    await mona.page.keyboard.press('ArrowUp');
    await expect.poll(() => focused(mona)).toBe('message: a message to report');
    expect(await tabThroughActions(mona)).toEqual(['Add reaction', 'Reply', 'More actions']);
    // Back to the message, on to "More actions": Enter opens them, Tab goes through them.
    await mona.page.keyboard.press('Shift+Tab');
    for (let i = 0; i < 3; i += 1) await mona.page.keyboard.press('Tab');
    await expect.poll(() => focused(mona)).toBe('list: More actions');
    await mona.page.keyboard.press('Enter');
    await expect(
      item.getByRole('button', { name: 'More actions' }).getAttribute('aria-expanded'),
    ).resolves.toBe('true');
    const more = await tabThroughActions(mona);
    expect(more).toEqual(['Report', 'Delete the message of Bob', 'Mute user Bob for an hour…', 'Ban Bob']);
    // Leaving the message closed them; once more, and Report.
    await expect(item.getByTestId('report').count()).resolves.toBe(0);
    await mona.page.keyboard.press('Shift+Tab');
    for (let i = 0; i < 3; i += 1) await mona.page.keyboard.press('Tab');
    await mona.page.keyboard.press('Enter');
    await mona.page.keyboard.press('Tab');
    await expect.poll(() => focused(mona)).toBe('list: Report');
    await mona.page.keyboard.press('Enter');
    await expectReportedAt(mona, item);
    await shot(mona, 'reported');
    expect(problemsOf(mona)).toEqual({ name: 'mona', errors: [], dialogs: [], csp: [] });
  });

  it('opens "More actions" by touch on a phone; the report is answered under the message, in view', async () => {
    await send(mona, 'a message from Mona');
    const item = messageItem(bob, 'a message from Mona');
    await item.waitFor({ timeout: SHOW_TIMEOUT_MS });
    await showActions(bob, item);
    await item.getByRole('button', { name: 'More actions' }).tap();
    await item.getByTestId('report').tap();
    await expectReportedAt(bob, item);
    await shot(bob, 'reported');
    expect(problemsOf(bob)).toEqual({ name: 'bob', errors: [], dialogs: [], csp: [] });
  });
});
