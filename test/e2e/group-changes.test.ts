/**
 * Renaming a group, setting a channel's topic and paging the people search, in Chromium against the whole
 * local stack: ann (desktop, Web PubSub) owns the groups and changes them from the keyboard; bob (a 390 px
 * phone, SignalR) sees each change at once and after a reload; both page through more people than one answer
 * holds. Every wait is for something the page shows.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserStack,
  createGroup,
  horizontalOverflow,
  type Person,
  problemsOf,
  SCREENSHOTS,
  SHOW_TIMEOUT_MS,
  showSidebar,
  sidebarButton,
  startBrowserStack,
  waitConnected,
} from '../support/browser.js';
import { connectChat } from '../support/chat-clients.js';

let chat: BrowserStack;
let ann: Person;
let bob: Person;

const shot = (person: Person, what: string) =>
  person.page.screenshot({
    path: join(SCREENSHOTS, `group-changes-${what}-${person.name}-${person.phone ? 'phone' : 'desktop'}.png`),
    animations: 'disabled',
  });

const title = (person: Person) => person.page.locator('#conversation-title');
const topic = (person: Person) => person.page.getByTestId('group-topic');

/** The owner renames the open group and sets its topic, from the keyboard alone. */
async function renameFromKeyboard(person: Person, newTitle: string, newTopic: string): Promise<void> {
  const toggle = person.page.getByRole('button', { name: 'Rename or set topic' });
  await toggle.focus();
  await person.page.keyboard.press('Enter');
  // The form opens with the title focused and filled in.
  const titleBox = person.page.getByLabel('Title', { exact: true });
  await expect.poll(() => titleBox.evaluate((el) => el === document.activeElement)).toBe(true);
  await person.page.keyboard.press('ControlOrMeta+A');
  await person.page.keyboard.type(newTitle);
  await person.page.keyboard.press('Tab');
  await person.page.keyboard.press('ControlOrMeta+A');
  await person.page.keyboard.type(newTopic);
  await shot(person, `editing-${newTitle.replace(/\W+/g, '-')}`);
  await person.page.keyboard.press('Enter');
  // Saved: the form is gone and focus is back on its button.
  await titleBox.waitFor({ state: 'detached', timeout: SHOW_TIMEOUT_MS });
  await expect.poll(() => toggle.evaluate((el) => el === document.activeElement)).toBe(true);
}

beforeAll(async () => {
  chat = await startBrowserStack({ webPubSub: true });
  ann = await chat.open('ann', { query: '?name=ann&service=webpubsub' });
  bob = await chat.open('bob', { phone: true });
  await Promise.all([waitConnected(ann), waitConnected(bob)]);
});

afterAll(async () => {
  await chat?.stop();
});

