/**
 * Rough edges of the page found by trying it in Chromium, against the whole local stack: mentions readable in
 * every bubble and a name with a space shown whole, an empty or too large file refused in plain words, the edit
 * box that neither closes on an empty text nor cuts a long one, an edit or a reaction offline that says it was
 * not sent, "No messages yet" only over an empty conversation, a top bar that fits a 390 px phone, a refused
 * group name shown in view, a file chip's icon at its size and reactions at the edge of my own bubble.
 * Screenshots at 1280 and 390 px go to test-results/e2e/rough-*.png.
 */
import { join } from 'node:path';
import type { Locator, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserStack,
  composer,
  contrastOf,
  createGroup,
  DESKTOP,
  delivered,
  horizontalOverflow,
  type Person,
  problemsOf,
  SCREENSHOTS,
  SHOW_TIMEOUT_MS,
  send,
  showActions,
  sidebarButton,
  startBrowserStack,
  waitConnected,
} from '../support/browser.js';

/** WCAG AA for text. */
const MIN_CONTRAST = 4.5;

let chat: BrowserStack;
let ann: Person;
let bob: Person;
let mary: Person;

const shot = (person: Person, what: string) =>
  person.page.screenshot({
    path: join(
      SCREENSHOTS,
      `rough-${what}-${person.name.replace(/\W/g, '')}-${person.phone ? 'phone' : 'desktop'}.png`,
    ),
    animations: 'disabled',
  });

/** The list item of a delivered message of the open conversation. */
const messageItem = (person: Person, text: string): Locator =>
  person.page.locator('.messages .msg:not(.pending)', { hasText: text });

/** The same list item, found by its id, so it stays found while its text is in the edit box. */
async function editable(person: Person, text: string): Promise<Locator> {
  const id = await messageItem(person, text).getAttribute('data-id');
  return person.page.locator(`.messages .msg[data-id="${id}"]`);
}

/** Picks a file with the composer's attach button's file input. */
async function attach(person: Person, name: string, mimeType: string, buffer: Buffer): Promise<void> {
  await person.page.getByTestId('attach-input').setInputFiles({ name, mimeType, buffer });
}

beforeAll(async () => {
  chat = await startBrowserStack({ webPubSub: true });
  ann = await chat.open('ann');
  bob = await chat.open('bob', { phone: true });
  mary = await chat.open('Mary Jane', { query: '?name=Mary%20Jane' });
  await Promise.all([ann, bob, mary].map((p) => waitConnected(p)));
});

afterAll(async () => {
  await chat?.stop();
});

describe('mentions', () => {
  it('shows a picked name with a space as one mention, readable in my bubble and in others, light and dark', async () => {
    // Bob picks "Mary Jane" from the mention list, then mentions ann by hand.
    const box = composer(bob);
    await box.pressSequentially('@Mar');
    await bob.page.getByRole('option', { name: 'Mary Jane' }).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await box.press('Enter');
    await box.pressSequentially('and @ann, see this');
    await box.press('Enter');
    const text = '@Mary Jane and @ann, see this';
    for (const person of [ann, bob, mary]) {
      await delivered(person, text).waitFor({ timeout: SHOW_TIMEOUT_MS });
      const mentions = delivered(person, text).locator('.mention');
      await expect(mentions.allTextContents()).resolves.toEqual(['@Mary Jane', '@ann']);
    }
    await expect(delivered(mary, text).locator('.mention-me').allTextContents()).resolves.toEqual([
      '@Mary Jane',
    ]);
    // In bob's own (indigo) bubble, and in others' bubbles (ann's mention of her is "mine").
    expect(await contrastOf(bob.page, '.msg.mine .bubble .mention')).toBeGreaterThanOrEqual(MIN_CONTRAST);
    expect(await contrastOf(ann.page, '.msg:not(.mine) .bubble .mention')).toBeGreaterThanOrEqual(
      MIN_CONTRAST,
    );
    expect(await contrastOf(ann.page, '.msg:not(.mine) .bubble .mention-me')).toBeGreaterThanOrEqual(
      MIN_CONTRAST,
    );
    await shot(bob, 'mentions');
    await shot(ann, 'mentions');

    // Dark: dora's own mention, and bob's in her view.
    const dark = await chat.browser.newContext({ ...DESKTOP, colorScheme: 'dark' });
    const page = await dark.newPage();
    await page.goto(`${chat.stack.homeUrl}?name=dora`);
    await page.locator('.status-pill[data-status="connected"]').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await page.locator('#composer-input').fill('@bob hello from the dark');
    await page.locator('#composer-input').press('Enter');
    await page
      .locator('.messages .msg.mine:not(.pending) .bubble', { hasText: 'hello from the dark' })
      .waitFor({ timeout: SHOW_TIMEOUT_MS });
    await send(bob, '@dora and @Mary Jane, from the phone');
    await page
      .locator('.messages .msg:not(.mine) .bubble', { hasText: 'from the phone' })
      .waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(await contrastOf(page, '.msg.mine .bubble .mention')).toBeGreaterThanOrEqual(MIN_CONTRAST);
    expect(await contrastOf(page, '.msg:not(.mine) .bubble .mention')).toBeGreaterThanOrEqual(MIN_CONTRAST);
    expect(await contrastOf(page, '.msg:not(.mine) .bubble .mention-me')).toBeGreaterThanOrEqual(
      MIN_CONTRAST,
    );
    await page.screenshot({ path: join(SCREENSHOTS, 'rough-mentions-dora-dark-desktop.png') });
    await dark.close();
  });
});

