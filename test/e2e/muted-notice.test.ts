/**
 * A muted person is told once, in the page's words, in Chromium against the whole local stack with sign-in: a
 * reaction refused for the mute adds no second banner under the line about the mute, and no time shows as
 * the server writes it (`2026-12-08T05:50:18.153Z`). The refusal is seen arriving on the page's WebSocket, and
 * an answer that comes after it on the same connection is waited for before anything is said to be absent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserStack,
  delivered,
  type Person,
  problemsOf,
  SHOW_TIMEOUT_MS,
  send,
  showActions,
  signInOnPage,
  startBrowserStack,
} from '../support/browser.js';

/** A time as the server writes it. */
const ISO_TIME = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

const messageItem = (person: Person, text: string) =>
  person.page.locator('.messages .msg:not(.pending)', { hasText: text });

let chat: BrowserStack;
let mona: Person;
let bob: Person;
/** The text frames bob's page received over its WebSockets. */
const bobFrames: string[] = [];

beforeAll(async () => {
  chat = await startBrowserStack({ env: { CHAT_AUTH: 'entra' } });
  mona = await chat.open('mona', { query: '' });
  bob = await chat.open('bob', {
    query: '',
    beforeLoad: (person) => {
      person.page.on('websocket', (socket) =>
        socket.on('framereceived', ({ payload }) => {
          if (typeof payload === 'string') bobFrames.push(payload);
        }),
      );
    },
  });
  await signInOnPage(mona, 'Mona', ['Moderator']);
  await signInOnPage(bob, 'Bob');
});

afterAll(async () => {
  await chat?.stop();
});

describe('a muted person', () => {
  it('reads one notice of the mute when a reaction is refused, with its end in local time', async () => {
    await send(mona, 'react to this if you can');
    await send(bob, 'something to mute me for');
    const bobs = messageItem(mona, 'something to mute me for');
    await showActions(mona, bobs);
    await bobs.getByRole('button', { name: 'More actions' }).click();
    await bobs.getByRole('button', { name: 'Mute user Bob for an hour…' }).click();
    await bobs.getByTestId('confirm-mute').click();
    const muted = bob.page.getByTestId('muted');
    await muted.waitFor({ timeout: SHOW_TIMEOUT_MS });

    const monas = messageItem(bob, 'react to this if you can');
    await showActions(bob, monas);
    await monas.getByRole('button', { name: 'Add reaction' }).click();
    await monas.getByRole('button', { name: 'thumbs up' }).click();
    await expect
      .poll(() => bobFrames.some((f) => f.includes('"code":"muted"')), { timeout: SHOW_TIMEOUT_MS })
      .toBe(true);
    // An answer after the refusal, on the same connection: once it shows, the refusal was taken in too.
    await bob.page.getByRole('button', { name: 'Browse channels' }).click();
    await bob.page.getByText('No channels yet.').waitFor({ timeout: SHOW_TIMEOUT_MS });

    await expect(muted.count()).resolves.toBe(1);
    await expect(bob.page.locator('main [role="alert"]').count()).resolves.toBe(0);
    const main = (await bob.page.locator('main').textContent()) ?? '';
    expect(main).not.toMatch(ISO_TIME);
    expect(await muted.textContent()).toContain('muted you until');
    // Nothing was reacted.
    await expect(monas.locator('.reaction-list').count()).resolves.toBe(0);
    await delivered(bob, 'something to mute me for').waitFor({ timeout: SHOW_TIMEOUT_MS });
    for (const person of [mona, bob])
      expect(problemsOf(person)).toEqual({ name: person.name, errors: [], dialogs: [], csp: [] });
  });
});
