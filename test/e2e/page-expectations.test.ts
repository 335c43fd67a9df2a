/**
 * What people expect of the chat page, in Chromium against the whole local stack with both services: messages
 * formatted (and nothing in them run), a connection state that does not lie, an outbox that survives a reload,
 * no sideways scrolling on a 390 px phone, and the small things (the printed URL, `/`, contrast, names read
 * right in either direction). Every wait is for something the page shows, with a limit.
 */
import { join } from 'node:path';
import type { Dialog, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserStack,
  composer,
  contrastOf,
  DESKTOP,
  delivered,
  horizontalOverflow,
  type Person,
  problemsOf,
  SCREENSHOTS,
  SHOW_TIMEOUT_MS,
  send,
  sidebarButton,
  startBrowserStack,
  waitConnected,
} from '../support/browser.js';

/** How soon a lost connection must show, in milliseconds. */
const NOTICE_WITHIN_MS = 10_000;
/**
 * A silent SignalR connection is noticed by the client's server timeout: 20 s, above Azure SignalR's 15 s
 * keep-alive (docs/architecture.md, "Connection state").
 */
const SIGNALR_SILENCE_LIMIT_MS = 20_000;
/** Coming back may go through a few backoff steps. */
const RECONNECT_TIMEOUT_MS = 60_000;

let chat: BrowserStack;
let ann: Person;
let bob: Person;

beforeAll(async () => {
  chat = await startBrowserStack({ webPubSub: true });
  ann = await chat.open('ann');
  bob = await chat.open('bob', { phone: true });
  await waitConnected(ann);
  await waitConnected(bob);
});

afterAll(async () => {
  await chat?.stop();
});

/**
 * How long after `since` the page stops saying "connected", in milliseconds: watched in the page, so a
 * "reconnecting" that lasts a moment counts too.
 */
async function noticedAfter(page: Page, since: number): Promise<number> {
  await page.evaluate(
    (limit) =>
      new Promise<void>((resolve, reject) => {
        const pill = document.querySelector<HTMLElement>('.status-pill');
        if (!pill) throw new Error('no connection status on the page');
        if (pill.dataset.status !== 'connected') return resolve();
        const observer = new MutationObserver(() => {
          if (pill.dataset.status === 'connected') return;
          observer.disconnect();
          resolve();
        });
        observer.observe(pill, { attributes: true, attributeFilter: ['data-status'] });
        setTimeout(() => reject(new Error('still "connected"')), limit);
      }),
    NOTICE_WITHIN_MS + 5000,
  );
  return Date.now() - since;
}