describe('attachments', () => {
  it('says an empty or too large file is not sent, before uploading and when the server refuses it', async () => {
    const empty = Buffer.alloc(0);
    // Over the server's default limit (CHAT_ATTACHMENT_MAX_BYTES, 10 MiB).
    const big = Buffer.alloc(11 * 1024 * 1024);
    const uploads: string[] = [];
    const counted = (request: Request) => {
      if (new URL(request.url()).pathname.endsWith('/uploads')) uploads.push(request.url());
    };
    ann.page.on('request', counted);
    const refusal = ann.page.getByTestId('upload-error').locator('span').first();
    await attach(ann, 'empty.txt', 'text/plain', empty);
    await expect.poll(() => refusal.textContent()).toBe('empty.txt is empty: nothing to send');
    await attach(ann, 'big.zip', 'application/zip', big);
    await expect.poll(() => refusal.textContent()).toBe('big.zip is 11 MiB; files can be at most 10 MiB');
    await shot(ann, 'file-too-large');
    // The page knew the limit: nothing was asked of the server.
    expect(uploads).toEqual([]);
    ann.page.off('request', counted);
    await attach(bob, 'big.zip', 'application/zip', big);
    await bob.page.getByTestId('upload-error').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await shot(bob, 'file-too-large');

    // A page not told the limit: the server's refusal, in the same words.
    const ned = await chat.open('ned', {
      beforeLoad: async ({ page }) => {
        // Takes the limit out of the configuration block as soon as it is parsed, before the page reads it.
        await page.addInitScript(() => {
          new MutationObserver((_, observer) => {
            const block = document.getElementById('chat-config');
            if (!block?.textContent) return;
            const config = JSON.parse(block.textContent);
            delete config.maxAttachmentBytes;
            block.textContent = JSON.stringify(config);
            observer.disconnect();
          }).observe(document, { childList: true, subtree: true });
        });
      },
    });
    await waitConnected(ned);
    expect(await ned.page.evaluate(() => document.getElementById('chat-config')?.textContent)).not.toContain(
      'maxAttachmentBytes',
    );
    const nedRefusal = ned.page.getByTestId('upload-error').locator('span').first();
    await attach(ned, 'big.zip', 'application/zip', big);
    await expect
      .poll(() => nedRefusal.textContent(), { timeout: SHOW_TIMEOUT_MS })
      .toBe('big.zip is 11 MiB; files can be at most 10 MiB');
    await attach(ned, 'empty.txt', 'text/plain', empty);
    await expect
      .poll(() => nedRefusal.textContent(), { timeout: SHOW_TIMEOUT_MS })
      .toBe('empty.txt is empty: nothing to send');
    await ned.context.close();
  });

  it("gives a file chip's icon its size beside a long name on a phone", async () => {
    const name = 'quarterly report with a very long name that goes on.pdf';
    await attach(ann, name, 'application/pdf', Buffer.from('%PDF-1.4\n%small\n'));
    const chip = bob.page.locator('.messages .msg:not(.pending) a.attachment-chip', { hasText: 'quarterly' });
    await chip.waitFor({ timeout: SHOW_TIMEOUT_MS });
    const icon = await chip.locator('svg').boundingBox();
    expect(icon?.width).toBe(18);
    expect(await horizontalOverflow(bob)).toBe(0);
    await chip.scrollIntoViewIfNeeded();
    await shot(bob, 'file-chip');
  });
});

