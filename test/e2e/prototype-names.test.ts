/**
 * People named like properties of every JavaScript object (`__proto__`, `constructor`) in Chromium against
 * the local stack: they join, chat in the room and privately, and leave, while another page keeps its online
 * list and its messages; a page opened afterwards shows the whole history. A page that kept names or ids as
 * keys of a plain object would read Object.prototype for them and break (docs/architecture.md, "Names").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserStack,
  delivered,
  type Person,
  problemsOf,
  SHOW_TIMEOUT_MS,
  send,
  sidebarButton,
  startBrowserStack,
  waitConnected,
} from '../support/browser.js';

let chat: BrowserStack;

/** Opens the page for `name` (with `query` added, e.g. a dialect or hub protocol) and waits until it is connected. */
async function enter(name: string, query = ''): Promise<Person> {
  const person = await chat.open(name, { query: `?name=${encodeURIComponent(name)}${query}` });
  await waitConnected(person);
  return person;
}

/** The names in a page's online list, in the order shown (`(you)` marks the page's own user). */
function onlineList(person: Person): Promise<string[]> {
  return person.page.locator('.people .person-name').allTextContents();
}

/** The online count in the list's heading. */
async function onlineCount(person: Person): Promise<string> {
  return ((await person.page.locator('#online-heading .count').textContent()) ?? '').trim();
}

/** The delivered messages in the open conversation as `sender: text`, the sender as the page names it. */
function shownMessages(person: Person): Promise<string[]> {
  return person.page.locator('.messages .msg:not(.pending)').evaluateAll((messages) =>
    messages.map((m) => {
      // A message that continues the one before names its sender for screen readers only ("ann, 14:05:").
      const from =
        m.querySelector('.msg-from')?.textContent?.trim() ??
        m.querySelector('.sr-only')?.textContent?.split(',')[0]?.trim() ??
        '';
      return `${from}: ${m.querySelector('.bubble')?.textContent ?? ''}`;
    }),
  );
}

beforeAll(async () => {
  chat = await startBrowserStack();
});

afterAll(async () => {
  await chat?.stop();
});

describe('names an object prototype knows, on the page', () => {
  it('lets __proto__ and constructor chat while another page keeps its list and messages, and a later page shows the history', async () => {
    const ann = await enter('ann');
    await send(ann, 'Before anyone else.');

    // Each of the two on another wire: MessagePack maps and raw WebSocket JSON carry their names too.
    const proto = await enter('__proto__', '&protocol=messagepack');
    const ctor = await enter('constructor', '&dialect=websocket');
    await sidebarButton(ann, /__proto__ Message privately/).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await sidebarButton(ann, /constructor Message privately/).waitFor({ timeout: SHOW_TIMEOUT_MS });
    // Each sees the other in its own list, with its own name as itself.
    await sidebarButton(proto, /constructor Message privately/).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await sidebarButton(ctor, /__proto__ Message privately/).waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect(proto.page.locator('.whoami-name').textContent()).resolves.toContain('__proto__');

    await send(proto, 'Hello from proto.');
    await send(ctor, 'Hello from constructor.');
    await send(ann, 'Hello to you both.');
    for (const person of [ann, proto, ctor]) {
      await delivered(person, 'Hello from proto.').waitFor({ timeout: SHOW_TIMEOUT_MS });
      await delivered(person, 'Hello from constructor.').waitFor({ timeout: SHOW_TIMEOUT_MS });
      await delivered(person, 'Hello to you both.').waitFor({ timeout: SHOW_TIMEOUT_MS });
    }
    await expect(shownMessages(ann)).resolves.toEqual([
      'You: Before anyone else.',
      '__proto__: Hello from proto.',
      'constructor: Hello from constructor.',
      'You: Hello to you both.',
    ]);
    await expect(onlineList(ann)).resolves.toEqual(['ann (you)', '__proto__', 'constructor']);
    await expect(onlineCount(ann)).resolves.toBe('3');

    // A private conversation between the two: its id is made of both names.
    await sidebarButton(proto, /constructor Message privately/).click();
    await send(proto, 'Just between us.');
    const privateWithProto = ctor.page.locator('#sidebar .conv', { hasText: '__proto__' });
    await privateWithProto.waitFor({ timeout: SHOW_TIMEOUT_MS });
    await privateWithProto.click();
    await delivered(ctor, 'Just between us.').waitFor({ timeout: SHOW_TIMEOUT_MS });

    // They leave; ann's page still lists who is there and shows every message.
    await proto.context.close();
    await ctor.context.close();
    await expect.poll(() => onlineList(ann), { timeout: SHOW_TIMEOUT_MS }).toEqual(['ann (you)']);
    await expect.poll(() => onlineCount(ann), { timeout: SHOW_TIMEOUT_MS }).toBe('1');
    await send(ann, 'Still here.');
    await expect(shownMessages(ann)).resolves.toEqual([
      'You: Before anyone else.',
      '__proto__: Hello from proto.',
      'constructor: Hello from constructor.',
      'You: Hello to you both.',
      'You: Still here.',
    ]);

    // A page opened afterwards gets the room's history with their messages in it.
    const carol = await enter('carol');
    await delivered(carol, 'Still here.').waitFor({ timeout: SHOW_TIMEOUT_MS });
    await expect(shownMessages(carol)).resolves.toEqual([
      'ann: Before anyone else.',
      '__proto__: Hello from proto.',
      'constructor: Hello from constructor.',
      'ann: Hello to you both.',
      'ann: Still here.',
    ]);
    await expect(onlineList(carol)).resolves.toEqual(['carol (you)', 'ann']);

    for (const person of chat.people) {
      expect(problemsOf(person)).toEqual({ name: person.name, errors: [], dialogs: [], csp: [] });
    }
  });
});
