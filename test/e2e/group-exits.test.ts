/**
 * Leaving and losing groups in Chromium against the whole local stack: what a page offers someone removed from
 * a private group, the last owner's way out, the questions before leaving, and every open page's list after a
 * leave or a removal. Every wait is for something the page shows.
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
  problemsOf,
  SCREENSHOTS,
  SHOW_TIMEOUT_MS,
  send,
  showActions,
  showSidebar,
  sidebarButton,
  signInOnPage,
  startBrowserStack,
  waitConnected,
} from '../support/browser.js';

let chat: BrowserStack;
let ann: Person;
let bob: Person;
let cy: Person;

const shot = (person: Person, what: string) =>
  person.page.screenshot({
    path: join(SCREENSHOTS, `group-exits-${what}-${person.name}.png`),
    animations: 'disabled',
  });

/** The open conversation's subtitle, once it reads `text`. */
const subtitle = (person: Person, text: string) =>
  person.page
    .locator('.conversation-titles .conversation-sub', { hasText: text })
    .waitFor({ timeout: SHOW_TIMEOUT_MS });

/** Creates a private group (`members`) or a channel from the sidebar, and waits until the page shows it open. */
async function create(person: Person, name: string, members?: string): Promise<void> {
  await createGroup(person, name, members);
  // The subtitle createGroup waits for may still be the group open before.
  await person.page.locator('#conversation-title', { hasText: name }).waitFor({ timeout: SHOW_TIMEOUT_MS });
}

/** Removes `member` from the open group through its Members panel, answering the question. */
async function removeMember(owner: Person, member: string): Promise<void> {
  const panel = owner.page.getByTestId('group-panel');
  const toggle = panel.getByRole('button', { name: 'Members' });
  if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
  const members = owner.page.getByRole('list', { name: 'Group members' });
  await members.getByRole('button', { name: `Remove ${member}` }).click();
  await members.getByRole('button', { name: `Yes, remove ${member}` }).click();
  await members.getByText(member, { exact: true }).waitFor({ state: 'detached', timeout: SHOW_TIMEOUT_MS });
}