describe('formatting', () => {
  const text = [
    'Formatting: **bold** and _italic_ and `code`, see https://example.com/docs, not main.py',
    'and [this](javascript:alert(1)) <script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">',
    '',
    '> a quote',
    '',
    '- one',
    '- two',
    '',
    '```',
    'const x = 1;',
    '```',
  ].join('\n');

  it('renders the Markdown subset, links open apart, and HTML and javascript: links stay inert', async () => {
    await composer(ann).fill(text);
    await composer(ann).press('Enter');
    for (const person of [ann, bob]) {
      const bubble = delivered(person, 'Formatting:');
      await bubble.waitFor({ timeout: SHOW_TIMEOUT_MS });
      await expect(bubble.getAttribute('dir')).resolves.toBe('auto');
      await expect(bubble.locator('strong').textContent()).resolves.toBe('bold');
      await expect(bubble.locator('em').textContent()).resolves.toBe('italic');
      await expect(bubble.locator('p code').first().textContent()).resolves.toBe('code');
      await expect(bubble.locator('blockquote').textContent()).resolves.toContain('a quote');
      await expect(bubble.locator('ul li').count()).resolves.toBe(2);
      await expect(bubble.locator('pre code').textContent()).resolves.toContain('const x = 1;');
      // A file name is no link (.py is a country domain); the address with its scheme is.
      await expect(bubble.locator('a', { hasText: 'main.py' }).count()).resolves.toBe(0);
      const link = bubble.locator('a', { hasText: 'https://example.com/docs' });
      await expect(link.getAttribute('href')).resolves.toBe('https://example.com/docs');
      await expect(link.getAttribute('target')).resolves.toBe('_blank');
      await expect(link.getAttribute('rel')).resolves.toBe('noopener noreferrer nofollow');
      // The javascript: link is no link: its text stays, as typed.
      await expect(bubble.locator('a').count()).resolves.toBe(1);
      await expect(bubble.textContent()).resolves.toContain('[this](javascript:alert(1))');
      // Markup is shown as the text it is, and nothing of it runs.
      await expect(bubble.textContent()).resolves.toContain('<script>window.pwned = 1</script>');
      await expect(bubble.locator('script, img, [onerror]').count()).resolves.toBe(0);
      await expect(
        person.page.evaluate(() => (window as { pwned?: unknown }).pwned),
      ).resolves.toBeUndefined();
      await expect(person.page.locator('.msg-from[dir="auto"]').count()).resolves.toBeGreaterThan(0);
    }
    await ann.page.screenshot({ path: join(SCREENSHOTS, 'formatting-desktop.png') });
    await bob.page.screenshot({ path: join(SCREENSHOTS, 'formatting-phone.png') });
    expect(problemsOf(ann)).toMatchObject({ errors: [], dialogs: [], csp: [] });
    expect(problemsOf(bob)).toMatchObject({ errors: [], dialogs: [], csp: [] });
  });
});

describe('the small things', () => {
  it('opens the printed ?name=<you> as the name prompt, the name filled in and the reason shown', async () => {
    const page = await ann.context.newPage();
    const response = await page.goto(`${chat.stack.homeUrl}?name=%3Cyou%3E`);
    expect(response?.status()).toBe(400);
    const input = page.getByLabel('Your name');
    await expect(input.inputValue()).resolves.toBe('<you>');
    await expect(page.locator('#name-error').textContent()).resolves.toContain('may only contain letters');
    await input.fill('carol');
    await page.getByRole('button', { name: 'Enter the chat' }).click();
    await page.locator('.status-pill[data-status="connected"]').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await page.close();
  });

  it('sends / to the chat', async () => {
    const page = await ann.context.newPage();
    const response = await page.goto(`${chat.stack.functionsUrl}/`);
    expect(response?.status()).toBe(200);
    expect(new URL(page.url()).pathname).toBe('/api/home');
    await page.getByLabel('Your name').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await page.close();
  });

  it('shows "Names are not verified" at 4.5:1 contrast or better, in light and dark', async () => {
    expect(await contrastOf(ann.page, '[data-testid="unverified"]')).toBeGreaterThanOrEqual(4.5);
    const dark = await chat.browser.newContext({ ...DESKTOP, colorScheme: 'dark' });
    const page = await dark.newPage();
    await page.goto(`${chat.stack.homeUrl}?name=dora`);
    await page.locator('[data-testid="unverified"]').waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(await contrastOf(page, '[data-testid="unverified"]')).toBeGreaterThanOrEqual(4.5);
    await dark.close();
  });

  it('gives each person button an accessible name that holds its visible text', async () => {
    const people = ann.page.locator('#sidebar .person-button');
    await sidebarButton(ann, /^bob Message privately/).waitFor({ timeout: SHOW_TIMEOUT_MS });
    // The pages of the tests before (carol, dora) have closed: once their leaves are shown, the list holds still.
    for (const gone of [/^carol Message privately/, /^dora Message privately/])
      await sidebarButton(ann, gone).waitFor({ state: 'detached', timeout: SHOW_TIMEOUT_MS });
    await ann.page.hover('#sidebar .person-button');
    for (const button of await people.all()) {
      const visible = await button.evaluate((el) => {
        const words: string[] = [];
        const walk = (node: Node) => {
          if (node instanceof Element) {
            if (node.getAttribute('aria-hidden') === 'true' || node.classList.contains('sr-only')) return;
            for (const child of Array.from(node.childNodes)) walk(child);
          } else if (node.textContent?.trim()) words.push(node.textContent.trim());
        };
        walk(el);
        return words.join(' ');
      });
      const snapshot = await button.ariaSnapshot();
      const name = /button "([^"]*)"/.exec(snapshot)?.[1] ?? '';
      expect(name, snapshot).toContain(visible);
    }
  });
});