describe('editing my messages', () => {
  it('keeps the edit box open with a hint when emptied, and counts a too long text instead of cutting it', async () => {
    for (const person of [ann, bob]) {
      const text = `Edit me, ${person.name}`;
      await send(person, text);
      const item = await editable(person, text);
      await showActions(person, item);
      await item.getByRole('button', { name: 'Edit' }).click();
      const editBox = item.getByLabel('Edit your message');
      await editBox.fill('');
      await item.getByRole('button', { name: 'Save' }).click();
      await expect(item.getByTestId('edit-hint').textContent()).resolves.toBe(
        'A message cannot be empty: use Delete to remove it',
      );
      await expect(editBox.isVisible()).resolves.toBe(true);
      await item.getByTestId('edit-hint').scrollIntoViewIfNeeded();
      await shot(person, 'edit-empty');
      const long = 'x'.repeat(4010);
      await editBox.fill(long);
      await expect(editBox.inputValue()).resolves.toBe(long);
      await expect(item.getByTestId('edit-counter').textContent()).resolves.toBe('10 characters too many');
      await expect(item.getByRole('button', { name: 'Save' }).isDisabled()).resolves.toBe(true);
      await expect(item.getByTestId('edit-hint').textContent()).resolves.toBe('');
      await shot(person, 'edit-too-long');
      await item.getByRole('button', { name: 'Cancel' }).click();
      await delivered(person, text).waitFor({ timeout: SHOW_TIMEOUT_MS });
    }
  });

  it('says an edit or a reaction made offline was not sent, keeps the edit, and saves it once back', async () => {
    for (const person of [ann, bob]) {
      const text = `Edit me offline, ${person.name}`;
      await send(person, text);
      await person.context.setOffline(true);
      await person.page.locator('.status-pill[data-status="offline"]').waitFor({ timeout: SHOW_TIMEOUT_MS });
      const item = await editable(person, text);
      await showActions(person, item);
      await item.getByRole('button', { name: 'Edit' }).click();
      const editBox = item.getByLabel('Edit your message');
      await editBox.fill(`Edited offline, ${person.name}`);
      await item.getByRole('button', { name: 'Save' }).click();
      await expect(item.getByTestId('edit-hint').textContent()).resolves.toContain('Not connected');
      await expect(editBox.inputValue()).resolves.toBe(`Edited offline, ${person.name}`);
      // A reaction on another message: the conversation says it was not sent.
      const other = messageItem(person, '@Mary Jane and @ann, see this');
      await showActions(person, other);
      await other.getByRole('button', { name: 'Add reaction' }).click();
      await other.getByRole('button', { name: 'thumbs up' }).click();
      await person.page
        .locator('.composer-error', { hasText: 'Not connected: nothing was changed; react again' })
        .waitFor({ timeout: SHOW_TIMEOUT_MS });
      await item.scrollIntoViewIfNeeded();
      await shot(person, 'offline-edit');
      await person.context.setOffline(false);
      await waitConnected(person);
      await item.getByRole('button', { name: 'Save' }).click();
      await delivered(mary, `Edited offline, ${person.name}`).waitFor({ timeout: SHOW_TIMEOUT_MS });
      // Nothing of the offline reaction reached anyone.
      await expect(
        messageItem(mary, '@Mary Jane and @ann, see this').locator('.reaction').count(),
      ).resolves.toBe(0);
    }
  });
});

describe('a conversation with notes and no messages', () => {
  it('shows "No messages yet" only when nothing at all is shown', async () => {
    const empty = (person: Person) => person.page.locator('.empty-conversation');
    const notes = (person: Person) => person.page.locator('.messages .note');
    /** Either the notes or "No messages yet", never both. */
    const oneOrTheOther = async (person: Person) =>
      (await empty(person).count()) + ((await notes(person).count()) > 0 ? 1 : 0);
    await createGroup(ann, 'quiet corner');
    await expect.poll(() => oneOrTheOther(ann), { timeout: SHOW_TIMEOUT_MS }).toBe(1);
    await bob.page.locator('#menu-button').click();
    await bob.page.getByLabel('Group name to join or create').fill('quiet corner');
    await bob.page.getByLabel('Group name to join or create').press('Enter');
    await bob.page
      .locator('#conversation-title', { hasText: 'quiet corner' })
      .waitFor({ timeout: SHOW_TIMEOUT_MS });
    await ann.page.locator('.messages .note', { hasText: 'joined the channel' }).first().waitFor({
      timeout: SHOW_TIMEOUT_MS,
    });
    await expect(empty(ann).count()).resolves.toBe(0);
    await expect.poll(() => oneOrTheOther(bob), { timeout: SHOW_TIMEOUT_MS }).toBe(1);
    await shot(ann, 'notes-only');
    await shot(bob, 'notes-only');
    await bob.page.locator('#menu-button').click();
    await sidebarButton(bob, /^Room/).click();
    await bob.page.locator('#conversation-title', { hasText: 'Room' }).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await sidebarButton(ann, /^Room/).click();
  });
});

