/**
 * The chat page in Debian's Chromium (through playwright-core, no browser download) against the whole local
 * stack: real Azurite, the local SignalR service and the Functions host (test/support/stack.ts).
 *
 * One story, step by step, with a screenshot of each step in test-results/e2e/ (git-ignored): ann on a
 * desktop viewport, bob on a phone viewport, dave over Azure Web PubSub. Every wait is for something the
 * page shows (no sleeps, no timed assertions).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatServices } from '../../src/app/services.js';
import {
  type BrowserStack,
  composer,
  conversationButton,
  DESKTOP,
  delivered,
  type Person,
  problemsOf,
  SCREENSHOTS,
  SHOW_TIMEOUT_MS,
  send,
  showSidebar,
  sidebarButton,
  startBrowserStack,
  status,
  waitConnected,
} from '../support/browser.js';

/** Reconnecting after the service restart may go through a few backoff steps (capped at 30 s each). */
const RECONNECT_TIMEOUT_MS = 60_000;
/** Messages seeded into a long conversation: more than two pages of 50. */
const LONG_HISTORY = 120;

let chat: BrowserStack;
let step = 0;

async function screenshot(person: Person, what: string): Promise<void> {
  step += 1;
  const file = `${String(step).padStart(2, '0')}-${what}-${person.name}-${person.phone ? 'phone' : 'desktop'}.png`;
  // 'disabled' finishes CSS transitions first (the phone drawer slides in).
  await person.page.screenshot({ path: join(SCREENSHOTS, file), animations: 'disabled' });
}

/**
 * Opens the page for `name`. With `transports`, every exchange with the service's `/client/` endpoint is
 * recorded there as the transport it belongs to: `websocket`, `event-stream` (GET, Accept text/event-stream),
 * `poll` (another GET) or `send` (POST).
 */
function open(
  name: string,
  options: {
    phone?: boolean;
    query?: string;
    transports?: string[];
    framesSent?: Array<string | Buffer>;
  } = {},
): Promise<Person> {
  const { framesSent, transports: record } = options;
  return chat.open(name, {
    phone: options.phone,
    query: options.query,
    beforeLoad: ({ page }) => {
      if (framesSent)
        page.on('websocket', (ws) => ws.on('framesent', (frame) => framesSent.push(frame.payload)));
      if (!record) return;
      const client = `${chat.stack.serviceUrl}/client/?`;
      page.on('websocket', (ws) => {
        if (ws.url().startsWith(client.replace(/^http/, 'ws'))) record.push('websocket');
      });
      page.on('request', (request) => {
        if (!request.url().startsWith(client)) return;
        if (request.method() === 'POST') record.push('send');
        else if (request.method() === 'GET') {
          record.push(request.headers().accept?.includes('text/event-stream') ? 'event-stream' : 'poll');
        }
      });
    },
  });
}

/** Records every connection state the page shows from now on, in `window.statusSeen`. */
async function recordStatus(person: Person): Promise<void> {
  await person.page.evaluate(() => {
    const pill = document.querySelector<HTMLElement>('.status-pill');
    if (!pill) throw new Error('no connection status on the page');
    const seen = [pill.dataset.status ?? ''];
    (window as unknown as { statusSeen: string[] }).statusSeen = seen;
    new MutationObserver(() => seen.push(pill.dataset.status ?? '')).observe(pill, {
      attributes: true,
      attributeFilter: ['data-status'],
    });
  });
}

function conversationTitle(person: Person): Locator {
  return person.page.locator('#conversation-title');
}

beforeAll(async () => {
  chat = await startBrowserStack();
});

afterAll(async () => {
  await chat?.stop();
});

