/**
 * The page's read state (static/state/read-state.js), run in Node: positions only move forward, the welcome's
 * counts are the server's, `read` clears what it covers, a message that arrives where it is not seen (another
 * conversation, or the open one in a hidden tab) is unread, and where the "new messages" line and "Seen" go.
 */
import { describe, expect, it } from 'vitest';

interface Message {
  id: string;
  conversation: string;
  from: string;
  text: string;
  sentAt: string;
}
interface Conversation {
  id: string;
  messages: Message[];
  unread: number;
  unreadMore: boolean;
  mentions: number;
  lastReadId: string | null;
  readLine: string | null;
  seenId: string | null;
  loaded: boolean;
  unreadAtOpen: number;
}
interface State {
  me: string;
  activeId: string;
  pageVisible: boolean;
  conversations: Map<string, Conversation>;
}
const page = (path: string) => import(new URL(`../../static/${path}`, import.meta.url).href);
const reads: {
  createChatState(me: string): State;
  ensureConversation(state: State, id: string): Conversation;
  applyWelcomeReads(state: State, reads: unknown): void;
  applyRead(state: State, payload: object): void;
  applySeen(state: State, payload: object, type: 'seen' | 'readState'): void;
  readToNewest(c: Conversation): string | null;
  unreadText(c: Conversation): string;
  firstUnreadId(c: Conversation, me: string): string | null;
  lastSeenMineId(c: Conversation, me: string): string | null;
  openConversation(state: State, id: string): Conversation;
  settleReadLine(c: Conversation, me: string): void;
  idBefore(id: string): string;
  applyMessage(state: State, message: Message): { isNew: boolean };
} = {
  ...(await page('state/chat-state.js')),
  ...(await page('state/read-state.js')),
  ...(await page('state/chat-history.js')),
};

const DM = 'dm:ann:bob';
/** Message ids that sort by `n`, as ULIDs do by time. */
const id = (n: number) => `01J${String(n).padStart(23, '0')}`;
const message = (n: number, from: string): Message => ({
  id: id(n),
  conversation: DM,
  from,
  text: `#${n}`,
  sentAt: new Date(n * 1000).toISOString(),
});

function withMessages(): { state: State; c: Conversation } {
  const state = reads.createChatState('ann');
  const c = reads.ensureConversation(state, DM);
  c.messages = [message(1, 'bob'), message(2, 'ann'), message(3, 'bob'), message(4, 'bob')];
  return { state, c };
}

describe('the page read state', () => {
  it('takes the welcome counts and puts the line at the position', () => {
    const { state, c } = withMessages();
    reads.applyWelcomeReads(state, [{ conversation: DM, lastReadId: id(2), unread: 2 }]);
    expect([c.lastReadId, c.unread, c.readLine]).toEqual([id(2), 2, id(2)]);
    expect(reads.firstUnreadId(c, 'ann')).toBe(id(3));
    expect(reads.unreadText(c)).toBe('2');
    reads.applyWelcomeReads(state, [{ conversation: DM, lastReadId: id(2), unread: 140, more: true }]);
    expect(reads.unreadText(c)).toBe('99+');
    // A welcome behind what this page read (another instance not written yet) never moves it back, and what
    // is unread is what this page has after its own position.
    c.lastReadId = id(3);
    reads.applyWelcomeReads(state, [{ conversation: DM, lastReadId: id(1), unread: 3 }]);
    expect([c.lastReadId, c.unread, reads.unreadText(c)]).toEqual([id(3), 1, '1']);
  });

  it('clears what a read covers, and only moves forward', () => {
    const { state, c } = withMessages();
    c.unread = 3;
    c.lastReadId = id(1);
    reads.applyRead(state, { conversation: DM, lastReadId: id(3) });
    expect([c.lastReadId, c.unread]).toEqual([id(3), 1]);
    reads.applyRead(state, { conversation: DM, lastReadId: id(1) });
    expect(c.lastReadId).toBe(id(3));
    expect(reads.readToNewest(c)).toBe(id(4));
    expect([c.lastReadId, c.unread]).toEqual([id(4), 0]);
    expect(reads.readToNewest(c)).toBeNull();
  });

  it('puts "Seen" under my last message the other person read', () => {
    const { state, c } = withMessages();
    expect(reads.lastSeenMineId(c, 'ann')).toBeNull();
    reads.applySeen(state, { conversation: DM, user: 'bob', lastReadId: id(3) }, 'seen');
    expect(reads.lastSeenMineId(c, 'ann')).toBe(id(2));
    reads.applySeen(state, { conversation: DM, seen: { user: 'bob', lastReadId: id(1) } }, 'readState');
    expect(c.seenId).toBe(id(3));
  });

  it('gives the greatest ULID before an id, borrowing over zeros', () => {
    expect(reads.idBefore('01J0000000000000000000000B')).toBe('01J0000000000000000000000A');
    expect(reads.idBefore('01J00000000000000000000010')).toBe('01J0000000000000000000000Z');
    expect(reads.idBefore('01J00000000000000000000J00')).toBe('01J00000000000000000000HZZ');
    expect(reads.idBefore('00000')).toBe('');
    expect(reads.idBefore('not-a-ulid')).toBe('');
  });

  it('places the line of a conversation never opened by the count it had: before the unread of others', () => {
    const { state, c } = withMessages();
    // Never opened: the server counted 2 (bob's #3 and #4 came since I was in it), and no position.
    reads.applyWelcomeReads(state, [{ conversation: DM, unread: 2 }]);
    reads.openConversation(state, DM);
    expect([c.unread, c.unreadAtOpen, c.readLine]).toEqual([0, 2, null]);
    // Not before its messages are in: then once, and a mark of mine does not move it.
    reads.settleReadLine(c, 'ann');
    expect(c.readLine).toBeNull();
    c.loaded = true;
    reads.settleReadLine(c, 'ann');
    expect(reads.firstUnreadId(c, 'ann')).toBe(id(3));
    reads.readToNewest(c);
    reads.settleReadLine(c, 'ann');
    expect(reads.firstUnreadId(c, 'ann')).toBe(id(3));
  });

  it('puts the line before the oldest loaded when all are unread, and nowhere when none were', () => {
    const { state, c } = withMessages();
    c.loaded = true;
    c.unread = 40;
    reads.openConversation(state, DM);
    reads.settleReadLine(c, 'ann');
    expect(reads.firstUnreadId(c, 'ann')).toBe(id(1));
    const other = withMessages();
    other.c.loaded = true;
    reads.openConversation(other.state, DM);
    reads.settleReadLine(other.c, 'ann');
    expect([other.c.readLine, reads.firstUnreadId(other.c, 'ann')]).toEqual([null, null]);
  });

  it('counts a message of someone else as unread where it is not seen: the open conversation of a hidden tab too', () => {
    const { state, c } = withMessages();
    reads.openConversation(state, DM);
    reads.applyMessage(state, message(5, 'bob'));
    expect(c.unread).toBe(0);
    state.pageVisible = false;
    reads.applyMessage(state, message(6, 'bob'));
    reads.applyMessage(state, message(7, 'ann'));
    reads.applyMessage(state, message(6, 'bob'));
    expect(c.unread).toBe(1);
    // Seen once the page is in view again: the mark of the newest clears it.
    state.pageVisible = true;
    expect(reads.readToNewest(c)).toBe(id(7));
    expect(c.unread).toBe(0);
  });
});
