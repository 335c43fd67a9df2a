/**
 * Who is online: the pages of the list loaded so far (the `welcome` carries the first, `listOnline` fetches the
 * next), their count, and the `presence` deltas that keep them exact, buffered while a snapshot is on its way.
 */
import { sortedUnique } from './chat-state.js';
import { rememberNames } from './display-names.js';

/**
 * @typedef {import('./chat-state.js').ChatState} ChatState
 * @typedef {import('./chat-state.js').OnlinePage} OnlinePage
 * @typedef {import('./chat-state.js').PresenceDelta} PresenceDelta
 */

/**
 * The online list was taken again from its first page (a `welcome`, or `online` without `after`): it replaces
 * what was shown, then the deltas that arrived while it was on its way are applied on top. A delta already
 * reflected in the snapshot changes nothing (the list is a set), so applying it again is harmless.
 * @param {ChatState} state
 * @param {OnlinePage} page
 */
export function applyOnlineSnapshot(state, page) {
  state.online = sortedUnique(page.users ?? []);
  state.onlineNext = typeof page.next === 'string' ? page.next : null;
  state.onlineCount = typeof page.count === 'number' ? page.count : state.online.length;
  state.onlineAt = typeof page.at === 'number' ? page.at : 0;
  // Deltas older than the snapshot are in it already (or were overtaken by what it shows).
  state.onlineSnapshotAt = state.onlineAt;
  state.presenceAt = new Map();
  state.onlineSyncing = false;
  state.onlineStopped = false;
  const buffered = state.onlineBuffer;
  state.onlineBuffer = [];
  for (const delta of buffered) applyPresence(state, delta);
}

/**
 * `online`: a page of the online list, the answer to `listOnline`. Without `after` it is a fresh snapshot
 * (a resync); with `after` equal to the cursor this page is waiting for, it extends the list.
 * @param {ChatState} state
 * @param {OnlinePage} page
 */
export function applyOnline(state, page) {
  rememberNames(state, page.names);
  if (page.after === undefined) {
    applyOnlineSnapshot(state, page);
    return;
  }
  if (page.after !== state.onlineNext) return; // an answer to a page asked before the last resync
  state.online = sortedUnique([...state.online, ...(page.users ?? [])]);
  state.onlineNext = typeof page.next === 'string' ? page.next : null;
  takeCount(state, page);
  state.onlineSyncing = false;
  const buffered = state.onlineBuffer;
  state.onlineBuffer = [];
  for (const delta of buffered) applyPresence(state, delta);
}

/**
 * Forgets the online list (the link has stopped for good: nothing keeps it true); a `welcome` would take it again.
 * @param {ChatState} state
 */
export function forgetOnline(state) {
  state.online = [];
  state.onlineCount = 0;
  state.onlineNext = null;
  state.onlineBuffer = [];
  state.onlineSyncing = true;
  state.onlineStopped = true;
}

/**
 * Marks the online list as waiting for a snapshot or a page (a `listOnline` sent, or the connection lost):
 * deltas are kept until it arrives.
 * @param {ChatState} state
 */
export function awaitOnline(state) {
  state.onlineSyncing = true;
}

/** @param {ChatState} state @param {{ count?: number, at?: number }} source */
function takeCount(state, source) {
  if (typeof source.count === 'number' && (source.at ?? 0) >= state.onlineAt) {
    state.onlineCount = source.count;
    state.onlineAt = source.at ?? state.onlineAt;
  }
  // Never fewer than the people listed.
  if (state.onlineCount < state.online.length) state.onlineCount = state.online.length;
}

/**
 * `presence`: who came and who went. Applied as set operations to the loaded part of the list (a user who
 * sorts after the next page's cursor arrives with that page). The room notes none of them: the online list
 * shows who is here, and notes only this page saw would differ from page to page. While a snapshot is on its way the delta is kept for it (see `awaitOnline`).
 * @param {ChatState} state
 * @param {PresenceDelta & { online?: string[] }} delta
 */
export function applyPresence(state, delta) {
  // Names first (a name for a user who left stays known for older messages).
  rememberNames(state, delta.names);
  if (Array.isArray(delta.online)) {
    // A whole list (an older server): take it as it is.
    applyOnlineSnapshot(state, { users: delta.online, count: delta.online.length });
    return;
  }
  if (state.onlineSyncing) {
    state.onlineBuffer = [...state.onlineBuffer, delta];
    return;
  }
  const inRange = (/** @type {string} */ user) => state.onlineNext === null || user <= state.onlineNext;
  const online = new Set(state.online);
  // Each user's latest change wins by server time, whatever order the deltas arrive in.
  const at = typeof delta.at === 'number' ? delta.at : undefined;
  const current = (/** @type {unknown} */ user) =>
    typeof user === 'string' &&
    (at === undefined ||
      (at >= state.onlineSnapshotAt && at >= (state.presenceAt.get(user) ?? Number.NEGATIVE_INFINITY)));
  const joined = (delta.joined ?? []).filter(current);
  const left = (delta.left ?? []).filter(current);
  if (at !== undefined) for (const user of [...joined, ...left]) state.presenceAt.set(user, at);
  let changed = false;
  for (const user of left) changed = online.delete(user) || changed;
  for (const user of joined) {
    if (inRange(user) && !online.has(user)) {
      online.add(user);
      changed = true;
    }
  }
  if (changed) state.online = sortedUnique([...online]);
  takeCount(state, delta);
}
