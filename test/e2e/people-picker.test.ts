/**
 * The people picker of the group forms in Chromium (static/components/people-picker.js). With sign-in
 * (`CHAT_AUTH=entra`) user ids are object ids the page never shows: Ann adds Bob to a new private group and Cy
 * to it from its panel by choosing them from suggestions by name, and the real Bob and Cy get the group; two
 * people named Dee are told apart on a phone, and the one chosen is the one added. Without sign-in a typed
 * name and a comma still make a member, and suggestions help too. Screenshots go to test-results/e2e/.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserStack,
  conversationButton,
  horizontalOverflow,
  type Person,
  pickerChips,
  pickerOptions,
  pickPerson,
  problemsOf,
  SCREENSHOTS,
  SHOW_TIMEOUT_MS,
  showSidebar,
  startBrowserStack,
  waitConnected,
} from '../support/browser.js';

const NEW = 'new-group-members';
const ADD = 'add-member-input';

async function shot(person: Person, what: string): Promise<void> {
  await person.page.screenshot({
    path: join(SCREENSHOTS, `people-picker-${what}-${person.name}.png`),
    animations: 'disabled',
  });
}

async function userIdOf(person: Person): Promise<string> {
  return JSON.parse((await person.page.locator('#chat-config').textContent()) ?? '{}').user;
}

const createButton = (person: Person) => person.page.getByRole('button', { name: 'Create private group' });

describe('the people picker, signed in', () => {
  let chat: BrowserStack;
  let ann: Person;
  let bob: Person;
  let cy: Person;
  let dee1: Person;
  let dee2: Person;

  /** Opens the chat and signs in on the development sign-in page as `name` with `account`. */
  async function signedIn(name: string, account: string, phone = false): Promise<Person> {
    const person = await chat.open(account, { query: '', phone });
    await person.page.getByLabel('Name to show').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await person.page.getByLabel('Name to show').fill(name);
    await person.page.getByLabel('Account (optional)').fill(account);
    await person.page.getByRole('button', { name: 'Sign in' }).click();
    await waitConnected(person);
    return person;
  }

  beforeAll(async () => {
    chat = await startBrowserStack({ env: { CHAT_AUTH: 'entra' } });
    ann = await signedIn('Ann', 'ann');
    bob = await signedIn('Bob', 'bob');
    cy = await signedIn('Cy', 'cy', true);
    dee1 = await signedIn('Dee', 'dee1');
    dee2 = await signedIn('Dee', 'dee2');
  });
  afterAll(async () => {
    await chat?.stop();
  });

  it('creates a private group with Bob chosen by name, and the real Bob gets it', async () => {
    const { page } = ann;
    const field = page.locator(`#${NEW}`);
    expect(await field.getAttribute('role')).toBe('combobox');
    await page.locator('#new-group-name').fill('Picnic');
    await field.click();
    await field.pressSequentially('Bob');
    const bobOption = pickerOptions(ann, NEW).filter({ hasText: 'Bob' });
    await bobOption.waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(await field.getAttribute('aria-expanded')).toBe('true');
    expect(await page.locator(`#${NEW}-list`).getAttribute('role')).toBe('listbox');
    expect(await field.getAttribute('aria-activedescendant')).toBe(await bobOption.getAttribute('id'));
    await shot(ann, 'suggestions');
    // Escape closes the list; the typed name is not a member, and the form says what to do.
    await field.press('Escape');
    await page.locator(`#${NEW}-list`).waitFor({ state: 'hidden' });
    expect(await field.getAttribute('aria-expanded')).toBe('false');
    await createButton(ann).click();
    expect(await page.getByTestId('members-problem').textContent()).toContain(
      'Choose "Bob" from the suggestions',
    );
    expect(await conversationButton(ann, /Picnic/).count()).toBe(0);

    // Chosen, then taken off with Backspace in the empty field, then chosen again with the keyboard.
    await field.fill('');
    await pickPerson(ann, NEW, 'bo', pickerOptions(ann, NEW).filter({ hasText: 'Bob' }));
    expect(await pickerChips(ann, NEW).allTextContents()).toEqual([expect.stringContaining('Bob')]);
    expect(await field.inputValue()).toBe('');
    await field.press('Backspace');
    await pickerChips(ann, NEW).waitFor({ state: 'detached' });
    await pickPerson(ann, NEW, 'BO', pickerOptions(ann, NEW).filter({ hasText: 'Bob' }));
    await shot(ann, 'chosen');
    await createButton(ann).click();
    await page
      .locator('.conversation-titles .conversation-sub', { hasText: 'Private group' })
      .waitFor({ timeout: SHOW_TIMEOUT_MS });
    // The form is empty again.
    expect(await pickerChips(ann, NEW).count()).toBe(0);
    await conversationButton(bob, /Picnic/).waitFor({ timeout: SHOW_TIMEOUT_MS });
  });

  it("adds Cy from the group's panel the same way, and the real Cy gets the group", async () => {
    const { page } = ann;
    await page.getByRole('button', { name: 'Members' }).click();
    const members = page.getByRole('list', { name: 'Group members' });
    await members.getByText('Bob').waitFor({ timeout: SHOW_TIMEOUT_MS });
    const field = page.locator(`#${ADD}`);
    await field.click();
    await field.pressSequentially('c');
    const cyOption = pickerOptions(ann, ADD).filter({ hasText: 'Cy' });
    await cyOption.waitFor({ timeout: SHOW_TIMEOUT_MS });
    await shot(ann, 'panel-suggestions');
    // A click chooses too.
    await cyOption.click();
    await pickerChips(ann, ADD).filter({ hasText: 'Cy' }).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await members.getByText('Cy').waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(await pickerChips(ann, ADD).count()).toBe(0);
    await showSidebar(cy);
    await conversationButton(cy, /Picnic/).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await shot(ann, 'panel-added');
  });

  it('tells apart two people of the same name on a phone, and adds the one chosen', async () => {
    const { page } = cy;
    const dee2Id = await userIdOf(dee2);
    await showSidebar(cy);
    await page.locator('#new-group-name').fill('Dees');
    const field = page.locator(`#${NEW}`);
    await field.click();
    await field.pressSequentially('dee');
    const options = pickerOptions(cy, NEW);
    await expect.poll(() => options.count(), { timeout: SHOW_TIMEOUT_MS }).toBe(2);
    const hints = (await options.getByTestId('picker-hint').allTextContents()).map((h) => h.trim());
    expect(hints).toHaveLength(2);
    expect(hints[0]).toContain('last seen');
    // The id's first characters differ between the two.
    const idStarts = hints.map((h) => h.split(' · ')[1] ?? '');
    expect(idStarts[0]).not.toBe(idStarts[1]);
    const mine = idStarts.findIndex((start) => start !== '' && dee2Id.startsWith(start));
    expect(mine).toBeGreaterThanOrEqual(0);
    // Phone width: the list and the page fit 390 px.
    expect(await horizontalOverflow(cy)).toBe(0);
    const box = await page.locator(`#${NEW}-list`).boundingBox();
    expect((box?.x ?? 0) + (box?.width ?? Number.POSITIVE_INFINITY)).toBeLessThanOrEqual(390);
    await shot(cy, 'same-names');
    // Escape closes the list, not the phone's drawer around it.
    await field.press('Escape');
    await page.locator(`#${NEW}-list`).waitFor({ state: 'hidden' });
    expect(await page.locator('#sidebar').isVisible()).toBe(true);
    await field.fill('');
    await pickPerson(cy, NEW, 'dee', options.nth(mine));
    // The other Dee too: both chips say which is which; × takes one off.
    await pickPerson(cy, NEW, 'dee', options.first());
    const chips = pickerChips(cy, NEW);
    const chipTexts = await chips.allTextContents();
    expect(chipTexts).toHaveLength(2);
    expect(chipTexts[0]).toContain(idStarts[mine]);
    expect(chipTexts[1]).not.toContain(idStarts[mine]);
    expect(await horizontalOverflow(cy)).toBe(0);
    await shot(cy, 'same-name-chips');
    await chips.nth(1).getByRole('button', { name: 'Do not add Dee' }).click();
    await expect.poll(() => chips.count()).toBe(1);
    await createButton(cy).click();
    await page
      .locator('.conversation-titles .conversation-sub', { hasText: 'Private group' })
      .waitFor({ timeout: SHOW_TIMEOUT_MS });
    // As a member.
    await conversationButton(dee2, /^Dees(?! not a member)/).waitFor({ timeout: SHOW_TIMEOUT_MS });
    // Once the chosen Dee has it, the other would have it too, had it been sent to them.
    expect(await conversationButton(dee1, /Dees/).count()).toBe(0);
  });

  it('ran without page errors, dialogs or Content-Security-Policy violations', () => {
    for (const person of [ann, bob, cy, dee1, dee2]) {
      expect(problemsOf(person)).toEqual({ name: person.name, errors: [], dialogs: [], csp: [] });
    }
  });
});

