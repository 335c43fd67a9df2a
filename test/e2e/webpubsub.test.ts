/**
 * The chat page over Azure Web PubSub (`?service=webpubsub`) beside the SignalR page, in Debian's Chromium against
 * the whole local stack with Web PubSub on, as `npm start` runs it (test/support/stack.ts, `webPubSub`): ann over
 * SignalR, wes over Web PubSub's reliable JSON subprotocol, one room and one history. Then wes's socket is
 * dropped under it (cut on the service's side, no close frame) while ann keeps talking:
 * the link resumes the same connection, and wes sees every message once, in order. Screenshots in
 * test-results/e2e/ (git-ignored); every wait is for something the page shows.
 */
import { join } from 'node:path';
import type { Locator, WebSocketRoute } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  type BrowserStack,
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

/** Messages ann sends while wes's socket is down. */
const WHILE_DOWN = 5;

let chat: BrowserStack;
let ann: Person;
let wes: Person;
/** The URLs of the WebSockets wes's page opened, in order. */
const wesSockets: string[] = [];
/** The frames wes's page sent, parsed. */
const wesFrames: Array<{ type?: string; [key: string]: unknown }> = [];

/**
 * wes's sockets go through this relay (Playwright's WebSocket routing, so the page's URL and its CSP are
 * unchanged): each page socket is relayed to the service by a `ws` client with the same URL and subprotocols.
 * `terminate()` on the service side is a dropped network; while `holding`, new sockets wait to be relayed.
 */
const relays = {
  open: new Set<WebSocket>(),
  holding: false,
  waiting: [] as Array<() => void>,
  release() {
    this.holding = false;
    for (const go of this.waiting.splice(0)) go();
  },
};

function relay(route: WebSocketRoute): void {
  wesSockets.push(route.url());
  let service: WebSocket | undefined;
  // What the page writes before the service side is open (or while held) waits here.
  const early: Array<string | Buffer> = [];
  route.onMessage((message) => {
    if (typeof message === 'string') wesFrames.push(JSON.parse(message) as { type?: string });
    if (service?.readyState === WebSocket.OPEN) service.send(message);
    else early.push(message);
  });
  route.onClose(() => service?.close());
  const start = () => {
    const socket = new WebSocket(route.url(), route.protocols());
    service = socket;
    relays.open.add(socket);
    socket.on('open', () => {
      for (const message of early.splice(0)) socket.send(message);
    });
    socket.on('message', (data, binary) => route.send(binary ? (data as Buffer) : String(data)));
    socket.on('error', () => undefined);
    socket.on('close', (code, reason) => {
      relays.open.delete(socket);
      // 1005 and 1006 cannot be sent in a close frame: the page sees 4000, a close that is not the service's.
      const sendable = code === 1000 || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
      void route.close({ code: sendable ? code : 4000, reason: String(reason) }).catch(() => undefined);
    });
  };
  if (relays.holding) relays.waiting.push(start);
  else start();
}

function conversationTitle(person: Person): Locator {
  return person.page.locator('#conversation-title');
}

async function screenshot(person: Person, what: string): Promise<void> {
  await person.page.screenshot({ path: join(SCREENSHOTS, `webpubsub-${what}-${person.name}.png`) });
}

/** Every status the page's pill shows from now on, in `window.statusSeen`. */
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

beforeAll(async () => {
  chat = await startBrowserStack({ webPubSub: true });
});

afterAll(async () => {
  await chat?.stop();
});

