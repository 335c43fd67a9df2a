/**
 * The message list and the message box as people meet them, in Chromium against the whole local stack: the edit
 * box takes the focus and gives it back, a conversation opens at its "New messages" line when the unread do not
 * fit (also one never opened), banners belong to their conversation, a muted person sees when sending comes
 * back, the chat's joins and leaves are not noted in the room, and the list is one stop of the Tab key.
 * Screenshots go to test-results/e2e/list-*.png.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserStack,
  composer,
  conversationButton,
  createGroup,
  delivered,
  type Person,
  SCREENSHOTS,
  SHOW_TIMEOUT_MS,
  send,
  startBrowserStack,
  waitConnected,
} from '../support/browser.js';
import { type ChatClient, connectChat, isMessage } from '../support/chat-clients.js';

/** Messages bob sends while ann looks elsewhere: more than a desktop window shows at once. */
const UNREAD = 70;

let chat: BrowserStack;
let ann: Person;
let bob: ChatClient;

const shot = (person: Person, what: string) =>
  person.page.screenshot({
    path: join(SCREENSHOTS, `list-${what}-${person.name}-${person.phone ? 'phone' : 'desktop'}.png`),
    animations: 'disabled',
  });

/** The id of the element that has the focus in a person's page (its tag when it has none). */
const focused = (person: Person) =>
  person.page.evaluate(() => {
    const el = document.activeElement;
    return el?.id || el?.getAttribute('data-action') || el?.tagName || '';
  });

/** Where the "New messages" line is in the list's window: its top, the window's height, and how far from the end. */
const linePlace = (person: Person) =>
  person.page.locator('.scroller').evaluate((el) => {
    const line = el.querySelector('[data-testid="unread-line"]');
    if (!line) return null;
    return {
      top: line.getBoundingClientRect().top - el.getBoundingClientRect().top,
      height: el.clientHeight,
      fromEnd: el.scrollHeight - el.scrollTop - el.clientHeight,
    };
  });

beforeAll(async () => {
  // bob sends many messages at once: the command limit is raised for him.
  chat = await startBrowserStack({ webPubSub: true, env: { CHAT_COMMAND_BURST: '300' } });
  ann = await chat.open('ann');
  await waitConnected(ann);
  bob = await connectChat(chat.stack.functionsUrl, 'bob', 'signalr');
});

afterAll(async () => {
  await bob?.close();
  await chat?.stop();
});

describe('editing a message', () => {
  it('puts the focus in the edit box, caret at the end, and back on Edit when saved or cancelled', async () => {
    await send(ann, 'first draft');
    const item = ann.page.locator('.messages .msg:not(.pending)', { hasText: 'first draft' });
    const id = await item.getAttribute('data-id');
    const edit = item.locator('[data-action="edit"]');
    await edit.focus();
    await ann.page.keyboard.press('Enter');
    await expect.poll(() => focused(ann)).toBe(`edit-${id}`);
    // Typed straight after, the words land after the text.
    await ann.page.keyboard.type(', revised');
    await ann.page.keyboard.press('Enter');
    await delivered(ann, 'first draft, revised').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect.poll(() => focused(ann)).toBe('edit');

    await ann.page.keyboard.press('Enter');
    await expect.poll(() => focused(ann)).toBe(`edit-${id}`);
    await ann.page.keyboard.press('Escape');
    await expect.poll(() => focused(ann)).toBe('edit');
    await expect(ann.page.locator('.edit-form').count()).resolves.toBe(0);
  });
});