describe('the people picker without sign-in', () => {
  let chat: BrowserStack;
  let ann: Person;

  beforeAll(async () => {
    chat = await startBrowserStack();
    ann = await chat.open('ann');
    await waitConnected(ann);
    for (const name of ['bob', 'cyrus']) await waitConnected(await chat.open(name));
  });
  afterAll(async () => {
    await chat?.stop();
  });

  it('makes a member of a typed name and a comma, of a suggestion, and of what is still typed', async () => {
    const { page } = ann;
    const field = page.locator(`#${NEW}`);
    await page.locator('#new-group-name').fill('crew');
    await field.click();
    await field.pressSequentially('bob,');
    await pickerChips(ann, NEW).filter({ hasText: 'bob' }).waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(await field.inputValue()).toBe('');
    await pickPerson(ann, NEW, 'cy', pickerOptions(ann, NEW).filter({ hasText: 'cyrus' }));
    // Nobody of that name has used the chat: without sign-in a name is an id, so it is sent as typed.
    await field.pressSequentially('zed');
    await shot(ann, 'typed');
    await createButton(ann).click();
    await page
      .locator('.conversation-titles .conversation-sub', { hasText: 'Private group' })
      .waitFor({ timeout: SHOW_TIMEOUT_MS });
    await page.getByRole('button', { name: 'Members' }).click();
    const members = page.getByRole('list', { name: 'Group members' });
    for (const name of ['bob', 'cyrus', 'zed'])
      await members.getByText(name).waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(problemsOf(ann)).toEqual({ name: 'ann', errors: [], dialogs: [], csp: [] });
  });
});
