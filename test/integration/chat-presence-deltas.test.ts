/**
 * Presence through the whole stack: the welcome's first page and count, one coalesced `presence` delta per
 * join for the others, paging with `listOnline`, and the page's online list (static/state/online-list.js, fed with
 * what a client received) exact after leaves, a crash without disconnect, and reconnects.
 */
import { describe, expect, it } from 'vitest';
import type { ChatClient, ReceivedEvent } from '../support/chat-clients.js';
import { isMessage, welcomeOf } from '../support/chat-clients.js';
import { useChatStack } from '../support/fixtures.js';

// Small pages and a long window make paging and coalescing visible with a handful of users.
const PAGE = 3;
const chat = useChatStack({
  env: {
    CHAT_ONLINE_PAGE_SIZE: String(PAGE),
    CHAT_PRESENCE_WINDOW_MS: '400',
    CHAT_PRESENCE_STALE_GRACE_MS: '3000',
  },
  // A disconnect that fails once is given up: a stopped Functions host loses it, as a crashed instance would.
  serviceOptions: { notificationAttempts: 1 },
});
const { connect } = chat;

interface PageState {
  me: string;
  online: string[];
  onlineCount: number;
  onlineNext: string | null;
}
const pageState: {
  createChatState(me: string): PageState;
  applyWelcome(state: PageState, welcome: object): void;
  applyPresence(state: PageState, delta: object): void;
  applyOnline(state: PageState, page: object): void;
  awaitOnline(state: PageState): void;
} = {
  ...(await import(new URL('../../static/state/chat-state.js', import.meta.url).href)),
  ...(await import(new URL('../../static/state/chat-welcome.js', import.meta.url).href)),
  ...(await import(new URL('../../static/state/online-list.js', import.meta.url).href)),
};

/** The page's view of the online list after the events `client` received, applied as the page applies them. */
function viewOf(client: ChatClient): PageState {
  const state = pageState.createChatState(client.user);
  for (const { type, payload } of client.events) {
    if (type === 'welcome') pageState.applyWelcome(state, payload);
    else if (type === 'presence') pageState.applyPresence(state, payload);
    else if (type === 'online') pageState.applyOnline(state, payload);
  }
  return state;
}

/** Loads every page of the online list into the client's view (as "show more" does), from its cursor on. */
async function loadAll(client: ChatClient): Promise<void> {
  for (;;) {
    const next = viewOf(client).onlineNext;
    if (next === null) return;
    const from = client.events.length;
    await client.send('listOnline', { after: next });
    await client.waitFor((e) => e.type === 'online' && e.payload.after === next, from);
  }
}

/**
 * Waits until everything sent to `client` before now has arrived: a message from `client` itself, through
 * the room (the service delivers each connection's frames in order).
 */
async function fence(client: ChatClient): Promise<void> {
  const text = `fence ${Math.random()}`;
  await client.send('sendMessage', { text });
  await client.waitFor(isMessage(text));
}

const presenceEvents = (client: ChatClient, from: number): ReceivedEvent[] =>
  client.events.slice(from).filter((e) => e.type === 'presence');

/**
 * Waits until `client` has heard that `user` joined. A welcome arrives before the joiner's own delta is sent
 * (that goes out with its presence window), so a test that counts the deltas of later joins waits for it.
 */
const heardJoin = (client: ChatClient, user: string): Promise<ReceivedEvent> =>
  client.waitFor((e) => e.type === 'presence' && (e.payload.joined as string[]).includes(user));

