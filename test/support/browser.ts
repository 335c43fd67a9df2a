/**
 * The chat page in Debian's Chromium (through playwright-core, no browser download) for the browser tests in
 * test/e2e/: a browser in front of a whole local stack (./stack.ts), people opening the page with everything
 * the page did that a test should know about, and the waits for what the page shows. Every wait is for
 * something on the page, with a limit, never a sleep or a timed assertion.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  chromium,
  type Locator,
  type Page,
} from 'playwright-core';
import { type RunningStack, type StackOptions, startStack } from './stack.js';

/** Where screenshots go (git-ignored). */
export const SCREENSHOTS = join('test-results', 'e2e');
/** How long to wait for something the page should show, in milliseconds (a limit, not an assertion on time). */
export const SHOW_TIMEOUT_MS = 30_000;
/** Debian's Chromium. */
export const CHROMIUM_PATH = '/usr/bin/chromium';
/** Headless, and nothing that would reach beyond loopback on its own. */
export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const DESKTOP: BrowserContextOptions = { viewport: { width: 1280, height: 800 } };
export const PHONE: BrowserContextOptions = {
  viewport: { width: 390, height: 780 },
  isMobile: true,
  hasTouch: true,
  deviceScaleFactor: 2,
};

/** A person at a browser, with everything the page did that a test should know about. */
export interface Person {
  readonly name: string;
  readonly context: BrowserContext;
  readonly page: Page;
  /** `alert()`/`confirm()`/`prompt()` dialogs the page opened (dismissed; there must be none). */
  readonly dialogs: string[];
  /** Uncaught errors in the page. */
  readonly pageErrors: string[];
  /** Console reports of Content-Security-Policy violations (the page works under its CSP). */
  readonly cspViolations: string[];
  readonly phone: boolean;
}

export interface OpenOptions {
  /** A phone viewport instead of a desktop one. */
  readonly phone?: boolean;
  /** Added to the home URL; `?name=<name>` when absent. */
  readonly query?: string;
  /** Runs before the page is loaded, to listen to what it does from its first request. */
  readonly beforeLoad?: (person: Person) => void | Promise<void>;
}

/** A running stack with Chromium in front of it, and the people it opened. */
export interface BrowserStack {
  readonly stack: RunningStack;
  readonly browser: Browser;
  readonly people: readonly Person[];
  /** Opens the chat page for `name` in a fresh browser context (its own cookies and storage). */
  open(name: string, options?: OpenOptions): Promise<Person>;
  /** Closes every context, the browser and the stack. */
  stop(): Promise<void>;
}

/** Starts a local stack (see ./stack.ts) and Chromium. */
export async function startBrowserStack(options: StackOptions = {}): Promise<BrowserStack> {
  await mkdir(SCREENSHOTS, { recursive: true });
  const stack = await startStack(options);
  let browser: Browser;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  } catch (error) {
    await stack.stop();
    throw error;
  }
  const people: Person[] = [];
  return {
    stack,
    browser,
    people,
    async open(name, { phone = false, query, beforeLoad } = {}) {
      const context = await browser.newContext(phone ? PHONE : DESKTOP);
      const page = await context.newPage();
      const person: Person = { name, context, page, dialogs: [], pageErrors: [], cspViolations: [], phone };
      page.on('console', (message) => {
        if (/Content Security Policy/i.test(message.text())) person.cspViolations.push(message.text());
      });
      page.on('dialog', (dialog) => {
        person.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
        void dialog.dismiss();
      });
      page.on('pageerror', (error) => person.pageErrors.push(error.message));
      people.push(person);
      await beforeLoad?.(person);
      await page.goto(`${stack.homeUrl}${query ?? `?name=${encodeURIComponent(name)}`}`);
      return person;
    },
    async stop() {
      for (const person of people) await person.context.close().catch(() => undefined);
      await browser.close();
      await stack.stop();
    },
  };
}

/** Everything that went wrong in a person's page, for an assertion that it is empty. */
export function problemsOf(person: Person): {
  name: string;
  errors: string[];
  dialogs: string[];
  csp: string[];
} {
  return {
    name: person.name,
    errors: person.pageErrors,
    dialogs: person.dialogs,
    csp: person.cspViolations,
  };
}

/** The connection status pill. */
export function status(person: Person): Locator {
  return person.page.locator('.status-pill');
}

export async function waitConnected(person: Person, timeout = SHOW_TIMEOUT_MS): Promise<void> {
  await person.page.locator('.status-pill[data-status="connected"]').waitFor({ timeout });
}

/** The message box. */
export function composer(person: Person): Locator {
  return person.page.locator('#composer-input');
}

