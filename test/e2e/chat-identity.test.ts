/**
 * The chat page in Chromium against the local stack in keyless mode (SIGNALR_AUTH=identity): the app gets its
 * tokens from the local identity endpoint through `@azure/identity`'s `ManagedIdentityCredential`, negotiate
 * asks the service's `:generateToken`, and every upstream call carries the service's Entra bearer token. A file
 * of its own: a stack sets the app settings of its process, and the managed identity client keeps its endpoint
 * for the life of the process.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserStack,
  delivered,
  type Person,
  problemsOf,
  SCREENSHOTS,
  SHOW_TIMEOUT_MS,
  send,
  startBrowserStack,
  waitConnected,
} from '../support/browser.js';

let chat: BrowserStack;

async function open(name: string, query?: string): Promise<Person> {
  const person = await chat.open(name, { query });
  await waitConnected(person);
  return person;
}

beforeAll(async () => {
  chat = await startBrowserStack({ identity: true });
});

afterAll(async () => {
  await chat?.stop();
});

describe('the chat page in identity mode', () => {
  it('lets people chat, the room history included, with no access key anywhere', async () => {
    const { stack } = chat;
    expect(stack.env.SIGNALR_AUTH).toBe('identity');
    expect(stack.env.AzureSignalRConnectionString).toContain('AuthType=azure.msi');
    expect(stack.env.AzureSignalRConnectionString).not.toContain('AccessKey');

    const ann = await open('ann');
    const bob = await open('bob');
    await send(ann, 'Hello without keys.');
    await delivered(bob, 'Hello without keys.').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await send(bob, 'Entra all the way.');
    await delivered(ann, 'Entra all the way.').waitFor({ timeout: SHOW_TIMEOUT_MS });

    // Keyless Web PubSub needs https, which the local service does not speak: the chat is SignalR's alone here.
    const dave = await open('dave', '?name=dave');
    // The welcome carried the room's history.
    await delivered(dave, 'Entra all the way.').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await send(dave, 'A third page, same tokens.');
    await delivered(ann, 'A third page, same tokens.').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await ann.page.screenshot({ path: join(SCREENSHOTS, 'identity-mode-ann-desktop.png') });

    expect(stack.logs.filter((line) => line.includes('upstream call rejected'))).toEqual([]);
    for (const person of chat.people)
      expect(problemsOf(person)).toEqual({ name: person.name, errors: [], dialogs: [], csp: [] });
  });
});
