/**
 * Details of the conversation's header and the group forms in Chromium, with sign-in (`CHAT_AUTH=entra`): a
 * channel's header says "channel", a private group is marked with a lock (header and list, the list's also after
 * a reload, before the group is opened) and not "#", an
 * owner's "Remove" asks first, naming the member, notifications and muting are not offered for a group the
 * person is not in, and the new group's members field says that members are user ids, since a display name
 * adds nobody. Screenshots go to test-results/e2e/.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserStack,
  conversationButton,
  createGroup,
  type Person,
  pickerOptions,
  pickPerson,
  problemsOf,
  SCREENSHOTS,
  SHOW_TIMEOUT_MS,
  sidebarButton,
  startBrowserStack,
  waitConnected,
} from '../support/browser.js';

let chat: BrowserStack;
let ann: Person;
let bob: Person;
let cy: Person;

async function shot(person: Person, what: string): Promise<void> {
  await person.page.screenshot({
    path: join(SCREENSHOTS, `page-details-${what}-${person.name}.png`),
    animations: 'disabled',
  });
}

/** Opens the chat and signs in on the development sign-in page as `name`. */
async function signedIn(name: string): Promise<Person> {
  const person = await chat.open(name.toLowerCase(), { query: '' });
  await person.page.getByLabel('Name to show').waitFor({ timeout: SHOW_TIMEOUT_MS });
  await person.page.getByLabel('Name to show').fill(name);
  await person.page.getByLabel('Account (optional)').fill(name.toLowerCase());
  await person.page.getByRole('button', { name: 'Sign in' }).click();
  await waitConnected(person);
  return person;
}

const subtitle = (person: Person, text: string) =>
  person.page.locator('.conversation-titles .conversation-sub', { hasText: text });
const actions = (person: Person) => person.page.locator('.conversation-actions');

beforeAll(async () => {
  chat = await startBrowserStack({ env: { CHAT_AUTH: 'entra' } });
  ann = await signedIn('Ann');
  bob = await signedIn('Bob');
  cy = await signedIn('Cy');
});
afterAll(async () => {
  await chat?.stop();
});

describe('the header and group forms, signed in', () => {
  it('adds a member chosen by name from the suggestions, not typed text, which is no user id', async () => {
    await ann.page.locator('#new-group-name').fill('Byid');
    await pickPerson(
      ann,
      'new-group-members',
      'Bob',
      pickerOptions(ann, 'new-group-members').filter({ hasText: 'Bob' }),
    );
    await ann.page.getByRole('button', { name: 'Create private group' }).click();
    await conversationButton(bob, /Byid/).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await shot(ann, 'member-by-name');
  });

  it('marks a private group with a lock, not "#", in the header as in the list', async () => {
    await conversationButton(ann, /Byid/).click();
    await subtitle(ann, 'Private group').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await ann.page.getByTestId('title-lock').waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(await ann.page.locator('#conversation-title .title-prefix').textContent()).not.toContain('#');
    await conversationButton(ann, /Byid/).getByTestId('private-icon').waitFor({ timeout: SHOW_TIMEOUT_MS });
    // The room keeps its "#".
    expect(
      await ann.page
        .locator('#sidebar')
        .getByRole('button', { name: /^Room/ })
        .locator('.conv-icon')
        .textContent(),
    ).toBe('#');
  });

  it('marks a private group with its lock in the list after a reload, before it is opened', async () => {
    await sidebarButton(ann, /^Room/).click();
    await ann.page.waitForURL((url) => url.hash === '', { timeout: SHOW_TIMEOUT_MS });
    await ann.page.reload();
    await waitConnected(ann);
    // Nothing of the group has come but the welcome's list: not its record, not its messages.
    await conversationButton(ann, /Byid/).getByTestId('private-icon').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect(ann.page.getByTestId('title-lock').count()).resolves.toBe(0);
    await shot(ann, 'lock-after-reload');
    await conversationButton(ann, /Byid/).click();
    await ann.page.getByTestId('title-lock').waitFor({ timeout: SHOW_TIMEOUT_MS });
  });

  it('asks an owner before removing a member, naming them; then the member loses the group', async () => {
    await ann.page.getByRole('button', { name: 'Members' }).click();
    const members = ann.page.getByRole('list', { name: 'Group members' });
    await members.getByText('Bob').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await members.getByRole('button', { name: 'Remove Bob', exact: true }).click();
    const ask = members.getByTestId('confirm-remove');
    expect(await ask.textContent()).toContain('Remove Bob from the group?');
    await shot(ann, 'confirm-remove');
    // Cancelled: nothing was sent, Bob stays.
    await ask.getByRole('button', { name: 'Cancel' }).click();
    await ask.waitFor({ state: 'detached' });
    await conversationButton(bob, /Byid/).click();
    await subtitle(bob, 'Private group').waitFor({ timeout: SHOW_TIMEOUT_MS });

    await members.getByRole('button', { name: 'Remove Bob', exact: true }).click();
    await members.getByRole('button', { name: 'Yes, remove Bob' }).click();
    await members.getByText('Bob').waitFor({ state: 'detached', timeout: SHOW_TIMEOUT_MS });
    await subtitle(bob, 'You are not in this group').waitFor({ timeout: SHOW_TIMEOUT_MS });
  });

  it('offers no notifications or muting for a group the person is not in', async () => {
    // Bob was removed from Byid just before.
    expect(await bob.page.getByTestId('mute').count()).toBe(0);
    expect(await bob.page.getByTestId('enable-notifications').count()).toBe(0);
    await shot(bob, 'not-in-group');
    // In the room, they are there.
    await bob.page.locator('#sidebar').getByRole('button', { name: /^Room/ }).click();
    await bob.page.getByTestId('mute').waitFor({ timeout: SHOW_TIMEOUT_MS });
  });

  it('says "channel" on a channel’s header buttons, joined or not', async () => {
    await createGroup(cy, 'Plaza');
    await actions(cy).getByRole('button', { name: 'Leave channel' }).click();
    await actions(cy).getByRole('button', { name: 'Join channel' }).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await subtitle(cy, 'You are not in this channel').waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(await actions(cy).textContent()).not.toContain('group');
    // Not in it now: nothing to mute.
    expect(await cy.page.getByTestId('mute').count()).toBe(0);
    await shot(cy, 'channel-left');
    await actions(cy).getByRole('button', { name: 'Join channel' }).click();
    await actions(cy).getByRole('button', { name: 'Leave channel' }).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await cy.page.getByTestId('mute').waitFor({ timeout: SHOW_TIMEOUT_MS });
  });

  it('ran without page errors, dialogs or Content-Security-Policy violations', () => {
    for (const person of [ann, bob, cy]) {
      expect(problemsOf(person)).toEqual({ name: person.name, errors: [], dialogs: [], csp: [] });
    }
  });
});