describe('no sideways scrolling on a 390 px phone', () => {
  it('in the room, a group and a private conversation, with long words and code', async () => {
    await send(ann, `A long word: ${'x'.repeat(300)} and https://example.com/${'a'.repeat(200)}`);
    await composer(ann).fill(`\`\`\`\n${'wide code line '.repeat(40)}\n\`\`\``);
    await composer(ann).press('Enter');
    await delivered(bob, 'wide code line').waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(await horizontalOverflow(bob)).toBe(0);
    await bob.page.locator('#menu-button').click();
    await bob.page.getByLabel('Group name to join or create').fill('wide');
    await bob.page.getByLabel('Group name to join or create').press('Enter');
    await bob.page.locator('#conversation-title', { hasText: 'wide' }).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await send(bob, `In the group: ${'y'.repeat(200)}`);
    expect(await horizontalOverflow(bob)).toBe(0);
    await bob.page.locator('#menu-button').click();
    await sidebarButton(bob, /^ann Message privately/).click();
    await bob.page.locator('#conversation-title', { hasText: 'ann' }).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await send(bob, `Privately: ${'z'.repeat(200)}`);
    expect(await horizontalOverflow(bob)).toBe(0);
    // The drawer open.
    await bob.page.locator('#menu-button').click();
    expect(await horizontalOverflow(bob)).toBe(0);
    await bob.page.screenshot({ path: join(SCREENSHOTS, 'narrow-drawer-phone.png') });
    // Back to the room, where the tests below look.
    await sidebarButton(bob, /^Room/).click();
    await bob.page.locator('#conversation-title', { hasText: 'Room' }).waitFor({ timeout: SHOW_TIMEOUT_MS });
  });

  it("shows a group's whole name above its buttons", async () => {
    await bob.page.locator('#menu-button').click();
    await bob.page.getByLabel('Group name to join or create').fill('Quarterly planning 2027');
    await bob.page.getByLabel('Group name to join or create').press('Enter');
    const title = bob.page.locator('#conversation-title', { hasText: 'Quarterly planning 2027' });
    await title.waitFor({ timeout: SHOW_TIMEOUT_MS });
    await bob.page.getByRole('button', { name: 'Leave channel' }).waitFor({ timeout: SHOW_TIMEOUT_MS });
    // Not cut to an ellipsis (beside the buttons it showed "# Quarterl…"), and the buttons on one row below it.
    expect(await title.evaluate((el) => el.scrollWidth - el.clientWidth)).toBe(0);
    const titleBox = await title.boundingBox();
    const buttons = await bob.page.locator('.conversation-actions button').all();
    const tops = new Set<number>();
    for (const button of buttons) {
      const box = await button.boundingBox();
      expect(box?.y ?? 0).toBeGreaterThanOrEqual((titleBox?.y ?? 0) + (titleBox?.height ?? 0));
      tops.add(Math.round(box?.y ?? 0));
    }
    expect(buttons.length).toBeGreaterThanOrEqual(2);
    expect(tops.size).toBe(1);
    expect(await horizontalOverflow(bob)).toBe(0);
    await bob.page.screenshot({ path: join(SCREENSHOTS, 'narrow-group-head-phone.png') });
    await bob.page.locator('#menu-button').click();
    await sidebarButton(bob, /^Room/).click();
    await bob.page.locator('#conversation-title', { hasText: 'Room' }).waitFor({ timeout: SHOW_TIMEOUT_MS });
  });

  it('over Web PubSub and on the name prompt', async () => {
    const wes = await chat.open('wes', { phone: true, query: '?name=wes&service=webpubsub' });
    await waitConnected(wes);
    await delivered(wes, 'A long word').waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(await horizontalOverflow(wes)).toBe(0);
    const nobody = await chat.open('nobody', { phone: true, query: '' });
    await nobody.page.getByLabel('Your name').waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(await horizontalOverflow(nobody)).toBe(0);
    await nobody.context.close();
  });
});