describe('leaving and losing groups in Chromium', () => {
  beforeAll(async () => {
    chat = await startBrowserStack({ webPubSub: true });
    [ann, bob, cy] = await Promise.all([
      chat.open('ann'),
      chat.open('bob', { query: '?name=bob&service=webpubsub' }),
      chat.open('cy'),
    ]);
    await Promise.all([ann, bob, cy].map((p) => waitConnected(p)));
  });
  afterAll(async () => {
    await chat?.stop();
  });

  it('offers someone removed from a private group no search there, and nothing else they cannot do', async () => {
    await create(ann, 'proj', 'cy');
    await send(ann, 'hello proj');
    await sidebarButton(cy, /^proj/).click();
    await subtitle(cy, 'Private group');
    await cy.page.getByTestId('search-toggle').click();
    await cy.page.getByTestId('search-input').fill('hello');

    await removeMember(ann, 'cy');
    await subtitle(cy, 'You are not in this group');
    await cy.page.getByTestId('search-toggle').waitFor({ state: 'detached', timeout: SHOW_TIMEOUT_MS });
    expect(await cy.page.getByTestId('search-panel').count()).toBe(0);
    expect(await cy.page.getByRole('button', { name: /^Join group/ }).count()).toBe(0);
    expect(await cy.page.getByRole('button', { name: 'Members' }).count()).toBe(0);
    await shot(cy, 'removed');
  });

  it("tells the last owner what to do in the page's words, and takes it away once it is done", async () => {
    await create(ann, 'Crew', 'bob');
    await ann.page.getByRole('button', { name: 'Leave group' }).click();
    await ann.page.getByRole('button', { name: 'Yes, leave Crew' }).click();
    const refusal = ann.page.locator('.composer-error[role="alert"]');
    await refusal.waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(await refusal.textContent()).toContain(
      'make someone else an owner first (Members, then “Make owner”)',
    );
    expect(await refusal.textContent()).not.toMatch(/addMember|"owner"/);
    await shot(ann, 'last-owner');

    await ann.page.getByRole('button', { name: 'Members' }).click();
    const members = ann.page.getByRole('list', { name: 'Group members' });
    await members.getByRole('button', { name: 'Make bob an owner' }).click();
    await members.getByText('bob (owner)').waitFor({ timeout: SHOW_TIMEOUT_MS });
    // Bob is an owner now: what the refusal said no longer holds, and it is gone.
    await refusal.waitFor({ state: 'detached', timeout: SHOW_TIMEOUT_MS });
  });

  it('takes a group left or lost off the list of every page open at the time, as a reload would', async () => {
    const annElsewhere = await chat.open('ann');
    await waitConnected(annElsewhere);
    await create(bob, 'Falcon', 'ann, cy');
    for (const page of [ann, annElsewhere, cy])
      await conversationButton(page, /^Falcon/).waitFor({ timeout: SHOW_TIMEOUT_MS });

    await conversationButton(ann, /^Falcon/).click();
    await subtitle(ann, 'Private group');
    // Only its owners could add her back: the page asks first, naming it, with the focus on staying.
    await ann.page.getByRole('button', { name: 'Leave group' }).click();
    const question = ann.page.getByTestId('leave-question');
    expect(await question.textContent()).toContain('Leave Falcon? Only its owners can add you back.');
    expect(await ann.page.evaluate(() => document.activeElement?.textContent)).toBe('Stay');
    await shot(ann, 'leave-question');
    await ann.page.keyboard.press('Escape');
    await question.waitFor({ state: 'detached', timeout: SHOW_TIMEOUT_MS });
    await subtitle(ann, 'Private group');
    await ann.page.getByRole('button', { name: 'Leave group' }).click();
    await ann.page.getByRole('button', { name: 'Yes, leave Falcon' }).click();
    // Her other page, with the room open, lists it no more; nor would a reload.
    await conversationButton(annElsewhere, /^Falcon/).waitFor({
      state: 'detached',
      timeout: SHOW_TIMEOUT_MS,
    });
    // The page she left it on keeps it while it is open, then lists it no more.
    await subtitle(ann, 'You are not in this group');
    await ann.page.locator('.conv', { hasText: 'Room' }).first().click();
    await conversationButton(ann, /^Falcon/).waitFor({ state: 'detached', timeout: SHOW_TIMEOUT_MS });

    // A removal too, on the removed person's page with another conversation open.
    await removeMember(bob, 'cy');
    await conversationButton(cy, /^Falcon/).waitFor({ state: 'detached', timeout: SHOW_TIMEOUT_MS });
    await shot(annElsewhere, 'left-elsewhere');
  });

  it('lets the last member delete the group rather than leave it, asking first', async () => {
    await create(ann, 'orbit', 'bob');
    await sidebarButton(bob, /^orbit/).click();
    await subtitle(bob, 'Private group');
    await ann.page.getByRole('button', { name: 'Members' }).click();
    await ann.page.getByRole('button', { name: 'Make bob an owner' }).click();
    await ann.page.getByText('bob (owner)').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await ann.page.getByRole('button', { name: 'Leave group' }).click();
    await ann.page.getByRole('button', { name: 'Yes, leave orbit' }).click();

    // Bob is its last member: nobody could join it once he left, so the header offers to delete it instead.
    const head = bob.page.locator('.conversation-actions');
    await head.getByRole('button', { name: 'Delete group' }).waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(await head.getByRole('button', { name: 'Leave group' }).count()).toBe(0);
    await head.getByRole('button', { name: 'Delete group' }).click();
    const question = bob.page.getByTestId('delete-question');
    expect(await question.textContent()).toContain(
      'Delete orbit for everyone? Its messages and files are deleted for good.',
    );
    expect(await bob.page.evaluate(() => document.activeElement?.textContent)).toBe('Keep it');
    await shot(bob, 'delete-question');
    await bob.page.getByRole('button', { name: 'Yes, delete orbit' }).click();
    await subtitle(bob, 'This group was deleted');
    await bob.page
      .locator('.note-text', { hasText: 'deleted the group' })
      .waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(await bob.page.locator('#conversation-title').textContent()).toContain('orbit');
    expect(await composer(bob).getAttribute('placeholder')).toBe('This group was deleted');
  });

  it('lets an owner delete a group at any time: its members lose it at once, and its name stays taken', async () => {
    await create(ann, 'tide', 'bob, cy');
    await send(ann, 'a tide secret');
    await sidebarButton(bob, /^tide/).click();
    await delivered(bob, 'a tide secret').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await conversationButton(cy, /^tide/).waitFor({ timeout: SHOW_TIMEOUT_MS });

    const panel = ann.page.getByTestId('group-panel');
    await panel.getByRole('button', { name: 'Delete group' }).click();
    await ann.page.getByRole('button', { name: 'Yes, delete tide' }).click();
    await subtitle(ann, 'This group was deleted');
    // Bob, reading it, sees it go with its messages; Cy, elsewhere, no longer finds it in his list.
    await subtitle(bob, 'This group was deleted');
    await bob.page
      .locator('.note-text', { hasText: 'deleted the group' })
      .waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(await bob.page.locator('.messages').textContent()).not.toContain('a tide secret');
    expect(await bob.page.getByRole('button', { name: /^Join group/ }).count()).toBe(0);
    await conversationButton(cy, /^tide/).waitFor({ state: 'detached', timeout: SHOW_TIMEOUT_MS });
    await shot(bob, 'deleted');

    // Nobody makes a new group of the name, whose members could read what the old one left.
    await cy.page.locator('#new-group-members').fill('ann');
    await cy.page.locator('#new-group-name').fill('tide');
    await cy.page.getByRole('button', { name: 'Create private group' }).click();
    await cy.page
      .getByText(/was deleted \(a name is never used twice\)/)
      .waitFor({ timeout: SHOW_TIMEOUT_MS });
  });

  it('ran without page errors, dialogs or Content-Security-Policy violations', () => {
    for (const person of chat.people) {
      expect(problemsOf(person)).toEqual({ name: person.name, errors: [], dialogs: [], csp: [] });
    }
  });
});

