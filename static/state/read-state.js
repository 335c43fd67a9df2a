/**
 * Read state as the server keeps it (docs/architecture.md, "Read state"): my last-read position and unread
 * count per conversation from the `welcome`, `read` when another of my tabs read on, `seen` when the other
 * person of a private conversation did, and `readState`, the answer to `loadReadState`. Message ids are ULIDs,
 * which sort by time: every position only moves forward.
 */
import { ensureConversation } from './chat-state.js';

/** Unread counts above this show as "99+". */
export const UNREAD_SHOWN_MAX = 99;

/**
 * @typedef {import('./chat-state.js').ChatState} ChatState
 * @typedef {import('./chat-state.js').Conversation} Conversation
 * @typedef {{ conversation: string, lastReadId?: string, unread?: number, more?: boolean }} ReadMark
 */

/** The later of two positions (`null`: none). @param {string | null} a @param {unknown} b */
function later(a, b) {
  if (typeof b !== 'string') return a;
  return a === null || b > a ? b : a;
}

/**
 * Messages of others after my position among those loaded (what is still unread once I read up to it).
 * @param {ChatState} state @param {Conversation} c
 */
function unreadLoaded(state, c) {
  if (c.lastReadId === null) return 0;
  const from = /** @type {string} */ (c.lastReadId);
  return c.messages.filter((m) => m.id > from && m.from !== state.me && !m.deleted).length;
}

/**
 * The welcome's `reads`: each conversation's position and the server's count of what is unread after it. The
 * "new messages" line of a conversation I am not looking at moves to the position.
 * @param {ChatState} state @param {ReadMark[] | undefined} reads
 */
export function applyWelcomeReads(state, reads) {
  for (const mark of Array.isArray(reads) ? reads : []) {
    if (typeof mark?.conversation !== 'string') continue;
    const c = ensureConversation(state, mark.conversation);
    // This page may know a later position than the instance that answered (another's write is up to 5 s away).
    const behind = c.lastReadId !== null && (mark.lastReadId === undefined || mark.lastReadId < c.lastReadId);
    c.lastReadId = later(c.lastReadId, mark.lastReadId);
    c.unread = behind ? unreadLoaded(state, c) : Number.isInteger(mark.unread) ? Number(mark.unread) : 0;
    c.unreadMore = !behind && mark.more === true;
    if (c.readLine === null || c.id !== state.activeId) {
      c.readLine = c.lastReadId;
      c.unreadAtOpen = c.lastReadId === null ? c.unread : 0;
    }
  }
}

/**
 * `read`: I read a conversation up to `lastReadId` (in this tab or another): what was unread before it is not.
 * @param {ChatState} state @param {{ conversation?: unknown, lastReadId?: unknown }} payload
 */
export function applyRead(state, payload) {
  if (typeof payload.conversation !== 'string' || typeof payload.lastReadId !== 'string') return;
  const c = ensureConversation(state, payload.conversation);
  c.lastReadId = later(c.lastReadId, payload.lastReadId);
  c.unread = unreadLoaded(state, c);
  c.unreadMore = false;
  if (c.unread === 0) c.mentions = 0;
}

/**
 * `seen` (the other person read on) and `readState` (the answer to `loadReadState`: my position and theirs).
 * @param {ChatState} state
 * @param {{ conversation?: unknown, lastReadId?: unknown, user?: unknown, seen?: { lastReadId?: unknown } }} payload
 * @param {'seen' | 'readState'} type
 */
export function applySeen(state, payload, type) {
  if (typeof payload.conversation !== 'string') return;
  const c = ensureConversation(state, payload.conversation);
  if (type === 'seen') {
    if (payload.user !== state.me) c.seenId = later(c.seenId, payload.lastReadId);
    return;
  }
  c.lastReadId = later(c.lastReadId, payload.lastReadId);
  c.seenId = later(c.seenId, payload.seen?.lastReadId);
}

/**
 * Marks the open conversation read up to its newest message, here at once (the server hears it from the
 * caller). Returns that message's id when the position moved, else `null`.
 * @param {Conversation} c
 */
export function readToNewest(c) {
  const newest = c.messages.at(-1)?.id;
  if (newest === undefined || (c.lastReadId !== null && newest <= c.lastReadId)) return null;
  c.lastReadId = newest;
  c.unread = 0;
  c.unreadMore = false;
  c.mentions = 0;
  return newest;
}

/** The unread badge's text: the count, "99+" past it, "40+" when the server stopped counting. @param {Conversation} c */
export function unreadText(c) {
  if (c.unread > UNREAD_SHOWN_MAX) return `${UNREAD_SHOWN_MAX}+`;
  return c.unreadMore ? `${c.unread}+` : String(c.unread);
}

/**
 * The id of the first message after the "new messages" line (the first of others after my position when I
 * opened the conversation), or `null` when there is none.
 * @param {Conversation} c @param {string} me
 */
export function firstUnreadId(c, me) {
  if (c.readLine === null) return null;
  const line = /** @type {string} */ (c.readLine);
  return c.messages.find((m) => m.id > line && m.from !== me)?.id ?? null;
}

/**
 * The id of my last message the other person of a private conversation has read ("Seen" goes under it).
 * @param {Conversation} c @param {string} me
 */
export function lastSeenMineId(c, me) {
  if (c.seenId === null) return null;
  const seen = /** @type {string} */ (c.seenId);
  return c.messages.findLast((m) => m.from === me && m.id <= seen)?.id ?? null;
}

/** The alphabet of ULIDs (Crockford's base 32), in sort order. */
const ULID_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * The greatest id that sorts before `id` (ids are ULIDs, which sort as strings): every message older than `id`
 * is at or before it. An id that is all zeros, or not a ULID, gives `''`, before every id.
 * @param {string} id
 */
export function idBefore(id) {
  for (let i = id.length - 1; i >= 0; i -= 1) {
    const digit = ULID_ALPHABET.indexOf(id[i] ?? '');
    if (digit < 0) return '';
    if (digit > 0) return id.slice(0, i) + ULID_ALPHABET[digit - 1] + 'Z'.repeat(id.length - i - 1);
  }
  return '';
}

/**
 * Places the "new messages" line of a conversation opened without a read position of mine (never opened: a
 * group I was added to, a private conversation someone started), once its messages are loaded: before the last
 * `unreadAtOpen` messages of others, the server's count of what came since the conversation entered my list
 * (docs/architecture.md, "Read state"), so before the oldest loaded one when all of them are unread, and
 * nowhere when the server counted none (messages written before I was a member were never mine to read).
 * @param {Conversation} c @param {string} me
 */
export function settleReadLine(c, me) {
  if (c.readLine !== null || c.unreadAtOpen <= 0 || !c.loaded) return;
  const others = c.messages.filter((m) => m.from !== me && !m.deleted);
  const first = others.at(-Math.min(c.unreadAtOpen, others.length));
  if (first === undefined) return;
  c.unreadAtOpen = 0;
  c.readLine = idBefore(first.id);
}
