/**
 * Moderation in Chromium: with sign-in (`CHAT_AUTH=entra`), a moderator (the "Moderator" box ticked on the
 * development sign-in page) deletes someone else's message, which both see deleted; the other person reports
 * a message, which reaches the moderator's panel. Without sign-in the page says plainly that moderation is
 * off. Desktop and phone widths; screenshots go to test-results/e2e/.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserStack,
  delivered,
  horizontalOverflow,
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

async function screenshot(person: Person, what: string): Promise<void> {
  await person.page.screenshot({
    path: join(SCREENSHOTS, `moderation-${what}-${person.name}.png`),
    animations: 'disabled',
  });
}

/** axe-core's browser build (as test/e2e/accessibility.test.ts runs it). */
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** The serious and critical axe-core violations of the page as it is now. */
async function seriousViolations(person: Person): Promise<string[]> {
  if (!(await person.page.evaluate(() => 'axe' in window))) await person.page.evaluate(AXE_SOURCE);
  return person.page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(): Promise<{ violations: unknown[] }> } }).axe;
    const { violations } = await axe.run();
    return (violations as Array<{ id: string; impact: string | null; nodes: Array<{ target: string[] }> }>)
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
}

/** The message bubble's list item of `text`. */
const messageItem = (person: Person, text: string) =>
  person.page.locator('.messages .msg:not(.pending)', { hasText: text });