describe('renaming groups and setting topics in Chromium', () => {
  it('an owner renames a private group and sets its topic; a member sees it at once and after a reload', async () => {
    await createGroup(ann, 'trip', 'bob');
    await showSidebar(bob);
    await sidebarButton(bob, /^trip/).click();
    await bob.page
      .locator('.conversation-titles .conversation-sub', { hasText: 'Private group' })
      .waitFor({ timeout: SHOW_TIMEOUT_MS });
    // Only owners get the form.
    expect(await bob.page.getByRole('button', { name: 'Rename or set topic' }).count()).toBe(0);

    await renameFromKeyboard(ann, 'Road trip', 'Leaving Friday at eight');
    await shot(ann, 'renamed');
    await expect.poll(() => title(bob).textContent(), { timeout: SHOW_TIMEOUT_MS }).toContain('Road trip');
    await expect
      .poll(() => topic(bob).textContent(), { timeout: SHOW_TIMEOUT_MS })
      .toContain('Leaving Friday');
    await shot(bob, 'renamed-live');

    await bob.page.reload();
    await waitConnected(bob);
    await showSidebar(bob);
    await sidebarButton(bob, /^(trip|Road trip)/).click();
    await expect.poll(() => title(bob).textContent(), { timeout: SHOW_TIMEOUT_MS }).toContain('Road trip');
    await expect
      .poll(() => topic(bob).textContent(), { timeout: SHOW_TIMEOUT_MS })
      .toContain('Leaving Friday');
    expect(await horizontalOverflow(bob)).toBe(0);
    // Nothing widened the page past the phone's width (the browser would then zoom out to fit it).
    expect(await bob.page.evaluate(() => window.innerWidth)).toBe(390);
    await shot(bob, 'renamed-after-reload');
  });

  it('an owner sets a channel’s topic; a member who joined it sees it at once', async () => {
    await createGroup(ann, 'news');

    await showSidebar(bob);
    await bob.page.getByRole('button', { name: 'Browse channels' }).click();
    await bob.page
      .getByRole('list', { name: 'Channel directory' })
      .getByRole('button', { name: 'Join channel news' })
      .click();
    await bob.page
      .locator('.conversation-titles .conversation-sub', { hasText: 'Channel' })
      .waitFor({ timeout: SHOW_TIMEOUT_MS });

    await renameFromKeyboard(ann, 'News', 'Only what happened today');
    await expect
      .poll(() => topic(bob).textContent(), { timeout: SHOW_TIMEOUT_MS })
      .toContain('Only what happened today');
    await expect.poll(() => title(bob).textContent(), { timeout: SHOW_TIMEOUT_MS }).toContain('News');
    expect(await horizontalOverflow(bob)).toBe(0);
    await shot(bob, 'channel-topic');
    await shot(ann, 'channel-topic');
  });
  it('an owner on a 390 px phone renames a group; the form fits and the other member sees it', async () => {
    await showSidebar(bob);
    await createGroup(bob, 'picnic', 'ann');
    await bob.page.getByRole('button', { name: 'Rename or set topic' }).click();
    await bob.page.getByLabel('Title', { exact: true }).fill('Sunday picnic');
    await bob.page.getByLabel('Topic', { exact: true }).fill('Bring something to share, and a blanket');
    expect(await horizontalOverflow(bob)).toBe(0);
    expect(await bob.page.evaluate(() => window.innerWidth)).toBe(390);
    await shot(bob, 'editing');
    await bob.page.getByRole('button', { name: 'Save' }).click();
    await expect
      .poll(() => title(bob).textContent(), { timeout: SHOW_TIMEOUT_MS })
      .toContain('Sunday picnic');

    await sidebarButton(ann, /^Sunday picnic/).click();
    await expect
      .poll(() => title(ann).textContent(), { timeout: SHOW_TIMEOUT_MS })
      .toContain('Sunday picnic');
    await expect.poll(() => topic(ann).textContent(), { timeout: SHOW_TIMEOUT_MS }).toContain('a blanket');
    await shot(ann, 'renamed-by-phone');
  });
});

describe('the members of a group on a phone', () => {
  it("shows every Remove and the Add button whole, whatever the length of a member's name", async () => {
    const long = 'Bartholomew-Longname_1234567890a';
    const client = await connectChat(chat.stack.functionsUrl, long, 'signalr');
    await client.close();
    await showSidebar(bob);
    await createGroup(bob, 'lunch', `ann, ${long}`);
    await bob.page.getByRole('button', { name: 'Members' }).click();
    const remove = bob.page.getByRole('button', { name: `Remove ${long}` });
    await remove.waitFor({ timeout: SHOW_TIMEOUT_MS });
    // A flex item as wide as its widest line pushed both past the edge, clipped ("Remov", "Ad").
    for (const button of [remove, bob.page.getByRole('button', { name: 'Add', exact: true })]) {
      const box = await button.boundingBox();
      expect((box?.x ?? 0) + (box?.width ?? Number.POSITIVE_INFINITY)).toBeLessThanOrEqual(390);
    }
    expect(await horizontalOverflow(bob)).toBe(0);
    await shot(bob, 'members-long-name');
  });
});