describe('honest connection state', () => {
  it('notices a stopped service within 10 s on every SignalR transport and on Web PubSub', async () => {
    const people = [
      ann,
      await chat.open('sue', { query: '?name=sue&transport=sse' }),
      await chat.open('leo', { query: '?name=leo&transport=longpolling' }),
      await chat.open('wes2', { query: '?name=wes2&service=webpubsub' }),
    ];
    for (const person of people) await waitConnected(person);
    const since = Date.now();
    const restart = chat.stack.restartService(NOTICE_WITHIN_MS + 3000);
    const noticed = await Promise.all(people.map((p) => noticedAfter(p.page, since)));
    for (const [i, ms] of noticed.entries()) {
      expect(ms, `${people[i]?.name} noticed after ${ms} ms`).toBeLessThan(NOTICE_WITHIN_MS);
    }
    await expect(ann.page.locator('[data-testid="connection-banner"]').textContent()).resolves.toMatch(
      /Reconnecting|Cannot reach the chat/,
    );
    await restart;
    for (const person of people) await waitConnected(person, RECONNECT_TIMEOUT_MS);
  });

  it('notices a Web PubSub connection gone silent within 10 s, and resumes it', async () => {
    let silent = false;
    const quiet = await chat.open('quiet', {
      query: '?name=quiet&service=webpubsub',
      beforeLoad: async ({ page }) => {
        await page.routeWebSocket(/\/client\/hubs\//, (route) => {
          const server = route.connectToServer();
          route.onMessage((m) => {
            if (!silent) server.send(m);
          });
          server.onMessage((m) => {
            if (!silent) route.send(m);
          });
        });
      },
    });
    await waitConnected(quiet);
    silent = true;
    const since = Date.now();
    expect(await noticedAfter(quiet.page, since)).toBeLessThan(NOTICE_WITHIN_MS);
    silent = false;
    await waitConnected(quiet, RECONNECT_TIMEOUT_MS);
  });

  it('notices a SignalR connection gone silent once the service misses a ping (15 s) plus 5 s', async () => {
    let silent = false;
    const hush = await chat.open('hush', {
      query: '?name=hush&transport=websockets',
      beforeLoad: async ({ page }) => {
        await page.routeWebSocket(/\/client\/\?hub=/, (route) => {
          const server = route.connectToServer();
          route.onMessage((m) => {
            if (!silent) server.send(m);
          });
          server.onMessage((m) => {
            if (!silent) route.send(m);
          });
        });
      },
    });
    await waitConnected(hush);
    silent = true;
    const since = Date.now();
    await hush.page
      .locator('.status-pill:not([data-status="connected"])')
      .waitFor({ timeout: SIGNALR_SILENCE_LIMIT_MS + 5000 });
    expect(Date.now() - since).toBeLessThan(SIGNALR_SILENCE_LIMIT_MS + 2000);
    silent = false;
    await waitConnected(hush, RECONNECT_TIMEOUT_MS);
  });

  it('says so at once when the browser goes offline, and sends what waited when it is back', async () => {
    await ann.context.setOffline(true);
    await ann.page
      .locator('[data-testid="connection-banner"]', {
        hasText: 'You are offline — messages will be sent when you reconnect.',
      })
      .waitFor({ timeout: 2000 });
    await expect(ann.page.locator('.status-pill').getAttribute('data-status')).resolves.toBe('offline');
    await composer(ann).fill('Written while the browser was offline.');
    await composer(ann).press('Enter');
    await ann.page.locator('.msg.pending').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await ann.context.setOffline(false);
    await delivered(bob, 'Written while the browser was offline.').waitFor({ timeout: RECONNECT_TIMEOUT_MS });
    await expect(delivered(bob, 'Written while the browser was offline.').count()).resolves.toBe(1);
  });
});