describe('the chat page over Azure Web PubSub, beside the SignalR page', () => {
  it('opens over Web PubSub with ?service=webpubsub, on the reliable subprotocol', async () => {
    ann = await chat.open('ann');
    await waitConnected(ann);
    await send(ann, 'Before wes arrives.');

    wes = await chat.open('wes', {
      query: '?name=wes&service=webpubsub',
      beforeLoad: async ({ page }) => {
        await page.routeWebSocket(/\/client\/hubs\//, relay);
      },
    });
    await waitConnected(wes);
    await expect(wes.page.locator('[data-testid="service-tag"]').textContent()).resolves.toContain(
      'Web PubSub',
    );
    expect(wesSockets).toHaveLength(1);
    const url = new URL(wesSockets[0] ?? '');
    expect(url.pathname).toBe('/client/hubs/chat');
    expect(url.searchParams.has('access_token')).toBe(true);
    // The room's history came with the welcome, over the other service.
    await delivered(wes, 'Before wes arrives.').waitFor({ timeout: SHOW_TIMEOUT_MS });
    // The reliable subprotocol: the page acknowledges the service's sequence ids.
    await expect
      .poll(() => wesFrames.some((f) => f.type === 'sequenceAck'), { timeout: SHOW_TIMEOUT_MS })
      .toBe(true);
    await screenshot(wes, 'room');
  });

  it('lets a SignalR page and a Web PubSub page chat in the same room', async () => {
    await sidebarButton(ann, /wes/).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await sidebarButton(wes, /^ann Message privately/).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await send(wes, 'Hello from Web PubSub.');
    await delivered(ann, 'Hello from Web PubSub.').waitFor({ timeout: SHOW_TIMEOUT_MS });
    // A command is a user event with an ackId (typing went before it, as another command).
    const sent = wesFrames.find(
      (f) => f.type === 'event' && (f.data as { type?: unknown } | undefined)?.type === 'sendMessage',
    );
    expect(sent).toMatchObject({
      event: 'message',
      dataType: 'json',
      data: { type: 'sendMessage', text: 'Hello from Web PubSub.' },
      ackId: expect.any(Number),
    });
    await send(ann, 'Hello from SignalR.');
    await delivered(wes, 'Hello from SignalR.').waitFor({ timeout: SHOW_TIMEOUT_MS });
  });

  it('sends private messages both ways between the two services', async () => {
    await sidebarButton(ann, /wes Message privately/).click();
    await expect(conversationTitle(ann).textContent()).resolves.toContain('wes');
    await send(ann, 'A word in private, wes.');
    const fromAnn = wes.page.locator('#sidebar').getByRole('button', { name: /^ann(?! Message)/ });
    await fromAnn.locator('.badge').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await fromAnn.click();
    await delivered(wes, 'A word in private, wes.').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await send(wes, 'Listening.');
    await delivered(ann, 'Listening.').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await screenshot(wes, 'private');
  });

  it('has a group that a Web PubSub member joins and talks in', async () => {
    await ann.page.getByLabel('Group name to join or create').fill('bridge');
    await ann.page.getByLabel('Group name to join or create').press('Enter');
    await expect(conversationTitle(ann).textContent()).resolves.toContain('bridge');
    await wes.page.getByLabel('Group name to join or create').fill('bridge');
    await wes.page.getByRole('button', { name: 'Join', exact: true }).click();
    await expect(conversationTitle(wes).textContent()).resolves.toContain('bridge');
    await send(ann, 'Welcome to the bridge.');
    await delivered(wes, 'Welcome to the bridge.').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await send(wes, 'Glad to be aboard.');
    await delivered(ann, 'Glad to be aboard.').waitFor({ timeout: SHOW_TIMEOUT_MS });
    // Not in the room: a group message stays in its group.
    await sidebarButton(wes, /^Room/).click();
    await expect(delivered(wes, 'Welcome to the bridge.').count()).resolves.toBe(0);
    await screenshot(wes, 'group');
  });

  it('shows the shared history after a reload over Web PubSub', async () => {
    await wes.page.reload();
    await waitConnected(wes);
    await delivered(wes, 'Hello from SignalR.').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await delivered(wes, 'Hello from Web PubSub.').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect(delivered(wes, 'Hello from SignalR.').count()).resolves.toBe(1);
  });

  it('loses nothing and repeats nothing when its socket drops: the link resumes the same connection', async () => {
    await sidebarButton(ann, /^Room/).click();
    await expect(conversationTitle(wes).textContent()).resolves.toContain('Room');
    await recordStatus(wes);
    const socketsBefore = wesSockets.length;

    // The socket drops: the service's side is cut without a close frame (what a lost network looks like to it),
    // and new sockets wait, so what ann says meanwhile can only reach wes through the service's resend.
    relays.holding = true;
    for (const socket of relays.open) socket.terminate();
    await wes.page.waitForFunction(
      () => (window as unknown as { statusSeen: string[] }).statusSeen.includes('reconnecting'),
      undefined,
      { timeout: SHOW_TIMEOUT_MS },
    );
    const texts = Array.from({ length: WHILE_DOWN }, (_, i) => `While wes was away, number ${i + 1}.`);
    for (const text of texts) await send(ann, text);
    // A message wes writes while its socket is down waits and leaves on the resumed socket.
    await wes.page.locator('#composer-input').fill('Written while offline.');
    await wes.page.locator('#composer-input').press('Enter');
    relays.release();

    await waitConnected(wes);
    for (const text of texts) await delivered(wes, text).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await delivered(ann, 'Written while offline.').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await delivered(wes, 'Written while offline.').waitFor({ timeout: SHOW_TIMEOUT_MS });
    // Once each, in the order sent, on both pages.
    const shown = async (person: Person) =>
      (await person.page.locator('.messages .msg:not(.pending) .bubble').allTextContents()).filter(
        (t) => t.startsWith('While wes was away') || t === 'Written while offline.',
      );
    await expect(shown(wes)).resolves.toEqual(expect.arrayContaining([...texts, 'Written while offline.']));
    expect((await shown(wes)).filter((t) => t.startsWith('While wes'))).toEqual(texts);
    expect((await shown(wes)).filter((t) => t === 'Written while offline.')).toHaveLength(1);
    expect((await shown(ann)).filter((t) => t === 'Written while offline.')).toHaveLength(1);

    // It came back as the same connection: one new socket, asking to resume, and no new welcome was needed.
    const resumed = wesSockets.slice(socketsBefore).map((u) => new URL(u));
    expect(resumed.length).toBeGreaterThan(0);
    const last = resumed.at(-1);
    expect(last?.searchParams.get('awps_connection_id')).toBeTruthy();
    expect(last?.searchParams.get('awps_reconnection_token')).toBeTruthy();
    await screenshot(wes, 'after-drop');
  });

  it('ran without page errors, dialogs or Content-Security-Policy violations', () => {
    for (const person of chat.people) {
      expect(problemsOf(person)).toEqual({ name: person.name, errors: [], dialogs: [], csp: [] });
    }
  });
});
