/**
 * Reactions and replies in Chromium against the whole local stack with Web PubSub on: ann over SignalR on a
 * desktop viewport, bob over Azure Web PubSub on a 390 px phone, so each reaction and reply crosses from one
 * service to the other; a third user, cy, writes enough from a plain client to push the message replied to
 * onto an older history page, which a click on the quote then loads. Screenshots go to test-results/e2e/.
 * Every wait is for something the page shows.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_HISTORY_LIMIT } from '../../src/lib/conversation.js';
import type { ChatMessage } from '../../src/lib/history/index.js';
import {
  type BrowserStack,
  composer,
  delivered,
  horizontalOverflow,
  type Person,
  problemsOf,
  SCREENSHOTS,
  SHOW_TIMEOUT_MS,
  send,
  showActions,
  startBrowserStack,
  waitConnected,
} from '../support/browser.js';
import { type ChatClient, connectChat, isMessage } from '../support/chat-clients.js';

let chat: BrowserStack;
let ann: Person;
let bob: Person;
let cy: ChatClient;

const LUNCH = 'Lunch at noon?';

async function screenshot(person: Person, what: string): Promise<void> {
  const file = `reactions-${what}-${person.name}-${person.phone ? 'phone' : 'desktop'}.png`;
  await person.page.screenshot({ path: join(SCREENSHOTS, file), animations: 'disabled' });
}

/** A delivered message of the open conversation, as a list item, by its text. */
function messageItem(person: Person, text: string): Locator {
  return person.page.locator('.messages .msg:not(.pending)', {
    has: person.page.locator('.bubble', { hasText: text }),
  });
}

/** The reaction button of an emoji under a message (its name says the emoji, the count and who). */
function reaction(person: Person, text: string, name: RegExp): Locator {
  return messageItem(person, text).locator('.reaction-list').getByRole('button', { name });
}

beforeAll(async () => {
  chat = await startBrowserStack({ webPubSub: true });
});

afterAll(async () => {
  await cy?.close();
  await chat?.stop();
});