describe('phone layout', () => {
  it('fits the top bar on a 390 px phone, its notice on one line, over SignalR and Web PubSub', async () => {
    const wes = await chat.open('wes', { phone: true, query: '?name=wes&service=webpubsub' });
    await waitConnected(wes);
    for (const person of [bob, wes]) {
      expect(await horizontalOverflow(person)).toBe(0);
      const notice = person.page.getByTestId('unverified');
      const { height } = (await notice.boundingBox()) ?? { height: 0 };
      const lineHeight = await notice.evaluate((el) => Number.parseFloat(getComputedStyle(el).lineHeight));
      expect(height).toBeLessThan(2 * lineHeight);
      await expect(notice.getAttribute('title')).resolves.toContain('Names are not verified');
      await expect(notice.textContent()).resolves.toContain('Names are not verified');
      expect(await contrastOf(person.page, '[data-testid="unverified"]')).toBeGreaterThanOrEqual(
        MIN_CONTRAST,
      );
      await shot(person, 'top-bar');
    }
    // On a desktop, the whole sentence shows.
    await expect(ann.page.locator('.unverified-long').isVisible()).resolves.toBe(true);
    await expect(ann.page.locator('.unverified-short').isVisible()).resolves.toBe(false);
    await shot(ann, 'top-bar');
    expect(problemsOf(wes)).toMatchObject({ errors: [], dialogs: [], csp: [] });
  });

  it("shows why a new group's name is refused next to the field, in view in the phone's drawer", async () => {
    for (const person of [bob, ann]) {
      if (person.phone) await person.page.locator('#menu-button').click();
      await person.page.locator('#new-group-channel').uncheck();
      await person.page.locator('#new-group-name').fill('Weekly engineering sync & retro');
      await person.page.locator('#new-group-members').fill('ann, Mary Jane');
      await person.page.getByRole('button', { name: 'Create private group' }).click();
      const reason = person.page.locator('#new-group-error');
      await reason.waitFor({ timeout: SHOW_TIMEOUT_MS });
      const inView = await reason.evaluate((el) => {
        const box = el.getBoundingClientRect();
        return box.top >= 0 && box.bottom <= window.innerHeight;
      });
      expect(inView).toBe(true);
      // Right under the name it is about.
      const field = await person.page.locator('#new-group-name').boundingBox();
      const shown = await reason.boundingBox();
      expect((shown?.y ?? 0) - ((field?.y ?? 0) + (field?.height ?? 0))).toBeLessThan(16);
      await shot(person, 'refused-group-name');
      await person.page.locator('#new-group-name').fill('');
      await person.page.locator('#new-group-members').fill('');
      if (person.phone) await person.page.getByRole('button', { name: 'Close conversations' }).click();
    }
  });
});

describe('reactions under my own message', () => {
  it("sit at the bubble's edge on a desktop, with no gap for the buttons that show on hover", async () => {
    for (const person of [ann, bob]) {
      const text = `React to me, ${person.name}`;
      await send(person, text);
      const item = messageItem(person, text);
      await showActions(person, item);
      await item.getByRole('button', { name: 'Add reaction' }).click();
      await item.getByRole('button', { name: 'thumbs up' }).click();
      const reaction = item.locator('.reaction');
      await reaction.waitFor({ timeout: SHOW_TIMEOUT_MS });
      // Away from the message: the hover-only buttons hide.
      await person.page.locator('#conversation-title').hover();
      const bubble = await delivered(person, text).boundingBox();
      const shown = await reaction.boundingBox();
      expect(
        Math.abs((bubble?.x ?? 0) + (bubble?.width ?? 0) - ((shown?.x ?? 0) + (shown?.width ?? 0))),
      ).toBeLessThan(4);
      await shot(person, 'own-reactions');
    }
  });
});