/** A delivered message (not a pending one) in the open conversation. */
export function delivered(person: Person, text: string | RegExp): Locator {
  return person.page.locator('.messages .msg:not(.pending) .bubble', { hasText: text });
}

/** Types and sends a message, and waits until it is delivered (the server's copy replaced the pending one). */
export async function send(person: Person, text: string): Promise<void> {
  await composer(person).fill(text);
  await composer(person).press('Enter');
  await delivered(person, text).waitFor({ timeout: SHOW_TIMEOUT_MS });
}

/**
 * Shows a message's actions (static/components/message-actions.js) as a person reaches them: the pointer over the
 * message on a desktop, a tap on it on a phone (its top left corner: the avatar or the margin, no link of its text).
 */
export async function showActions(person: Person, item: Locator): Promise<void> {
  if (person.phone) await item.tap({ position: { x: 1, y: 1 } });
  else await item.hover();
}

/** A button in the sidebar (a conversation, a person online, a group to join). */
export function sidebarButton(person: Person, name: RegExp): Locator {
  return person.page.locator('#sidebar').getByRole('button', { name });
}

/**
 * How far, in CSS pixels, anything in a person's page reaches past its box sideways: the page itself, any
 * element that lets its content scroll horizontally, a control (button, field, link) that reaches past the
 * window's right edge, where a container that hides its overflow would clip it without any scrolling, or a
 * part of the top bar whose content spills out of its box or into the bar's padding at the edge (nothing
 * scrolls then, but it runs into its neighbour or the edge of the screen). 0 means nothing scrolls sideways,
 * every control is whole and the top bar fits.
 */
export function horizontalOverflow(person: Person): Promise<number> {
  return person.page.evaluate(() => {
    const root = document.scrollingElement ?? document.documentElement;
    let worst = Math.max(0, root.scrollWidth - window.innerWidth);
    for (const element of Array.from(document.querySelectorAll('body *'))) {
      const { overflowX } = getComputedStyle(element);
      if (overflowX !== 'auto' && overflowX !== 'scroll') continue;
      worst = Math.max(worst, element.scrollWidth - element.clientWidth);
    }
    for (const control of Array.from(document.querySelectorAll('button, input, select, textarea, a[href]'))) {
      if (!control.checkVisibility()) continue;
      const box = control.getBoundingClientRect();
      if (box.width > 0 && box.left < window.innerWidth)
        worst = Math.max(worst, box.right - window.innerWidth);
    }
    const bar = document.querySelector('.topbar');
    if (bar) {
      const inner = bar.getBoundingClientRect().right - Number.parseFloat(getComputedStyle(bar).paddingRight);
      for (const part of Array.from(bar.querySelectorAll('*'))) {
        if (!part.checkVisibility() || part.closest('.sr-only')) continue;
        const box = part.getBoundingClientRect();
        if (box.width === 0) continue;
        worst = Math.max(worst, Math.round(box.right - inner));
        if (getComputedStyle(part).overflowX === 'visible' && part.clientWidth > 0)
          worst = Math.max(worst, part.scrollWidth - part.clientWidth);
      }
    }
    return worst;
  });
}

/**
 * The WCAG contrast ratio of an element's text against what is behind it: the first opaque background colour
 * up its ancestors, or a gradient's colour stops (the worst of them: my own bubble is a gradient, whose
 * `background-color` is transparent).
 */
export function contrastOf(page: Page, selector: string): Promise<number> {
  return page.evaluate((sel) => {
    const element = document.querySelector(sel);
    if (!element) throw new Error(`nothing matches ${sel}`);
    const rgb = (value: string) => (value.match(/[\d.]+/g) ?? []).map(Number);
    const luminance = ([r = 0, g = 0, b = 0]: number[]) => {
      const channel = (c: number) => {
        const s = c / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    };
    let behind: Element | null = element;
    let backgrounds = [[255, 255, 255]];
    while (behind) {
      const style = getComputedStyle(behind);
      const stops = style.backgroundImage.includes('gradient')
        ? (style.backgroundImage.match(/rgba?\([^)]*\)/g) ?? []).map(rgb)
        : [];
      if (stops.length > 0) {
        backgrounds = stops.map((stop) => stop.slice(0, 3));
        break;
      }
      const parts = rgb(style.backgroundColor);
      if (parts.length === 3 || (parts[3] ?? 0) === 1) {
        backgrounds = [parts.slice(0, 3)];
        break;
      }
      behind = behind.parentElement;
    }
    const fore = luminance(rgb(getComputedStyle(element).color));
    return Math.min(
      ...backgrounds.map((background) => {
        const back = luminance(background);
        return (Math.max(fore, back) + 0.05) / (Math.min(fore, back) + 0.05);
      }),
    );
  }, selector);
}

