/**
 * The daily bound on created groups in Chromium, with the bound set to one: ann's second group is refused,
 * and the page says so where she typed it, in her own time, with the name and members she typed still there,
 * and in the conversation the creation opened. A created group empties the form, as before.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserStack,
  createGroup,
  type Person,
  pickerChips,
  problemsOf,
  SCREENSHOTS,
  SHOW_TIMEOUT_MS,
  startBrowserStack,
  waitConnected,
} from '../support/browser.js';

let chat: BrowserStack;
let ann: Person;

beforeAll(async () => {
  chat = await startBrowserStack({ env: { CHAT_MAX_GROUPS_CREATED_PER_DAY: '1' } });
  ann = await chat.open('ann');
  await waitConnected(ann);
});

afterAll(async () => {
  await chat?.stop();
});

describe('groups created past the daily bound, in Chromium', () => {
  it('shows the refusal under the name, keeping what was typed, and opens nothing', async () => {
    const { page } = ann;
    await createGroup(ann, 'first', 'bob');
    // Created: the form is empty again.
    expect(await page.locator('#new-group-name').inputValue()).toBe('');
    expect(await pickerChips(ann, 'new-group-members').count()).toBe(0);

    await page.locator('#new-group-name').fill('second');
    await page.locator('#new-group-members').fill('bob, cy');
    await page.getByRole('button', { name: 'Create private group' }).click();
    const refusal = page.getByTestId('create-refusal');
    await refusal.waitFor({ timeout: SHOW_TIMEOUT_MS });
    const text = (await refusal.textContent()) ?? '';
    expect(text).toContain('as many groups and channels as allowed in 24 hours');
    // The time is the browser's own rendering of the server's `until`, not the UTC text of the message.
    expect(text).toMatch(/you can create the next one from .*\d/);
    expect(text).not.toContain('.000Z');
    expect(await page.locator('#new-group-name').inputValue()).toBe('second');
    // "bob," made a chip; "cy" is still typed.
    expect(await pickerChips(ann, 'new-group-members').allTextContents()).toEqual([
      expect.stringContaining('bob'),
    ]);
    expect(await page.locator('#new-group-members').inputValue()).toBe('cy');
    expect(await page.locator('#new-group-name').getAttribute('aria-invalid')).toBe('true');
    // Nothing opened for the refused name.
    expect(await page.evaluate(() => location.hash)).not.toContain('second');
    await page.screenshot({ path: join(SCREENSHOTS, 'group-creations-refused.png'), animations: 'disabled' });
    // Another name typed: the refusal is about the one it named, so it goes.
    await page.locator('#new-group-name').fill('third');
    expect(await refusal.count()).toBe(0);
    expect(problemsOf(ann)).toEqual({ name: 'ann', errors: [], dialogs: [], csp: [] });
  });
});
