/**
 * The chat page in Chromium against the local stack in keyless mode (SIGNALR_AUTH=identity): the app gets its
 * tokens from the local identity endpoint through `@azure/identity`'s `ManagedIdentityCredential`, negotiate
 * asks the service's `:generateToken`, and every upstream call carries the service's Entra bearer token. A file
 * of its own: a stack sets the app settings of its process, and the managed identity client keeps its endpoint
 * for the life of the process.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningStack, startStack } from '../support/stack.js';

const SCREENSHOTS = join('test-results', 'e2e');
/** How long to wait for something the page should show (a limit, not an assertion on time). */
const SHOW_TIMEOUT_MS = 30_000;
const CHROMIUM_ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run'];

interface Person {
  readonly name: string;
  readonly context: BrowserContext;
  readonly page: Page;
  readonly problems: string[];
}

let stack: RunningStack;
let browser: Browser;
const people: Person[] = [];

async function open(name: string, query = `?name=${encodeURIComponent(name)}`): Promise<Person> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const person: Person = { name, context, page, problems: [] };
  page.on('dialog', (dialog) => {
    person.problems.push(`dialog ${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on('pageerror', (error) => person.problems.push(`page error: ${error.message}`));
  people.push(person);
  await page.goto(`${stack.homeUrl}${query}`);
  await page.locator('.status-pill[data-status="connected"]').waitFor({ timeout: SHOW_TIMEOUT_MS });
  return person;
}

function delivered(person: Person, text: string): Locator {
  return person.page.locator('.messages .msg:not(.pending) .bubble', { hasText: text });
}

async function send(person: Person, text: string): Promise<void> {
  const input = person.page.locator('#composer-input');
  await input.fill(text);
  await input.press('Enter');
  await delivered(person, text).waitFor({ timeout: SHOW_TIMEOUT_MS });
}

beforeAll(async () => {
  await mkdir(SCREENSHOTS, { recursive: true });
  stack = await startStack({ identity: true });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
});

afterAll(async () => {
  for (const person of people) await person.context.close().catch(() => undefined);
  await browser?.close();
  await stack?.stop();
});

describe('the chat page in identity mode', () => {
  it('lets people chat in both dialects with no access key anywhere', async () => {
    expect(stack.env.SIGNALR_AUTH).toBe('identity');
    expect(stack.env.AzureSignalRConnectionString).toContain('AuthType=azure.msi');
    expect(stack.env.AzureSignalRConnectionString).not.toContain('AccessKey');

    const ann = await open('ann');
    const bob = await open('bob');
    await send(ann, 'Hello without keys.');
    await delivered(bob, 'Hello without keys.').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await send(bob, 'Entra all the way.');
    await delivered(ann, 'Entra all the way.').waitFor({ timeout: SHOW_TIMEOUT_MS });

    const dave = await open('dave', '?name=dave&dialect=websocket');
    // The welcome carried the room's history.
    await delivered(dave, 'Entra all the way.').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await send(dave, 'Raw WebSocket, same tokens.');
    await delivered(ann, 'Raw WebSocket, same tokens.').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await ann.page.screenshot({ path: join(SCREENSHOTS, 'identity-mode-ann-desktop.png') });

    expect(stack.logs.filter((line) => line.includes('upstream call rejected'))).toEqual([]);
    for (const person of people)
      expect({ name: person.name, problems: person.problems }).toEqual({
        name: person.name,
        problems: [],
      });
  });
});