describe('opening a conversation with unread messages', () => {
  it('opens the room at the "New messages" line when the unread do not fit, and the line is in view', async () => {
    await createGroup(ann, 'elsewhere');
    for (let i = 1; i <= UNREAD; i += 1) await bob.send('sendMessage', { text: `news ${i}` });
    await bob.waitFor(isMessage(`news ${UNREAD}`));
    await conversationButton(ann, /^room/i)
      .locator('.badge', { hasText: String(UNREAD) })
      .waitFor({ timeout: SHOW_TIMEOUT_MS });
    await conversationButton(ann, /^room/i).click();
    await delivered(ann, `news ${UNREAD}`).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect.poll(() => linePlace(ann)).not.toBeNull();
    const place = await linePlace(ann);
    // Near the top of the window, with the first unread right under it, and far from the end.
    expect(place?.top).toBeGreaterThanOrEqual(0);
    expect(place?.top).toBeLessThan((place?.height ?? 0) / 3);
    expect(place?.fromEnd).toBeGreaterThan(0);
    await expect(
      ann.page
        .locator('[data-testid="unread-line"]')
        .evaluate((li) => li.nextElementSibling?.querySelector('.bubble')?.textContent?.trim()),
    ).resolves.toBe('news 1');
    await shot(ann, 'unread-line');
  });

  it('shows the line in a group never opened, before the messages that came since I was in it', async () => {
    await bob.send('createGroup', { group: 'fresh', members: ['ann'] });
    for (const text of ['fresh one', 'fresh two']) await bob.send('sendMessage', { group: 'fresh', text });
    await bob.waitFor(isMessage('fresh two'));
    await conversationButton(ann, /^fresh/)
      .locator('.badge')
      .waitFor({ timeout: SHOW_TIMEOUT_MS });
    await conversationButton(ann, /^fresh/).click();
    await delivered(ann, 'fresh two').waitFor({ timeout: SHOW_TIMEOUT_MS });
    const line = ann.page.locator('[data-testid="unread-line"]');
    await line.waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect(
      line.evaluate((li) => li.nextElementSibling?.querySelector('.bubble')?.textContent?.trim()),
    ).resolves.toBe('fresh one');
  });

  it('opens at the newest message when the unread all fit', async () => {
    await conversationButton(ann, /^elsewhere/).click();
    await bob.send('sendMessage', { text: 'just one more' });
    await conversationButton(ann, /^room/i).locator('.badge').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await conversationButton(ann, /^room/i).click();
    await delivered(ann, 'just one more').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect.poll(() => linePlace(ann).then((p) => p?.fromEnd)).toBeLessThan(1);
    await expect(composer(ann).isVisible()).resolves.toBe(true);
  });
});

describe('banners', () => {
  it('keeps a refusal with the conversation it was about', async () => {
    await conversationButton(ann, /^room/i).click();
    await ann.page
      .getByTestId('attach-input')
      .setInputFiles({ name: 'empty.txt', mimeType: 'text/plain', buffer: Buffer.alloc(0) });
    const refusal = ann.page.getByTestId('upload-error');
    await refusal.waitFor({ timeout: SHOW_TIMEOUT_MS });
    await conversationButton(ann, /^elsewhere/).click();
    await ann.page
      .locator('#conversation-title', { hasText: 'elsewhere' })
      .waitFor({ timeout: SHOW_TIMEOUT_MS });
    await refusal.waitFor({ state: 'detached', timeout: SHOW_TIMEOUT_MS });
  });
});

describe('the room', () => {
  it("notes nobody's arrival or departure: the online list shows who is here", async () => {
    await conversationButton(ann, /^room/i).click();
    const cy = await chat.open('cy');
    await waitConnected(cy);
    const online = ann.page.locator('#sidebar').getByRole('button', { name: /^cy/ });
    await online.first().waitFor({ timeout: SHOW_TIMEOUT_MS });
    await cy.context.close();
    await online.first().waitFor({ state: 'detached', timeout: SHOW_TIMEOUT_MS });
    await expect(ann.page.locator('.messages .note').count()).resolves.toBe(0);
  });
});

describe('channels', () => {
  it('says "channel" in their notes, and invites to join one not joined yet', async () => {
    await conversationButton(ann, /^elsewhere/).click();
    await bob.send('joinGroup', { group: 'elsewhere' });
    await ann.page
      .locator('.messages .note', { hasText: 'joined the channel' })
      .waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect(ann.page.locator('.messages .note', { hasText: 'the group' }).count()).resolves.toBe(0);

    await bob.send('createGroup', { group: 'bobs-corner', kind: 'channel' });
    await bob.waitFor((e) => e.type === 'group' && e.payload.group === 'bobs-corner');
    await ann.page.evaluate(() => {
      window.location.hash = '#group:bobs-corner';
    });
    await ann.page
      .getByText('Join to read its messages and write here.')
      .waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect(ann.page.getByText("Only the group's members can read its messages.").count()).resolves.toBe(
      0,
    );
  });
});