/**
 * Creates a private group with `members` (comma-separated ids) or, without them, a public channel, from the
 * sidebar's form, and waits until the page shows it open.
 */
export async function createGroup(person: Person, name: string, members?: string): Promise<void> {
  const { page } = person;
  const channel = members === undefined;
  // Members first: leaving their field for the name closes its suggestions, which would cover the button.
  if (channel) await page.locator('#new-group-channel').check();
  else await page.locator('#new-group-members').fill(members);
  await page.locator('#new-group-name').fill(name);
  await page.getByRole('button', { name: channel ? 'Create channel' : 'Create private group' }).click();
  await page
    .locator('.conversation-titles .conversation-sub', { hasText: channel ? 'Channel' : 'Private group' })
    .waitFor({ timeout: SHOW_TIMEOUT_MS });
}

/** Opens the phone drawer when the person is on a phone (the sidebar is always visible on a desktop). */
export async function showSidebar(person: Person): Promise<void> {
  if (!person.phone) return;
  const menu = person.page.locator('#menu-button');
  if ((await menu.getAttribute('aria-expanded')) !== 'true') await menu.click();
  await person.page.locator('#sidebar').waitFor({ state: 'visible' });
}

/** A conversation in the sidebar's list of conversations (not a person of the online list). */
export function conversationButton(person: Person, name: RegExp): Locator {
  return person.page
    .locator('#sidebar nav[aria-labelledby="conversations-heading"]')
    .getByRole('button', { name });
}

/** The chips (chosen people) of the people picker whose field has the id `inputId` (components/people-picker.js). */
export function pickerChips(person: Person, inputId: string): Locator {
  const { page } = person;
  return page.locator('.people-picker', { has: page.locator(`#${inputId}`) }).getByTestId('picker-chip');
}

/** The suggestions the people picker whose field has the id `inputId` shows. */
export function pickerOptions(person: Person, inputId: string): Locator {
  return person.page.locator(`#${inputId}-list [role="option"]`);
}

/**
 * Types `typed` key by key into a people picker, waits for the suggestion that `choose` picks out and takes it
 * with the keyboard (arrows to it, then Enter), as a person would; resolves once its chip shows.
 */
export async function pickPerson(
  person: Person,
  inputId: string,
  typed: string,
  choose: Locator,
): Promise<void> {
  const field = person.page.locator(`#${inputId}`);
  const chips = await pickerChips(person, inputId).count();
  await field.click();
  await field.pressSequentially(typed);
  await choose.waitFor({ timeout: SHOW_TIMEOUT_MS });
  const options = await pickerOptions(person, inputId).count();
  for (let i = 0; i < options && (await choose.getAttribute('aria-selected')) !== 'true'; i++) {
    await field.press('ArrowDown');
  }
  await field.press('Enter');
  await pickerChips(person, inputId).nth(chips).waitFor({ timeout: SHOW_TIMEOUT_MS });
}

/**
 * Fills the development sign-in page (CHAT_AUTH=entra) as `name`, with `account` (by default the name in lower
 * case), ticking `roles` ("Moderator", "Admin"), and waits until the chat is connected.
 */
export async function signInOnPage(
  person: Person,
  name: string,
  roles: string[] = [],
  account = name.toLowerCase(),
): Promise<void> {
  await person.page.getByLabel('Name to show').waitFor({ timeout: SHOW_TIMEOUT_MS });
  await person.page.getByLabel('Name to show').fill(name);
  await person.page.getByLabel('Account (optional)').fill(account);
  for (const role of roles) await person.page.getByLabel(role).check();
  await person.page.getByRole('button', { name: 'Sign in' }).click();
  await waitConnected(person);
}

/** How many unsent messages of `user` the browser keeps in IndexedDB (static/link/outbox-store.js). */
export function storedOutbox(person: Person, user: string): Promise<number> {
  return person.page.evaluate(
    (who) =>
      new Promise<number>((resolve, reject) => {
        const request = indexedDB.open('chat-outbox', 1);
        request.onupgradeneeded = () =>
          request.result.createObjectStore('pending', { keyPath: 'key' }).createIndex('user', 'user');
        request.onerror = () => reject(request.error);
        request.onsuccess = () => {
          const db = request.result;
          const count = db.transaction('pending').objectStore('pending').index('user').count(who);
          count.onsuccess = () => {
            db.close();
            resolve(count.result);
          };
          count.onerror = () => reject(count.error);
        };
      }),
    user,
  );
}