describe('the people search in Chromium', () => {
  it('pages past the first answer with "More", on a desktop and on a phone', async () => {
    // More people than one answer holds (20): each has used the chat once.
    const names = Array.from({ length: 23 }, (_, i) => `zed-${String(i).padStart(2, '0')}`);
    for (const name of names) {
      const client = await connectChat(chat.stack.functionsUrl, name, 'signalr');
      await client.close();
    }
    for (const person of [ann, bob]) {
      await showSidebar(person);
      const search = person.page.locator('#find-people-input');
      await search.fill('zed');
      await search.press('Enter');
      const found = person.page.getByRole('list', { name: 'People found' }).getByRole('listitem');
      await expect.poll(() => found.count(), { timeout: SHOW_TIMEOUT_MS }).toBe(20);
      const more = person.page.getByRole('button', { name: 'More', exact: true });
      if (person.phone) await more.click();
      else {
        await more.focus();
        await person.page.keyboard.press('Enter');
      }
      await expect.poll(() => found.count(), { timeout: SHOW_TIMEOUT_MS }).toBe(names.length);
      // Focus moves to the first person the page brought.
      await expect
        .poll(() => person.page.evaluate(() => document.activeElement?.getAttribute('aria-label')))
        .toBe(`Message ${names[20]} privately`);
      await more.waitFor({ state: 'detached', timeout: SHOW_TIMEOUT_MS });
      const shown = await found.allTextContents();
      expect(shown.map((t) => t.match(/zed-\d\d/)?.[0])).toEqual(names);
      if (person.phone) expect(await horizontalOverflow(person)).toBe(0);
      // What a tap does, on a phone, where nothing hovers: "Message" beside each person found (the first has
      // lost the focus to the page's new ones), and on a desktop only under the pointer or the focus.
      const action = found.first().locator('.person-action');
      expect(await action.evaluate((el) => getComputedStyle(el).opacity)).toBe(person.phone ? '1' : '0');
      await shot(person, 'people-more');
    }
    for (const person of [ann, bob])
      expect(problemsOf(person)).toEqual({ name: person.name, errors: [], dialogs: [], csp: [] });
  });
});

describe('group changes as members see them', () => {
  const notes = (person: Person) => person.page.locator('.note').allTextContents();

  it('notes a creation, a rename and a new owner, and lists the new title after a reload before it is opened', async () => {
    await createGroup(ann, 'design', 'bob');
    await showSidebar(bob);
    await sidebarButton(bob, /^design/).click();
    await renameFromKeyboard(ann, 'Design Crew', 'Sketches first');
    await expect.poll(() => title(bob).textContent(), { timeout: SHOW_TIMEOUT_MS }).toContain('Design Crew');
    await ann.page.getByRole('button', { name: 'Members' }).click();
    await ann.page.getByRole('button', { name: 'Make bob an owner' }).click();
    const said = [
      'ann created the group with bob',
      'ann renamed the group to Design Crew',
      'ann set the topic: Sketches first',
      'ann made bob an owner',
    ];
    for (const text of said) {
      await expect
        .poll(async () => (await notes(bob)).some((n) => n.replace(/\s+/g, ' ').includes(text)), {
          timeout: SHOW_TIMEOUT_MS,
        })
        .toBe(true);
    }
    expect((await notes(bob)).join('|')).not.toContain('added');
    await shot(bob, 'notes');

    // The room is open after the reload: the list's title is the list's, not the record's of an opened group.
    await bob.page.reload();
    await waitConnected(bob);
    await showSidebar(bob);
    await sidebarButton(bob, /^Design Crew/).waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(await sidebarButton(bob, /^design\b/).count()).toBe(0);
  });

  it('tells two groups of one title apart by their names', async () => {
    await createGroup(ann, 'design2', 'bob');
    await expect.poll(() => title(ann).textContent(), { timeout: SHOW_TIMEOUT_MS }).toContain('design2');
    await renameFromKeyboard(ann, 'Design Crew', 'The other one');
    await showSidebar(bob);
    const names = bob.page.locator('#sidebar').getByTestId('group-name');
    await expect
      .poll(async () => (await names.allTextContents()).sort(), { timeout: SHOW_TIMEOUT_MS })
      .toEqual(['design', 'design2']);
    await shot(bob, 'repeated-titles');
  });

  it('keeps the create form open with the typed name when the name is taken, and opens nothing', async () => {
    // Someone else's private group, ann not in it (zed-00 used the chat in the people search above).
    await createGroup(bob, 'secret', 'zed-00');
    await showSidebar(ann);
    const before = await ann.page.locator('#conversation-title').textContent();
    // Members first: leaving their field closes its suggestions, which would cover the button.
    await ann.page.locator('#new-group-members').fill('bob');
    await ann.page.locator('#new-group-name').fill('secret');
    await ann.page.getByRole('button', { name: 'Create private group' }).click();
    await expect
      .poll(() => ann.page.getByTestId('create-refusal').textContent(), { timeout: SHOW_TIMEOUT_MS })
      .toContain('choose another');
    expect(await ann.page.locator('#new-group-name').inputValue()).toBe('secret');
    expect(await ann.page.locator('#conversation-title').textContent()).toBe(before);
    expect(await sidebarButton(ann, /^secret/).count()).toBe(0);
    expect(await ann.page.getByRole('button', { name: /Join group/ }).count()).toBe(0);
    await shot(ann, 'name-taken');
  });
});