describe('reactions and replies in Chromium', () => {
  it('carries a reaction from the phone to the desktop and back, toggled by a click', async () => {
    ann = await chat.open('ann');
    bob = await chat.open('bob', { phone: true, query: '?name=bob&service=webpubsub' });
    await Promise.all([waitConnected(ann), waitConnected(bob)]);
    await send(ann, LUNCH);
    await delivered(bob, LUNCH).waitFor({ timeout: SHOW_TIMEOUT_MS });

    // Bob picks 👍 with the keyboard: the picker opens on its first choice; arrows move, Enter picks.
    const lunch = messageItem(bob, LUNCH);
    await showActions(bob, lunch);
    await lunch.getByRole('button', { name: 'Add reaction' }).click();
    const picker = lunch.getByRole('group', { name: 'Choose a reaction' });
    await picker.getByRole('button', { name: 'thumbs up' }).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await bob.page.keyboard.press('ArrowRight');
    await bob.page.keyboard.press('ArrowLeft');
    await bob.page.keyboard.press('Enter');
    await expect(picker.count()).resolves.toBe(0);
    await reaction(ann, LUNCH, /thumbs up .*1 reaction: bob$/).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await reaction(bob, LUNCH, /thumbs up .*1 reaction: you/).waitFor({ timeout: SHOW_TIMEOUT_MS });

    // Ann adds hers by clicking the count: pressed for her, two for both.
    await reaction(ann, LUNCH, /thumbs up/).click();
    const both = reaction(ann, LUNCH, /thumbs up .*2 reactions: bob, you/);
    await both.waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect(both.getAttribute('aria-pressed')).resolves.toBe('true');
    await reaction(bob, LUNCH, /2 reactions: you, ann/).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await screenshot(ann, 'reacted');
    await screenshot(bob, 'reacted');

    // A second emoji, and taken back with a second click.
    await messageItem(ann, LUNCH).getByRole('button', { name: 'Add reaction' }).click();
    await messageItem(ann, LUNCH).getByRole('button', { name: 'party' }).click();
    await reaction(bob, LUNCH, /party .*1 reaction: ann/).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await reaction(ann, LUNCH, /party/).click();
    await expect.poll(() => reaction(bob, LUNCH, /party/).count(), { timeout: SHOW_TIMEOUT_MS }).toBe(0);
  });

  it('sends a reply with its quote from the phone, cancelled once with Escape', async () => {
    const lunch = messageItem(bob, LUNCH);
    await showActions(bob, lunch);
    await lunch.getByRole('button', { name: 'Reply' }).click();
    const draft = bob.page.locator('[data-testid="reply-draft"]');
    await draft.getByText(LUNCH).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await composer(bob).press('Escape');
    await expect(draft.count()).resolves.toBe(0);

    await showActions(bob, lunch);
    await lunch.getByRole('button', { name: 'Reply' }).click();
    await draft.waitFor({ timeout: SHOW_TIMEOUT_MS });
    await send(bob, 'Yes, see you there');
    await expect(draft.count()).resolves.toBe(0);
    const reply = messageItem(ann, 'Yes, see you there');
    await reply
      .getByRole('button', { name: `In reply to You ${LUNCH}` })
      .waitFor({ timeout: SHOW_TIMEOUT_MS });
    await screenshot(bob, 'replied');
    await screenshot(ann, 'replied');
  });

  it('goes from a quote to the message it answers, loading older history until it is there', async () => {
    // Cy pushes the lunch message back past one page of history, then answers it.
    cy = await connectChat(chat.stack.functionsUrl, 'cy', 'signalr');
    await cy.send('loadHistory', { conversation: 'room', limit: 10 });
    const page = await cy.waitFor((e) => e.type === 'history');
    const lunch = (page.payload.messages as ChatMessage[]).find((m) => m.text === LUNCH) as ChatMessage;
    // Faster than the command limit allows: a refused send waits as long as the answer says, then goes again.
    const sendPaced = async (payload: { text: string; clientMessageId: string; replyTo?: string }) => {
      for (;;) {
        const mark = (cy as ChatClient).events.length;
        await (cy as ChatClient).send('sendMessage', payload);
        const answer = await (cy as ChatClient).waitFor(
          (e) => isMessage(payload.text)(e) || e.type === 'error',
          mark,
        );
        if (answer.type !== 'error') return;
        expect((answer.payload as { code: string }).code).toBe('rate-limited');
        await sleep((answer.payload as { retryAfterMs?: number }).retryAfterMs ?? 100);
      }
    };
    for (let i = 1; i <= DEFAULT_HISTORY_LIMIT + 5; i += 1) {
      await sendPaced({ text: `filler ${i}`, clientMessageId: `filler-${i}` });
    }
    await sendPaced({
      text: 'Back to lunch: who is in?',
      clientMessageId: 'back-to-lunch',
      replyTo: lunch.id,
    });
    await delivered(ann, 'Back to lunch').waitFor({ timeout: SHOW_TIMEOUT_MS });

    for (const person of [ann, bob]) {
      await person.page.reload();
      await waitConnected(person);
      await delivered(person, 'Back to lunch').waitFor({ timeout: SHOW_TIMEOUT_MS });
      await expect(delivered(person, LUNCH).count()).resolves.toBe(0);
      await messageItem(person, 'Back to lunch').locator('.reply-quote').click();
      const target = person.page.locator('.messages .msg.jump-target', { hasText: LUNCH });
      await target.waitFor({ timeout: SHOW_TIMEOUT_MS });
      await expect(target.isVisible()).resolves.toBe(true);
      // The reactions came with the older page.
      await reaction(person, LUNCH, /thumbs up .*2 reactions/).waitFor({ timeout: SHOW_TIMEOUT_MS });
      await screenshot(person, 'jumped');
    }
    await expect(horizontalOverflow(bob)).resolves.toBe(0);
  });

  it("quotes a message as it reads, without its Markdown's marks, in the draft and in the reply", async () => {
    const typed = 'Meet at **the café**, see [the map](https://example.com/map) and `room 4`';
    const reads = 'Meet at the café, see the map and room 4';
    await composer(ann).fill(typed);
    await composer(ann).press('Enter');
    await delivered(bob, 'Meet at the café').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await showActions(bob, messageItem(bob, 'Meet at the café'));
    await messageItem(bob, 'Meet at the café').getByRole('button', { name: 'Reply' }).click();
    const draft = bob.page.locator('[data-testid="reply-draft"] .reply-draft-quote');
    await expect.poll(() => draft.textContent(), { timeout: SHOW_TIMEOUT_MS }).toBe(reads);
    await send(bob, 'On my way');
    const quote = messageItem(ann, 'On my way').locator('.reply-quote-text');
    await expect.poll(() => quote.textContent(), { timeout: SHOW_TIMEOUT_MS }).toBe(reads);
    // Still text: the quote holds no link, bold or code of its own.
    expect(await quote.locator('a, strong, code').count()).toBe(0);
  });

  it('ran without page errors, dialogs or Content-Security-Policy violations', () => {
    for (const person of chat.people) {
      expect(problemsOf(person)).toEqual({ name: person.name, errors: [], dialogs: [], csp: [] });
    }
  });
});
