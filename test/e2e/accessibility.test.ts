/**
 * An accessibility check of the chat page with axe-core (Deque's rules engine, the one browsers' own audits
 * build on), in Chromium against the whole local stack: the room, a private conversation, a group with its
 * member panel, reactions, a reply and the reaction picker, and the people search, on a desktop and on a
 * 390 px phone. No violation of serious or critical impact may remain; lesser ones are printed so they can be
 * seen.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserStack,
  composer,
  type Person,
  SHOW_TIMEOUT_MS,
  send,
  sidebarButton,
  startBrowserStack,
  waitConnected,
} from '../support/browser.js';

/** axe-core's browser build, run in the page by the test as a browser extension would run it. */
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface Violation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly targets: string[];
}

/** Runs axe over the whole page as it is now. */
async function violationsOf(person: Person): Promise<Violation[]> {
  // A string is evaluated as a script of its own (no eval in the page, so the page's CSP is not bent).
  if (!(await person.page.evaluate(() => 'axe' in window))) await person.page.evaluate(AXE_SOURCE);
  return person.page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(): Promise<{ violations: unknown[] }> } }).axe;
    const result = await axe.run();
    return (
      result.violations as Array<{
        id: string;
        impact: string | null;
        help: string;
        nodes: Array<{ target: string[] }>;
      }>
    ).map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.map((n) => n.target.join(' ')),
    }));
  });
}

/** The serious and critical violations; the others are printed. */
async function seriousOf(person: Person, where: string): Promise<Violation[]> {
  const all = await violationsOf(person);
  const minor = all.filter((v) => v.impact !== 'serious' && v.impact !== 'critical');
  if (minor.length > 0) console.log(`${where}: minor accessibility findings`, JSON.stringify(minor));
  return all.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

let chat: BrowserStack;
let ann: Person;
let bob: Person;

beforeAll(async () => {
  chat = await startBrowserStack();
  ann = await chat.open('ann');
  bob = await chat.open('bob', { phone: true });
  await waitConnected(ann);
  await waitConnected(bob);
});

afterAll(async () => {
  await chat?.stop();
});

describe('the chat page passes axe-core with no serious or critical violation', () => {
  it('in the room, on a desktop and on a phone', async () => {
    await send(ann, 'Hello everyone.');
    await send(bob, 'Hello from the phone.');
    expect(await seriousOf(ann, 'room, desktop')).toEqual([]);
    expect(await seriousOf(bob, 'room, phone')).toEqual([]);
  });

  it('in a private conversation', async () => {
    await sidebarButton(ann, /^bob Message privately/).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await sidebarButton(ann, /^bob Message privately/).click();
    await send(ann, 'A word in private.');
    expect(await seriousOf(ann, 'private conversation, desktop')).toEqual([]);
  });

  it('in a group', async () => {
    await ann.page.getByLabel('Group name to join or create').fill('a11y');
    await ann.page.getByLabel('Group name to join or create').press('Enter');
    await send(ann, 'In the group.');
    expect(await seriousOf(ann, 'group, desktop')).toEqual([]);
  });

  it('with a reaction, a reply and the reaction picker open', async () => {
    const message = ann.page.locator('.messages .msg', {
      has: ann.page.locator('.bubble', { hasText: 'In the group.' }),
    });
    await message.getByRole('button', { name: 'Add reaction' }).click();
    await message.getByRole('button', { name: 'heart' }).click();
    await message.locator('.reaction.mine').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await message.getByRole('button', { name: 'Reply' }).click();
    await send(ann, 'A reply.');
    await ann.page.locator('.reply-quote').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await message.getByRole('button', { name: 'Reply' }).click();
    await message.getByRole('button', { name: 'Add reaction' }).click();
    await message.getByRole('group', { name: 'Choose a reaction' }).waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(await seriousOf(ann, 'reactions and replies, desktop')).toEqual([]);
  });

  it('with the mention list open in the text box and the group’s rename form open: nothing at all there', async () => {
    await ann.page.getByRole('button', { name: 'Rename or set topic' }).click();
    await ann.page.getByLabel('Title').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await composer(ann).pressSequentially('@b');
    const options = ann.page.getByRole('listbox', { name: 'People to mention' }).getByRole('option');
    await options.first().waitFor({ timeout: SHOW_TIMEOUT_MS });
    const all = await violationsOf(ann);
    // Not even a minor finding on the text box, its list or the form.
    const here = all.filter((v) =>
      v.targets.some((t) => /composer-input|mention|group-edit|group-title|group-topic/.test(t)),
    );
    expect(here).toEqual([]);
    expect(all.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
    await composer(ann).press('Escape');
    await composer(ann).fill('');
  });
});