describe('presence as deltas', () => {
  it('a joiner gets the first page and the count; each of the others gets one delta; pages fill the rest', async () => {
    const names = ['p1', 'p2', 'p3', 'p4', 'p5'];
    const others: ChatClient[] = [];
    for (const name of names) others.push(await connect(name, 'signalr'));
    await Promise.all(others.map((c) => heardJoin(c, 'p5')));
    const marks = others.map((c) => c.events.length);

    const zed = await connect('p0', 'signalr');
    expect(welcomeOf(zed)).toMatchObject({ online: ['p0', 'p1', 'p2'], onlineCount: 6, onlineNext: 'p2' });
    await Promise.all(others.map((c) => heardJoin(c, 'p0')));
    await Promise.all(others.map((c) => fence(c)));
    for (const [i, c] of others.entries()) {
      const deltas = presenceEvents(c, marks[i] ?? 0);
      expect(deltas.map((e) => e.payload)).toMatchObject([{ joined: ['p0'], left: [], count: 6 }]);
    }

    // Paging: the rest of the list, in order, with the count; the last page has no cursor.
    const from = zed.events.length;
    await zed.send('listOnline', { after: 'p2', limit: 2 });
    const second = await zed.waitFor((e) => e.type === 'online', from);
    expect(second.payload).toMatchObject({ users: ['p3', 'p4'], count: 6, after: 'p2', next: 'p4' });
    await zed.send('listOnline', { after: 'p4', limit: 2 });
    const last = await zed.waitFor((e) => e.type === 'online' && e.payload.after === 'p4', from);
    expect(last.payload).toMatchObject({ users: ['p5'], count: 6 });
    expect(last.payload.next).toBeUndefined();
    // A refused page says what to fix.
    await zed.send('listOnline', { limit: 501 });
    const error = await zed.waitFor((e) => e.type === 'error', from);
    expect(error.payload).toMatchObject({ code: 'invalid-limit', command: 'listOnline' });

    await loadAll(zed);
    expect(viewOf(zed)).toMatchObject({ online: ['p0', ...names], onlineCount: 6, onlineNext: null });
    await Promise.all([zed, ...others].map((c) => c.close()));
  });

  it('coalesces a burst of joins into fewer deltas than joins, and every page ends exact', async () => {
    const watcher = await connect('watch', 'signalr');
    await heardJoin(watcher, 'watch');
    const from = watcher.events.length;
    const burst = Array.from({ length: 8 }, (_, i) => `b${i}`);
    const joined = await Promise.all(
      burst.map((name, i) => connect(name, i % 2 === 0 ? 'signalr' : 'webpubsub')),
    );
    await Promise.all(burst.map((name) => heardJoin(watcher, name)));
    await fence(watcher);
    const deltas = presenceEvents(watcher, from);
    expect(deltas.length).toBeLessThan(burst.length);
    expect(deltas.flatMap((e) => e.payload.joined as string[]).sort()).toEqual(burst);

    await loadAll(watcher);
    expect(viewOf(watcher)).toMatchObject({ online: [...burst, 'watch'], onlineCount: 9 });
    // Each newcomer's page too.
    for (const client of joined) {
      await fence(client);
      await loadAll(client);
      expect(viewOf(client)).toMatchObject({ online: [...burst, 'watch'], onlineCount: 9 });
    }
    await Promise.all([watcher, ...joined].map((c) => c.close()));
  });

  it('keeps the list exact after leaves, a crash without disconnect, and a reconnect', async () => {
    const watcher = await connect('w', 'signalr');
    const ann = await connect('ann', 'webpubsub');
    const bob = await connect('bob', 'signalr');
    const cat = await connect('cat', 'signalr');
    // The joins' deltas go out with their presence window, after the welcomes.
    await heardJoin(watcher, 'cat');
    await fence(watcher);
    await loadAll(watcher);
    expect(viewOf(watcher).online).toEqual(['ann', 'bob', 'cat', 'w']);
    await loadAll(cat); // its first page ends at 'cat'
    expect(viewOf(cat).online).toEqual(['ann', 'bob', 'cat', 'w']);

    // A leave: one delta.
    await ann.close();
    await watcher.waitFor((e) => e.type === 'presence' && (e.payload.left as string[]).includes('ann'));
    expect(viewOf(watcher)).toMatchObject({ online: ['bob', 'cat', 'w'], onlineCount: 3 });

    // A crash: bob's connection ends while the Functions host is down, so its disconnect never arrives.
    const logsBefore = chat.stack.logs.length;
    await chat.stack.stopFunctions();
    await bob.close();
    while (!chat.stack.logs.slice(logsBefore).some((l) => l.includes('Upstream disconnected call failed')))
      await new Promise((resolve) => setTimeout(resolve, 50));
    await chat.stack.startFunctions();
    await fence(watcher);
    expect(viewOf(watcher).online).toContain('bob'); // nobody could know yet
    // Once the entry is older than the grace period, the next listing that reaches it removes it for everyone.
    await new Promise((resolve) => setTimeout(resolve, 3100));
    const from = watcher.events.length;
    await watcher.send('listOnline', {});
    await watcher.waitFor((e) => e.type === 'presence' && (e.payload.left as string[]).includes('bob'), from);
    await fence(cat);
    expect(viewOf(watcher)).toMatchObject({ online: ['cat', 'w'], onlineCount: 2 });
    expect(viewOf(cat)).toMatchObject({ online: ['cat', 'w'], onlineCount: 2 });

    // A reconnect: the new connection's welcome is a fresh snapshot, exact without any full list to others.
    const marks = [watcher.events.length, cat.events.length];
    await watcher.close();
    await cat.waitFor((e) => e.type === 'presence' && (e.payload.left as string[]).includes('w'), marks[1]);
    const back = await connect('w', 'signalr');
    await fence(back);
    await fence(cat);
    expect(viewOf(back)).toMatchObject({ online: ['cat', 'w'], onlineCount: 2, onlineNext: null });
    expect(viewOf(cat)).toMatchObject({ online: ['cat', 'w'], onlineCount: 2 });
    await Promise.all([back, cat].map((c) => c.close()));
  });
});