describe('moderation with sign-in', () => {
  let chat: BrowserStack;
  beforeAll(async () => {
    chat = await startBrowserStack({ env: { CHAT_AUTH: 'entra' } });
  });
  afterAll(async () => {
    await chat?.stop();
  });

  it("a moderator deletes someone else's message, and a report reaches the moderator (desktop and phone)", async () => {
    const mona = await chat.open('mona', { query: '' });
    const bob = await chat.open('bob', { query: '', phone: true });
    await signInOnPage(mona, 'Mona', ['Moderator']);
    await signInOnPage(bob, 'Bob');
    await mona.page.getByTestId('moderate').waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(await bob.page.getByTestId('moderate').count()).toBe(0);

    await send(bob, 'buy cheap watches here');
    await delivered(mona, 'buy cheap watches here').waitFor({ timeout: SHOW_TIMEOUT_MS });
    // Bob has no moderator's menu on Mona's messages, only "Report" among its "More actions".
    await send(mona, 'please keep it friendly');
    const onBob = messageItem(bob, 'please keep it friendly');
    await onBob.waitFor({ timeout: SHOW_TIMEOUT_MS });
    await showActions(bob, onBob);
    await onBob.getByRole('button', { name: 'More actions' }).click();
    await onBob.getByTestId('report').waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(await onBob.getByTestId('remove').count()).toBe(0);
    await onBob.getByTestId('report').click();
    await bob.page
      .getByTestId('moderation-notice')
      .filter({ hasText: 'Reported' })
      .waitFor({ timeout: SHOW_TIMEOUT_MS });
    // The answer to the report goes after a while.
    await bob.page.getByTestId('moderation-notice').waitFor({ state: 'detached', timeout: SHOW_TIMEOUT_MS });

    // The report reaches Mona live; her panel lists it.
    await mona.page.getByTestId('moderate').filter({ hasText: '1' }).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await mona.page.getByTestId('moderate').click();
    await mona.page
      .getByTestId('report-item')
      .filter({ hasText: 'please keep it friendly' })
      .waitFor({ timeout: SHOW_TIMEOUT_MS });
    await screenshot(mona, 'panel');

    const spam = messageItem(mona, 'buy cheap watches here');
    await showActions(mona, spam);
    await spam.getByRole('button', { name: 'More actions' }).click();
    await spam.getByTestId('remove').click();
    await spam.getByTestId('confirm-remove').click();
    for (const person of [mona, bob]) {
      await person.page
        .locator('.messages .bubble.deleted', { hasText: 'Message deleted by a moderator' })
        .waitFor({ timeout: SHOW_TIMEOUT_MS });
      expect(await delivered(person, 'buy cheap watches here').count()).toBe(0);
      await screenshot(person, 'deleted');
    }
    // After a reload it stays deleted.
    await bob.page.reload();
    await waitConnected(bob);
    await bob.page
      .locator('.messages .bubble.deleted', { hasText: 'Message deleted by a moderator' })
      .waitFor({ timeout: SHOW_TIMEOUT_MS });
    // Mona mutes Bob from his message's menu, which asks first, as Ban does: cancelled, Bob still writes.
    await send(bob, 'one more thing');
    const last = messageItem(mona, 'one more thing');
    await last.waitFor({ timeout: SHOW_TIMEOUT_MS });
    await showActions(mona, last);
    await last.getByRole('button', { name: 'More actions' }).click();
    await last.getByRole('button', { name: 'Mute user Bob for an hour…' }).click();
    const ask = last.getByRole('group', { name: 'Mute Bob for an hour?' });
    await ask.waitFor({ timeout: SHOW_TIMEOUT_MS });
    await ask.getByRole('button', { name: 'Cancel' }).click();
    await ask.waitFor({ state: 'detached', timeout: SHOW_TIMEOUT_MS });
    await send(bob, 'still here');
    await delivered(mona, 'still here').waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(await bob.page.getByTestId('muted').count()).toBe(0);
    // Confirmed: Bob reads until when, and what he sends is refused.
    await showActions(mona, last);
    await last.getByRole('button', { name: 'More actions' }).click();
    await last.getByRole('button', { name: 'Mute user Bob for an hour…' }).click();
    await last.getByTestId('confirm-mute').click();
    const muted = bob.page.getByTestId('muted');
    await muted.waitFor({ timeout: SHOW_TIMEOUT_MS });
    // One short line on the phone, saying when it ends.
    expect(await muted.textContent()).toMatch(/^A moderator muted you until (tomorrow )?\d{1,2}:\d{2}/);
    expect(await muted.evaluate((el) => el.getBoundingClientRect().height)).toBeLessThan(
      await muted.evaluate((el) => 2 * Number.parseFloat(getComputedStyle(el).lineHeight)),
    );
    // The box stays typable, but sending is off, saying until when (local time, as the line above), and the
    // draft stays.
    await bob.page
      .getByTestId('send-off')
      .filter({ hasText: 'Sending is off until' })
      .waitFor({ timeout: SHOW_TIMEOUT_MS });
    await bob.page.locator('#composer-input').fill('can I still talk?');
    await bob.page.locator('#composer-input').press('Enter');
    await expect(bob.page.getByRole('button', { name: 'Send message' }).isDisabled()).resolves.toBe(true);
    await expect(bob.page.locator('#composer-input').inputValue()).resolves.toBe('can I still talk?');
    expect(await bob.page.getByTestId('send-off').textContent()).not.toMatch(/\d{4}-\d{2}-\d{2}T/);
    expect(await bob.page.locator('.messages .msg.pending').count()).toBe(0);
    await screenshot(bob, 'muted');
    // Mona's open panel follows her actions: the audit log says them in words, and the list of who is muted
    // now has Bob, whose mute it lifts: Bob's note goes away.
    const log = mona.page.getByTestId('audit-log');
    await log
      .filter({ hasText: 'Mona deleted a message of Bob in the room' })
      .waitFor({ timeout: SHOW_TIMEOUT_MS });
    await log.filter({ hasText: 'Mona muted Bob for an hour' }).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await screenshot(mona, 'audit');
    expect(await seriousViolations(mona)).toEqual([]);
    expect(await seriousViolations(bob)).toEqual([]);
    await mona.page.getByTestId('sanctions').getByRole('button', { name: 'Unmute Bob' }).click();
    await muted.waitFor({ state: 'detached', timeout: SHOW_TIMEOUT_MS });
    // Lifted: the draft leaves.
    await bob.page.locator('#composer-input').press('Enter');
    await delivered(bob, 'can I still talk?').waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(await horizontalOverflow(bob)).toBe(0);
    // In a private conversation too: Bob writes to Mona, she deletes it, and both see it deleted.
    await sidebarButton(mona, /Bob Message privately/).click();
    await send(mona, 'a word in private');
    await showSidebar(bob);
    await sidebarButton(bob, /^Mona(?! Message)/).click();
    await send(bob, 'a rude private reply');
    const reply = messageItem(mona, 'a rude private reply');
    await reply.waitFor({ timeout: SHOW_TIMEOUT_MS });
    await showActions(mona, reply);
    await reply.getByRole('button', { name: 'More actions' }).click();
    await reply.getByTestId('remove').click();
    await reply.getByTestId('confirm-remove').click();
    for (const person of [mona, bob]) {
      await person.page
        .locator('.messages .bubble.deleted', { hasText: 'Message deleted by a moderator' })
        .waitFor({ timeout: SHOW_TIMEOUT_MS });
      expect(await delivered(person, 'a rude private reply').count()).toBe(0);
      await delivered(person, 'a word in private').waitFor({ timeout: SHOW_TIMEOUT_MS });
    }
    await screenshot(bob, 'private-deleted');
    // An admin on a phone: the panel fits the width, with the open report in it.
    const ada = await chat.open('ada', { query: '', phone: true });
    await signInOnPage(ada, 'Ada', ['Admin']);
    await ada.page.getByTestId('moderate').click();
    await ada.page.getByTestId('report-item').first().waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(await horizontalOverflow(ada)).toBe(0);
    expect(await seriousViolations(ada)).toEqual([]);
    await screenshot(ada, 'panel');
    for (const person of [mona, bob, ada])
      expect(problemsOf(person)).toEqual({ name: person.name, errors: [], dialogs: [], csp: [] });
  });
});

describe('moderation without sign-in', () => {
  let chat: BrowserStack;
  beforeAll(async () => {
    chat = await startBrowserStack();
  });
  afterAll(async () => {
    await chat?.stop();
  });

  it('says plainly that moderation is off (desktop and phone)', async () => {
    for (const phone of [false, true]) {
      const ann = await chat.open(phone ? 'ann-phone' : 'ann', { phone });
      await waitConnected(ann);
      if (phone) await ann.page.locator('#menu-button').click();
      const note = ann.page.getByTestId('moderation-off');
      await note.waitFor({ timeout: SHOW_TIMEOUT_MS });
      expect(await note.textContent()).toContain('Moderation is off');
      expect(await ann.page.getByTestId('moderate').count()).toBe(0);
      expect(await ann.page.getByTestId('report').count()).toBe(0);
      expect(await horizontalOverflow(ann)).toBe(0);
      await screenshot(ann, 'off');
      expect(problemsOf(ann)).toEqual({ name: ann.name, errors: [], dialogs: [], csp: [] });
    }
  });
});