describe('the chat page in Chromium', () => {
  let ann: Person;
  let bob: Person;

  it('asks for a name when none is given, then enters the chat with it', async () => {
    ann = await open('ann', { query: '' });
    const nameInput = ann.page.getByLabel('Your name');
    await nameInput.waitFor();
    await expect(ann.page.getByTestId('unverified').textContent()).resolves.toContain(
      'Names are not verified',
    );
    await screenshot(ann, 'name-prompt');
    // A name the server would refuse is explained where it is typed, and nothing is submitted.
    await nameInput.fill('ann<script>');
    await ann.page.getByRole('button', { name: 'Enter the chat' }).click();
    await expect(ann.page.locator('#name-error').textContent()).resolves.toContain('letters, digits');
    await nameInput.fill('ann');
    await Promise.all([ann.page.waitForURL(/[?&]name=ann\b/), nameInput.press('Enter')]);
    await waitConnected(ann);
    await expect(ann.page.locator('.whoami-name').textContent()).resolves.toContain('ann');
    // Without sign-in the page says plainly that a name is only a claim.
    await expect(ann.page.getByTestId('unverified').textContent()).resolves.toContain(
      'Names are not verified',
    );
    expect(await ann.page.getByTestId('sign-out').count()).toBe(0);
    // The welcome arrived: the room's (empty) history is shown.
    await ann.page.getByText('No messages yet').waitFor({ timeout: SHOW_TIMEOUT_MS });
    // On a fresh page the first Tab reaches the skip link, which leads straight to the message box.
    await ann.page.keyboard.press('Tab');
    await expect(ann.page.evaluate(() => document.activeElement?.textContent?.trim())).resolves.toBe(
      'Skip to the message box',
    );
    await ann.page.keyboard.press('Enter');
    await expect(ann.page.evaluate(() => document.activeElement?.id)).resolves.toBe('composer-input');
    await screenshot(ann, 'entered');
  });

  it('lets two people chat in the room', async () => {
    bob = await open('bob', { phone: true });
    await waitConnected(bob);
    // ann sees bob arrive (presence) without reloading.
    await sidebarButton(ann, /bob/).waitFor({ timeout: SHOW_TIMEOUT_MS });

    await send(ann, 'Hello bob, welcome to the room!');
    await delivered(bob, 'Hello bob, welcome to the room!').waitFor({ timeout: SHOW_TIMEOUT_MS });
    // Shift+Enter starts a new line; Enter sends.
    await composer(bob).fill('Hi ann, glad to be here: café at 9?');
    await composer(bob).press('Shift+Enter');
    await composer(bob).pressSequentially('This is a second line.');
    await composer(bob).press('Enter');
    const fromBob = delivered(ann, 'glad to be here');
    await fromBob.waitFor({ timeout: SHOW_TIMEOUT_MS });
    // The new line is in the text, and the sender's name and a time are shown.
    await expect(fromBob.textContent()).resolves.toBe(
      'Hi ann, glad to be here: café at 9?\nThis is a second line.',
    );
    const bobsMessage = ann.page.locator('.messages .msg', { hasText: 'glad to be here' });
    await expect(bobsMessage.locator('.msg-from').textContent()).resolves.toBe('bob');
    await expect(bobsMessage.locator('time').getAttribute('datetime')).resolves.toMatch(/^\d{4}-\d\d-\d\dT/);
    // Own messages are set apart.
    await expect(
      ann.page.locator('.msg.mine', { hasText: 'Hello bob, welcome to the room!' }).count(),
    ).resolves.toBe(1);

    await screenshot(ann, 'room-chat');
    await screenshot(bob, 'room-chat');
  });

  it('names every control and tells screen readers what arrives', async () => {
    // Every control has a name a screen reader can say.
    for (const person of [ann, bob]) {
      const unnamed = await person.page.locator('button, input, textarea').evaluateAll((elements) =>
        elements
          .filter((el) => {
            const labelled = el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
            const labels = (el as HTMLInputElement).labels;
            return !labelled && !(labels && labels.length > 0) && !el.textContent?.trim();
          })
          .map((el) => el.outerHTML.slice(0, 80)),
      );
      expect(unnamed).toEqual([]);
    }
    // A new message from someone else is read out (the list itself is not a live region: history would flood it).
    await send(bob, 'Can you hear me?');
    await expect
      .poll(() => ann.page.locator('#announcer').textContent(), { timeout: SHOW_TIMEOUT_MS })
      .toBe('bob in the room: Can you hear me?');
  });

  it('counts down near the 4000-character limit and refuses to send past it', async () => {
    const counter = ann.page.locator('#composer-counter');
    const sendButton = ann.page.getByRole('button', { name: 'Send message' });
    await composer(ann).fill('x'.repeat(3990));
    await expect(counter.textContent()).resolves.toContain('10 characters left');
    await expect(sendButton.isEnabled()).resolves.toBe(true);
    await composer(ann).fill('x'.repeat(4001));
    await expect(counter.textContent()).resolves.toContain('1 character too many');
    await expect(sendButton.isDisabled()).resolves.toBe(true);
    await screenshot(ann, 'too-long');
    // Enter does not send it either: the text stays in the box.
    await composer(ann).press('Enter');
    await expect(composer(ann).inputValue()).resolves.toHaveLength(4001);
    await composer(ann).fill('');
    await expect(counter.count()).resolves.toBe(0);
  });

  it('shows <img src=x onerror=alert(1)> as text and runs nothing', async () => {
    const attack = '<img src=x onerror=alert(1)>';
    await send(ann, attack);
    await delivered(bob, attack).waitFor({ timeout: SHOW_TIMEOUT_MS });
    // One more round trip, so an image error handler (if any had been created) would have fired by now.
    await send(bob, 'That did nothing, good.');
    await delivered(ann, 'That did nothing, good.').waitFor({ timeout: SHOW_TIMEOUT_MS });
    for (const person of [ann, bob]) {
      await expect(delivered(person, attack).textContent()).resolves.toBe(attack);
      await expect(person.page.locator('.messages img').count()).resolves.toBe(0);
      expect(person.dialogs).toEqual([]);
    }
    await screenshot(ann, 'markup-as-text');
  });

  it('has a group conversation, with an unread mark for the member looking elsewhere', async () => {
    // A name the server would refuse is explained next to the form.
    await ann.page.getByLabel('Group name to join or create').fill('hikers/2');
    await ann.page.getByLabel('Group name to join or create').press('Enter');
    await expect(ann.page.locator('#join-group-error').textContent()).resolves.toContain('letters, digits');
    // ann creates the group from the sidebar form.
    await ann.page.getByLabel('Group name to join or create').fill('hikers');
    await ann.page.getByLabel('Group name to join or create').press('Enter');
    await expect(conversationTitle(ann).textContent()).resolves.toContain('hikers');
    await conversationButton(ann, /hikers/).waitFor();

    // bob joins from the phone drawer, then goes back to the room.
    await showSidebar(bob);
    await bob.page.getByLabel('Group name to join or create').fill('hikers');
    await bob.page.getByRole('button', { name: 'Join', exact: true }).click();
    await bob.page
      .locator('.note', { hasText: 'joined the channel' })
      .first()
      .waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect(conversationTitle(bob).textContent()).resolves.toContain('hikers');
    await showSidebar(bob);
    await sidebarButton(bob, /^Room/).click();
    await expect(conversationTitle(bob).textContent()).resolves.toContain('Room');

    await send(ann, 'Saturday: the ridge trail, 8 am?');
    await screenshot(ann, 'group');
    // bob is in the room: the group gets an unread mark, and the message is in the group, not the room.
    await showSidebar(bob);
    const bobsGroup = conversationButton(bob, /hikers/);
    await bobsGroup.locator('.badge').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect(bobsGroup.locator('.badge').textContent()).resolves.toBe('1');
    await screenshot(bob, 'group-unread');
    await expect(delivered(bob, 'Saturday: the ridge trail').count()).resolves.toBe(0);
    await bobsGroup.click();
    await delivered(bob, 'Saturday: the ridge trail, 8 am?').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await send(bob, 'Count me in.');
    await delivered(ann, 'Count me in.').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await screenshot(bob, 'group');
  });

  it('sends a private message to a person chosen from the online list', async () => {
    await sidebarButton(ann, /bob Message privately/).click();
    await expect(conversationTitle(ann).textContent()).resolves.toContain('bob');
    await send(ann, 'Psst, bring the good map.');
    await screenshot(ann, 'private');

    await showSidebar(bob);
    const fromAnn = bob.page.locator('#sidebar').getByRole('button', { name: /^ann(?! Message)/ });
    await fromAnn.locator('.badge').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await screenshot(bob, 'private-unread');
    await fromAnn.click();
    await delivered(bob, 'Psst, bring the good map.').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await send(bob, 'Will do.');
    await delivered(ann, 'Will do.').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await screenshot(bob, 'private');
  });

  it('shows the history after a reload, in the conversation that was open', async () => {
    await bob.page.reload();
    await waitConnected(bob);
    // The private conversation bob had open is open again, with its history.
    await delivered(bob, 'Psst, bring the good map.').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await delivered(bob, 'Will do.').waitFor({ timeout: SHOW_TIMEOUT_MS });
    // The room's history came with the welcome.
    await showSidebar(bob);
    await sidebarButton(bob, /^Room/).click();
    await delivered(bob, 'Hello bob, welcome to the room!').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await delivered(bob, '<img src=x onerror=alert(1)>').waitFor({ timeout: SHOW_TIMEOUT_MS });
    // Groups come back with the welcome too, and their history loads when opened.
    await showSidebar(bob);
    await conversationButton(bob, /hikers/).click();
    await delivered(bob, 'Count me in.').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await screenshot(bob, 'reloaded');
    await showSidebar(bob);
    await sidebarButton(bob, /^Room/).click();
  });

  it('reconnects by itself after the service restarts and shows what was said meanwhile', async () => {
    await ann.page.locator('#sidebar').getByRole('button', { name: /^Room/ }).click();
    // Keep ann away from the service a little longer than bob (her negotiate calls fail), so bob can talk
    // while she is disconnected. Everything else is real: the service really restarts and drops everyone.
    await ann.context.route('**/api/negotiate**', (route) => route.abort('connectionrefused'));
    const annLost = ann.page
      .locator('.status-pill:not([data-status="connected"])')
      .waitFor({ timeout: SHOW_TIMEOUT_MS });
    await chat.stack.restartService();
    await annLost;
    await waitConnected(bob, RECONNECT_TIMEOUT_MS);
    await expect(status(ann).getAttribute('data-status')).resolves.not.toBe('connected');
    // What ann writes while offline waits on her page, marked as sending.
    await composer(ann).fill('Typed while offline.');
    await composer(ann).press('Enter');
    await ann.page.locator('.msg.pending', { hasText: 'Typed while offline.' }).waitFor();
    await screenshot(ann, 'disconnected');

    await send(bob, 'Anyone still here after that restart?');
    await screenshot(bob, 'after-restart');

    await ann.context.unroute('**/api/negotiate**');
    await waitConnected(ann, RECONNECT_TIMEOUT_MS);
    await delivered(ann, 'Anyone still here after that restart?').waitFor({ timeout: SHOW_TIMEOUT_MS });
    // The waiting message went out once the link was back, and arrived once.
    await delivered(ann, 'Typed while offline.').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await delivered(bob, 'Typed while offline.').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect(ann.page.locator('.msg.pending').count()).resolves.toBe(0);
    await send(ann, 'Back again!');
    await delivered(bob, 'Back again!').waitFor({ timeout: SHOW_TIMEOUT_MS });
    for (const person of [ann, bob]) {
      await expect(delivered(person, 'Typed while offline.').count()).resolves.toBe(1);
    }
    await screenshot(ann, 'reconnected');
  });

  it('shows a message sent while the Functions host is down as sending, then as sent once it is stored', async () => {
    await waitConnected(ann, RECONNECT_TIMEOUT_MS);
    await waitConnected(bob, RECONNECT_TIMEOUT_MS);
    // Down for a few seconds, as in a deployment or an instance recycle: the service holds the page's
    // connection, but cannot hand the message to the app.
    const restarted = chat.stack.restartFunctions(4000);
    await composer(ann).fill('Written while the app was away.');
    await composer(ann).press('Enter');
    const pending = ann.page.locator('.msg.pending[data-status="sending"]', {
      hasText: 'Written while the app was away.',
    });
    await pending.waitFor({ timeout: SHOW_TIMEOUT_MS });
    await screenshot(ann, 'sending-while-app-down');
    await restarted;
    // The page resends it (same clientMessageId) until the app acknowledges it; then it shows as sent, once.
    const sent = ann.page.locator('.messages .msg[data-status="sent"] .bubble', {
      hasText: 'Written while the app was away.',
    });
    await sent.waitFor({ timeout: RECONNECT_TIMEOUT_MS });
    await expect(pending.count()).resolves.toBe(0);
    await expect(sent.count()).resolves.toBe(1);
    await delivered(bob, 'Written while the app was away.').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect(delivered(bob, 'Written while the app was away.').count()).resolves.toBe(1);
    await screenshot(ann, 'sent-after-app-back');
  });

  it('refuses to be framed by another origin, with its CSP, X-Frame-Options and nosniff', async () => {
    const response = await fetch(`${chat.stack.homeUrl}?name=eve`);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self' 'unsafe-eval'");
    expect(csp).toContain(
      `connect-src 'self' ${chat.stack.serviceUrl} ${chat.stack.serviceUrl.replace('http:', 'ws:')}`,
    );
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const missing = await fetch(`${chat.stack.functionsUrl}/api/assets/no-such-file.js`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-content-type-options')).toBe('nosniff');

    // Another origin (another port) that puts the chat in an iframe.
    const framer = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><title>framer</title><iframe src="${chat.stack.homeUrl}?name=eve"></iframe>`);
    });
    await new Promise<void>((resolve) => framer.listen(0, '127.0.0.1', resolve));
    const context = await chat.browser.newContext(DESKTOP);
    try {
      const page = await context.newPage();
      const refused = page.waitForEvent('console', {
        predicate: (message) => /frame-ancestors/.test(message.text()),
        timeout: SHOW_TIMEOUT_MS,
      });
      const { port } = framer.address() as AddressInfo;
      await page.goto(`http://127.0.0.1:${port}/`);
      await refused;
      const chatFrame = page.frames().find((frame) => frame !== page.mainFrame());
      // The frame holds Chromium's error page, not the chat.
      expect(await chatFrame?.locator('#app').count()).toBe(0);
    } finally {
      await context.close();
      await new Promise((resolve) => framer.close(resolve));
    }
  });

  it('takes the retired preview address ?dialect=websocket to the Web PubSub chat, which exchanges messages', async () => {
    const dave = await open('dave', { query: '?name=dave&dialect=websocket' });
    await waitConnected(dave);
    expect(new URL(dave.page.url()).searchParams.get('service')).toBe('webpubsub');
    await expect(dave.page.getByTestId('service-tag').textContent()).resolves.toContain('Web PubSub');
    // The welcome carried the room's history.
    await delivered(dave, 'Back again!').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await send(dave, 'Hello from the Web PubSub side.');
    await delivered(ann, 'Hello from the Web PubSub side.').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await send(ann, 'Loud and clear, dave.');
    await delivered(dave, 'Loud and clear, dave.').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await screenshot(dave, 'webpubsub');

    // The Web PubSub link reconnects on its own too. The service closes its sockets only once it has
    // delivered their disconnects, so the page may be back within milliseconds: record every state it shows.
    await recordStatus(dave);
    await chat.stack.restartService();
    await dave.page.waitForFunction(
      () => {
        const seen = (window as unknown as { statusSeen: string[] }).statusSeen;
        return seen.length > 1 && seen.at(-1) === 'connected';
      },
      undefined,
      { timeout: RECONNECT_TIMEOUT_MS },
    );
    const seen = await dave.page.evaluate(() => (window as unknown as { statusSeen: string[] }).statusSeen);
    expect(seen[0]).toBe('connected');
    expect(seen).toContain('reconnecting');
    await waitConnected(ann, RECONNECT_TIMEOUT_MS);
    await send(dave, 'Still here after the second restart.');
    await delivered(ann, 'Still here after the second restart.').waitFor({ timeout: SHOW_TIMEOUT_MS });
  });

  it('chats over each transport when the URL holds the page to one (?transport=)', async () => {
    const cases = [
      ['websockets', 'gus', 'websocket'],
      ['sse', 'erin', 'event-stream'],
      ['longpolling', 'finn', 'poll'],
    ] as const;
    for (const [transport, name, expected] of cases) {
      const transports: string[] = [];
      const person = await open(name, { query: `?name=${name}&transport=${transport}`, transports });
      await waitConnected(person);
      await send(person, `Hello over ${transport}.`);
      await delivered(ann, `Hello over ${transport}.`).waitFor({ timeout: SHOW_TIMEOUT_MS });
      await send(ann, `Heard you over ${transport}, ${name}.`);
      await delivered(person, `Heard you over ${transport}, ${name}.`).waitFor({ timeout: SHOW_TIMEOUT_MS });
      // Only the chosen transport reached the service.
      expect(new Set(transports.filter((t) => t !== 'send'))).toEqual(new Set([expected]));
      if (expected !== 'websocket') expect(transports).toContain('send');
      await person.context.close();
    }
  });

  it('chats over the MessagePack hub protocol with ?protocol=messagepack', async () => {
    // What the page sends on its SignalR WebSocket: the handshake names the protocol, then binary frames.
    const sent: Array<string | Buffer> = [];
    const hana = await open('hana', { query: '?name=hana&protocol=messagepack', framesSent: sent });
    await waitConnected(hana);
    const handshake = sent.find((payload) => payload.toString().includes('"protocol"'));
    expect(handshake?.toString()).toBe('{"protocol":"messagepack","version":1}\x1e');
    // The welcome carried the room's history.
    await delivered(hana, 'Back again!').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await send(hana, 'Hello in MessagePack.');
    await delivered(ann, 'Hello in MessagePack.').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await send(ann, 'Received, hana.');
    await delivered(hana, 'Received, hana.').waitFor({ timeout: SHOW_TIMEOUT_MS });
    // The command went as a MessagePack Invocation (fixarray of 5 or 6 after the length prefix), not JSON.
    const commands = sent.filter((payload) => typeof payload !== 'string' && payload.includes('sendMessage'));
    expect(commands.length).toBeGreaterThan(0);
    expect(commands.every((payload) => !payload.toString().includes('"target"'))).toBe(true);
    await screenshot(hana, 'messagepack-protocol');
  });

  it('loads older messages when scrolling up, and with the button', async () => {
    // A long conversation written straight into the app's history store (as if eve had talked for hours).
    const history = chatServices().history;
    for (let i = 1; i <= LONG_HISTORY; i++) {
      await history.append({
        conversation: 'group:archive',
        from: 'eve',
        group: 'archive',
        text: `archive note ${i}`,
      });
    }
    await ann.page.getByLabel('Group name to join or create').fill('archive');
    await ann.page.getByLabel('Group name to join or create').press('Enter');
    await delivered(ann, new RegExp(`^archive note ${LONG_HISTORY}$`)).waitFor({ timeout: SHOW_TIMEOUT_MS });
    const messages = ann.page.locator('.messages .msg');
    await expect(messages.count()).resolves.toBe(50);
    await screenshot(ann, 'long-history');

    // Scrolling to the top asks for the page before the oldest message shown.
    await ann.page.locator('.scroller').evaluate((el) => {
      el.scrollTop = 0;
    });
    await delivered(ann, new RegExp(`^archive note ${LONG_HISTORY - 99}$`)).waitFor({
      timeout: SHOW_TIMEOUT_MS,
    });
    // The reader's place is kept: the list did not jump back to the top (which would load yet another page).
    await expect(messages.count()).resolves.toBe(100);
    await expect(ann.page.locator('.scroller').evaluate((el) => el.scrollTop)).resolves.toBeGreaterThan(0);

    await ann.page.getByRole('button', { name: 'Load older messages' }).click();
    await delivered(ann, /^archive note 1$/).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await ann.page.getByText('This is the start of the conversation.').waitFor();
    await expect(messages.count()).resolves.toBe(LONG_HISTORY);
    await screenshot(ann, 'oldest-loaded');
  });

  it('leaves a group (read-only afterwards) and joins it again', async () => {
    await showSidebar(bob);
    await conversationButton(bob, /hikers/).click();
    await bob.page.getByRole('button', { name: 'Leave channel' }).click();
    await bob.page.getByRole('button', { name: 'Join channel' }).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect(composer(bob).isDisabled()).resolves.toBe(true);
    await conversationButton(ann, /hikers/).click();
    await ann.page.locator('.note', { hasText: 'left the channel' }).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await screenshot(bob, 'left-group');
    await bob.page.getByRole('button', { name: 'Join channel' }).click();
    await bob.page.getByRole('button', { name: 'Leave channel' }).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await send(bob, 'Back in the group.');
    await delivered(ann, 'Back in the group.').waitFor({ timeout: SHOW_TIMEOUT_MS });
  });

  it('ran without page errors, dialogs or Content-Security-Policy violations', () => {
    for (const person of chat.people) {
      expect(problemsOf(person)).toEqual({ name: person.name, errors: [], dialogs: [], csp: [] });
    }
  });
});
