/**
 * A group that someone else puts me in shows as mine from its first moment, in Chromium against the whole local
 * stack: bob (SignalR) is added to a private group by its owner, cy (Web PubSub) is named when a group is
 * created, and dee's page hears a join of dee's other connection. Each page records every state of the group's
 * sidebar entry, of the "Seen" chips, of the conversation's header and of the composer, from before the change
 * until it shows as a member's, and opens the group the moment it is listed (as someone clicking at once
 * would): no recorded state may be a non-member's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserStack,
  delivered,
  type Person,
  problemsOf,
  SHOW_TIMEOUT_MS,
  startBrowserStack,
  waitConnected,
} from '../support/browser.js';
import { type ChatClient, connectChat, isGroupRecord, isMessage } from '../support/chat-clients.js';

let chat: BrowserStack;
let ann: ChatClient;
let bob: Person;
let cy: Person;
let dee: Person;

/**
 * What a page shows to someone who is not in a group: the sidebar's tag, its chips, the header's subtitle and
 * button, the composer's placeholder, the message list's note, a refused read.
 */
const NOT_A_MEMBER = /not a member|not in this|Join (group|channel)|Join the|Only members|members can read/;

/**
 * Starts recording, in the person's page, every state of what it shows about `group` (listed under its title,
 * the group's name here), and opens the group as soon as it is listed.
 */
async function recordStates(person: Person, group: string): Promise<void> {
  await person.page.evaluate((name) => {
    const states: string[] = [];
    (window as unknown as { recorded: string[] }).recorded = states;
    const take = () => {
      const entry = Array.from(
        document.querySelectorAll<HTMLButtonElement>(
          '#sidebar nav[aria-labelledby="conversations-heading"] button.conv',
        ),
      ).find((button) => button.querySelector('.conv-name')?.textContent === name);
      const chips = Array.from(document.querySelectorAll('.suggested .chip'))
        .map((chip) => chip.getAttribute('aria-label') ?? '')
        .filter((label) => label.endsWith(` ${name}`));
      const open = entry?.getAttribute('aria-current') === 'page';
      const state = JSON.stringify({
        entry: entry?.textContent?.trim() ?? null,
        chips,
        head: open ? document.querySelector('.conversation-head')?.textContent?.trim() : null,
        composer: open ? document.querySelector('#composer-input')?.getAttribute('placeholder') : null,
        list: open ? document.querySelector('.history-start')?.textContent?.trim() : null,
        error: open ? document.querySelector('.composer-error[role="alert"]')?.textContent?.trim() : null,
      });
      if (states.at(-1) !== state) states.push(state);
      if (entry && !open) entry.click();
    };
    take();
    new MutationObserver(take).observe(document.body, {
      subtree: true,
      childList: true,
      characterData: true,
      attributes: true,
    });
  }, group);
}

/**
 * Waits until the page shows the open group as a member's (its subtitle, and `text` from its history when
 * given), then returns every recorded state.
 */
async function statesUntilMember(person: Person, subtitle: string, text?: string): Promise<string[]> {
  await person.page
    .locator('.conversation-titles .conversation-sub', { hasText: subtitle })
    .waitFor({ timeout: SHOW_TIMEOUT_MS });
  if (text !== undefined) await delivered(person, text).waitFor({ timeout: SHOW_TIMEOUT_MS });
  return person.page.evaluate(() => (window as unknown as { recorded: string[] }).recorded);
}

beforeAll(async () => {
  chat = await startBrowserStack();
  [bob, cy, dee] = await Promise.all([
    chat.open('bob'),
    chat.open('cy', { query: '?name=cy&service=webpubsub' }),
    chat.open('dee'),
  ]);
  await Promise.all([bob, cy, dee].map((p) => waitConnected(p)));
  ann = await connectChat(chat.stack.functionsUrl, 'ann', 'signalr');
});

afterAll(async () => {
  await ann?.close();
  await chat?.stop();
});

describe('a group someone else puts me in, in Chromium', () => {
  it('shows an added member the group as theirs from the moment it is listed', async () => {
    await ann.send('createGroup', { group: 'plans', kind: 'private', members: [] });
    await ann.waitFor(isGroupRecord('plans'));
    await ann.send('sendMessage', { group: 'plans', text: 'before bob came' });
    await ann.waitFor(isMessage('before bob came'));
    await recordStates(bob, 'plans');
    await ann.send('addMember', { group: 'plans', user: 'bob' });
    // Its history is read as soon as the group is his, and nothing refuses it.
    const states = await statesUntilMember(bob, 'Private group', 'before bob came');
    expect(states.some((s) => s.includes('"entry":"plans'))).toBe(true);
    expect(states.filter((s) => NOT_A_MEMBER.test(s))).toEqual([]);
  });

  it('shows a member named at the creation the group as theirs from the moment it is listed', async () => {
    await recordStates(cy, 'trip');
    await ann.send('createGroup', { group: 'trip', kind: 'private', members: ['cy'] });
    const states = await statesUntilMember(cy, 'Private group');
    expect(states.some((s) => s.includes('"entry":"trip'))).toBe(true);
    expect(states.filter((s) => NOT_A_MEMBER.test(s))).toEqual([]);
  });

  it('shows a channel joined on another connection of mine as mine from the moment it is listed', async () => {
    await ann.send('createGroup', { group: 'news', kind: 'channel', members: [] });
    await ann.waitFor(isGroupRecord('news'));
    await ann.send('sendMessage', { group: 'news', text: 'before dee came' });
    await ann.waitFor(isMessage('before dee came'));
    await recordStates(dee, 'news');
    const deeElsewhere = await connectChat(chat.stack.functionsUrl, 'dee', 'webpubsub');
    await deeElsewhere.send('joinGroup', { group: 'news' });
    const states = await statesUntilMember(dee, 'Channel', 'before dee came');
    await deeElsewhere.close();
    expect(states.some((s) => s.includes('"entry":"news'))).toBe(true);
    expect(states.filter((s) => NOT_A_MEMBER.test(s))).toEqual([]);
  });

  it('ran without page errors, dialogs or Content-Security-Policy violations', () => {
    for (const person of [bob, cy, dee]) {
      expect(problemsOf(person)).toEqual({ name: person.name, errors: [], dialogs: [], csp: [] });
    }
  });
});