describe('a channel a moderator removes someone from, in Chromium with sign-in', () => {
  let signedIn: BrowserStack;
  beforeAll(async () => {
    signedIn = await startBrowserStack({ env: { CHAT_AUTH: 'entra' } });
  });
  afterAll(async () => {
    await signedIn?.stop();
  });

  it('calls it a channel in every note the removed person reads', async () => {
    const mona = await signedIn.open('mona', { query: '' });
    const cyan = await signedIn.open('cyan', { query: '', phone: true });
    await signInOnPage(mona, 'Mona', ['Moderator']);
    await signInOnPage(cyan, 'Cyan');
    await create(mona, 'lobby');
    await showSidebar(cyan);
    await cyan.page.locator('#join-group-input').fill('lobby');
    await cyan.page.locator('#join-group-input').press('Enter');
    await subtitle(cyan, 'Channel');
    await send(cyan, 'cheap pills here');

    const message = mona.page.locator('.messages .msg:not(.pending)', { hasText: 'cheap pills here' });
    await message.waitFor({ timeout: SHOW_TIMEOUT_MS });
    await showActions(mona, message);
    await message.getByRole('button', { name: 'More actions' }).click();
    await message.getByRole('button', { name: 'Remove Cyan from the channel…' }).click();
    await message.getByTestId('confirm-unchannel').click();

    await subtitle(cyan, 'You are not in this channel');
    const removed = cyan.page.locator('.note-text', { hasText: 'was removed from the channel' });
    await removed.waitFor({ timeout: SHOW_TIMEOUT_MS });
    const notes = await cyan.page.locator('.note-text').allTextContents();
    expect(notes.some((n) => n.includes('joined the channel'))).toBe(true);
    expect(notes.filter((n) => /\bgroup\b/.test(n))).toEqual([]);
    await shot(cyan, 'removed-from-channel');
    for (const person of [mona, cyan])
      expect(problemsOf(person)).toEqual({ name: person.name, errors: [], dialogs: [], csp: [] });
  });
});
