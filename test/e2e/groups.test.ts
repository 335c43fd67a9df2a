/**
 * Private groups and public channels in Chromium against the whole local stack: ann creates a private group
 * with bob, eve cannot join it by its name, ann sees the members and removes bob, who loses it at once; a
 * channel ann creates is in the directory, where eve joins it. Every wait is for something the page shows.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserStack,
  conversationButton,
  createGroup,
  delivered,
  type Person,
  problemsOf,
  SCREENSHOTS,
  SHOW_TIMEOUT_MS,
  send,
  sidebarButton,
  startBrowserStack,
  waitConnected,
} from '../support/browser.js';

let chat: BrowserStack;
let ann: Person;
let bob: Person;
let eve: Person;

const shot = (person: Person, what: string) =>
  person.page.screenshot({
    path: join(SCREENSHOTS, `groups-${what}-${person.name}.png`),
    animations: 'disabled',
  });

beforeAll(async () => {
  chat = await startBrowserStack({ webPubSub: true });
  [ann, bob, eve] = await Promise.all([chat.open('ann'), chat.open('bob'), chat.open('eve')]);
  await Promise.all([ann, bob, eve].map((p) => waitConnected(p)));
});

afterAll(async () => {
  await chat?.stop();
});

describe('private groups and channels in Chromium', () => {
  it('creates a private group with a member, who reads and writes in it; nobody else joins by its name', async () => {
    await createGroup(ann, 'Team', 'bob');
    await send(ann, 'hello team');

    await sidebarButton(bob, /^Team/).click();
    await delivered(bob, 'hello team').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await send(bob, 'hi ann');
    await delivered(ann, 'hi ann').waitFor({ timeout: SHOW_TIMEOUT_MS });

    await eve.page.locator('#join-group-input').fill('Team');
    await eve.page.locator('#join-group-input').press('Enter');
    await eve.page.getByRole('alert').filter({ hasText: 'private' }).waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(await eve.page.locator('.messages').textContent()).not.toContain('hello team');
    // No history is asked for a group eve is not in: the page says so rather than waiting for it, and her
    // list does not claim she left a group she was never in.
    await eve.page
      .getByText("Only the group's members can read its messages.")
      .waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(await conversationButton(eve, /^Team/).textContent()).toContain('not a member');
    // Asking again would change nothing: the page no longer offers it.
    expect(await eve.page.getByRole('button', { name: 'Join group' }).count()).toBe(0);
    expect(await eve.page.getByRole('button', { name: 'Leave group' }).count()).toBe(0);
    await shot(eve, 'refused');
  });

  it('shows the members to an owner, who removes one: the removed member loses the group at once', async () => {
    await ann.page.getByRole('button', { name: 'Members' }).click();
    const members = ann.page.getByRole('list', { name: 'Group members' });
    await members.getByText('bob').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await shot(ann, 'members');
    await members.getByRole('button', { name: 'Remove bob' }).click();
    await members.getByRole('button', { name: 'Yes, remove bob' }).click();
    await members.getByText('bob').waitFor({ state: 'detached', timeout: SHOW_TIMEOUT_MS });

    await bob.page
      .locator('.conversation-titles .conversation-sub', { hasText: 'You are not in this group' })
      .waitFor({ timeout: SHOW_TIMEOUT_MS });
    await bob.page
      .locator('.note-text', { hasText: 'was removed from the group' })
      .waitFor({ timeout: SHOW_TIMEOUT_MS });
    await send(ann, 'after bob left');
    // Then a private message from ann, delivered after the group's: once bob's page lists it, the group's
    // message would have arrived before it.
    await ann.page
      .locator('#sidebar')
      .getByRole('button', { name: /bob Message privately/ })
      .click();
    await send(ann, 'barrier for bob');
    await bob.page
      .locator('#sidebar nav[aria-labelledby="conversations-heading"]')
      .getByRole('button', { name: /ann/ })
      .waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(await bob.page.locator('.messages').textContent()).not.toContain('after bob left');
    // What bob had on screen goes too (the server would not give it to him again), and nothing invites him
    // to join: only an owner can add him back.
    await sidebarButton(bob, /^Team/).click();
    await bob.page
      .getByText("Only the group's members can read its messages.")
      .waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(await bob.page.locator('.messages').textContent()).not.toContain('hello team');
    expect(await bob.page.getByRole('button', { name: 'Join group' }).count()).toBe(0);
    expect(await bob.page.getByRole('button', { name: 'Join group Team' }).count()).toBe(0);
    await shot(bob, 'removed');
  });

  it('lets the last owner make a member an owner, then leave the group to them', async () => {
    await createGroup(ann, 'Crew', 'eve');
    await ann.page.getByRole('button', { name: 'Leave group' }).click();
    await ann.page.getByRole('button', { name: 'Yes, leave Crew' }).click();
    const refusal = ann.page.getByRole('alert').filter({ hasText: 'last owner' });
    await refusal.waitFor({ timeout: SHOW_TIMEOUT_MS });
    // It says what to do on the page, in the page's words.
    expect(await refusal.textContent()).toContain('(Members, then “Make owner”)');

    await ann.page.getByRole('button', { name: 'Members' }).click();
    const members = ann.page.getByRole('list', { name: 'Group members' });
    // Only members who are not owners yet can be made one.
    expect(await members.getByRole('button', { name: 'Make ann an owner' }).count()).toBe(0);
    await members.getByRole('button', { name: 'Make eve an owner' }).click();
    await members.getByText('eve (owner)').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await shot(ann, 'made-owner');

    await ann.page.getByRole('button', { name: 'Leave group' }).click();
    await ann.page.getByRole('button', { name: 'Yes, leave Crew' }).click();
    await ann.page
      .getByText("Only the group's members can read its messages.")
      .waitFor({ timeout: SHOW_TIMEOUT_MS });
    // eve, the owner now, sees ann go and may rename the group.
    await sidebarButton(eve, /^Crew/).click();
    await eve.page.locator('.note-text', { hasText: 'left the group' }).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await eve.page.getByRole('button', { name: 'Rename or set topic' }).waitFor({ timeout: SHOW_TIMEOUT_MS });
  });

  it('lists a channel in the directory, where anyone joins it', async () => {
    await createGroup(ann, 'lobby');
    // The next group is private again unless chosen otherwise.
    expect(await ann.page.locator('#new-group-channel').isChecked()).toBe(false);

    await eve.page.getByRole('button', { name: 'Browse channels' }).click();
    const directory = eve.page.getByRole('list', { name: 'Channel directory' });
    await directory.getByRole('button', { name: 'Join channel lobby' }).click();
    await eve.page
      .locator('.conversation-titles .conversation-sub', { hasText: 'Channel' })
      .waitFor({ timeout: SHOW_TIMEOUT_MS });
    await send(ann, 'welcome to the lobby');
    await delivered(eve, 'welcome to the lobby').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await shot(eve, 'channel');
    for (const person of [ann, bob, eve])
      expect(problemsOf(person)).toEqual({ name: person.name, errors: [], dialogs: [], csp: [] });
  });
});