describe('the outbox survives a reload', () => {
  it('keeps a message written while the chat is unreachable across a reload, then sends it once', async () => {
    const context = await chat.browser.newContext(DESKTOP);
    const page = await context.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (dialog: Dialog) => {
      dialogs.push(dialog.type());
      void dialog.accept();
    });
    await page.goto(`${chat.stack.homeUrl}?name=olga`);
    await page.locator('.status-pill[data-status="connected"]').waitFor({ timeout: SHOW_TIMEOUT_MS });
    const restart = chat.stack.restartService(20_000);
    await page.locator('.status-pill:not([data-status="connected"])').waitFor({ timeout: NOTICE_WITHIN_MS });
    const text = 'Written while the chat was down, kept across a reload.';
    await page.locator('#composer-input').fill(text);
    await page.locator('#composer-input').press('Enter');
    await page.locator('.msg.pending', { hasText: text }).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await page.reload();
    // Nothing asked before leaving: the unsent message is kept on this browser and leaves on the next visit.
    expect(dialogs).toEqual([]);
    await page.locator('.msg.pending', { hasText: text }).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await restart;
    const stored = page.locator('.messages .msg:not(.pending) .bubble', { hasText: text });
    await stored.waitFor({ timeout: RECONNECT_TIMEOUT_MS });
    await delivered(bob, text).waitFor({ timeout: SHOW_TIMEOUT_MS });
    // Once: in the live view, and in the history after another reload (nothing left in IndexedDB to resend).
    await expect(delivered(bob, text).count()).resolves.toBe(1);
    await page.reload();
    await page.locator('.status-pill[data-status="connected"]').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await stored.waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect(stored.count()).resolves.toBe(1);
    await expect(page.locator('.msg.pending').count()).resolves.toBe(0);
    await context.close();
  });

  it('keeps what is typed and not sent, per conversation, across a reload, and forgets it once sent', async () => {
    const context = await chat.browser.newContext(DESKTOP);
    const page = await context.newPage();
    page.on('dialog', (dialog: Dialog) => void dialog.accept());
    await page.goto(`${chat.stack.homeUrl}?name=pia`);
    const reload = async () => {
      await page.reload();
      await page.locator('.status-pill[data-status="connected"]').waitFor({ timeout: SHOW_TIMEOUT_MS });
    };
    await page.locator('.status-pill[data-status="connected"]').waitFor({ timeout: SHOW_TIMEOUT_MS });
    const box = page.locator('#composer-input');
    const title = (name: string) => page.locator('#conversation-title', { hasText: name });
    const openGroup = async () => {
      await page
        .locator('#sidebar')
        .getByRole('button', { name: /^drafts/ })
        .click();
      await title('drafts').waitFor({ timeout: SHOW_TIMEOUT_MS });
    };
    await page.getByLabel('Group name to join or create').fill('drafts');
    await page.getByLabel('Group name to join or create').press('Enter');
    await title('drafts').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await box.fill('Half a thought for the group,\nwith a second line');
    await page.locator('#sidebar').getByRole('button', { name: /^Room/ }).click();
    await title('Room').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await box.fill('Half a thought for the room');
    await reload();
    await expect
      .poll(() => box.inputValue(), { timeout: SHOW_TIMEOUT_MS })
      .toBe('Half a thought for the room');
    await openGroup();
    expect(await box.inputValue()).toBe('Half a thought for the group,\nwith a second line');
    // Sent, it is no draft any more: another reload leaves the group's box empty.
    await box.press('Enter');
    await page
      .locator('.messages .msg:not(.pending) .bubble', { hasText: 'Half a thought for the group' })
      .waitFor({ timeout: SHOW_TIMEOUT_MS });
    await reload();
    await openGroup();
    expect(await box.inputValue()).toBe('');
    // At most MAX_SAVED_DRAFTS conversations' drafts are kept, the most recently written.
    // (A string, so that the test runner leaves the page's own `import()` alone.)
    const kept = (await page.evaluate(`(async () => {
      const drafts = await import('/api/assets/state/saved-drafts.js');
      const store = drafts.savedDrafts('chat.drafts.cap-test');
      for (let i = 0; i < drafts.MAX_SAVED_DRAFTS + 10; i++) store.set('group:g' + i, 'draft ' + i);
      store.flush();
      const stored = JSON.parse(localStorage.getItem('chat.drafts.cap-test') ?? '[]');
      return { max: drafts.MAX_SAVED_DRAFTS, first: stored[0], count: stored.length };
    })()`)) as { max: number; first: [string, string]; count: number };
    expect(kept.count).toBe(kept.max);
    expect(kept.first).toEqual(['group:g10', 'draft 10']);
    await context.close();
  });
  it('keeps the open conversation in the address: a reload, Back and Forward, and a copied link open it', async () => {
    const context = await chat.browser.newContext(DESKTOP);
    const errors: string[] = [];
    context.on('weberror', (error) => errors.push(String(error.error())));
    const page = await context.newPage();
    await page.goto(`${chat.stack.homeUrl}?name=quinn`);
    await page.locator('.status-pill[data-status="connected"]').waitFor({ timeout: SHOW_TIMEOUT_MS });
    const title = (p: Page, name: string) => p.locator('#conversation-title', { hasText: name });
    const fragment = (p: Page) => p.evaluate(() => window.location.hash);
    await page.getByLabel('Group name to join or create').fill('Café plans');
    await page.getByLabel('Group name to join or create').press('Enter');
    await title(page, 'Café plans').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect.poll(() => fragment(page)).toBe('#group:Caf%C3%A9%20plans');
    await page.locator('#composer-input').fill('Kept where it was said');
    await page.locator('#composer-input').press('Enter');
    const said = (p: Page) =>
      p.locator('.messages .msg:not(.pending) .bubble', { hasText: 'Kept where it was said' });
    await said(page).waitFor({ timeout: SHOW_TIMEOUT_MS });

    // A reload opens the group again, with its history.
    await page.reload();
    await title(page, 'Café plans').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await said(page).waitFor({ timeout: SHOW_TIMEOUT_MS });

    // Back and Forward go between the conversations opened; the room has no fragment.
    await page.locator('#sidebar').getByRole('button', { name: /^Room/ }).click();
    await title(page, 'Room').waitFor({ timeout: SHOW_TIMEOUT_MS });
    expect(await fragment(page)).toBe('');
    await page.goBack();
    await title(page, 'Café plans').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await page.goForward();
    await title(page, 'Room').waitFor({ timeout: SHOW_TIMEOUT_MS });

    // The address, copied to someone not in the group, opens it with its "Join group"; joined, the history shows.
    const other = await context.newPage();
    await other.goto(`${chat.stack.homeUrl}?name=rae#group:Caf%C3%A9%20plans`);
    await title(other, 'Café plans').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await other.getByRole('button', { name: 'Join group' }).click();
    await said(other).waitFor({ timeout: SHOW_TIMEOUT_MS });

    // A private conversation between two others, or a fragment that is no conversation, opens the room.
    for (const address of ['#dm:pia:quinn', '#group:..', '#nonsense', '#%E0%A4%A']) {
      await other.goto(`${chat.stack.homeUrl}?name=rae${address}`);
      await title(other, 'Room').waitFor({ timeout: SHOW_TIMEOUT_MS });
      await expect.poll(() => fragment(other)).toBe('');
    }
    expect(errors).toEqual([]);
    await context.close();
  });
});
