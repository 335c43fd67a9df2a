/**
 * Who is online: the pages of the list loaded so far (the `welcome` carries the first, `listOnline` fetches the
 * next), their count, and the `presence` deltas that keep them exact, buffered while a snapshot is on its way.
 */
import { sortedUnique } from './chat-state.js';
import { rememberNames } from './display-names.js';
import { applySystem } from './system-notes.js';

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
  const buffered = state.onlineBuffer;
  state.onlineBuffer = [];
  for (const delta of buffered) applyPresence(state, delta, { quiet: true });
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
  for (const delta of buffered) applyPresence(state, delta, { quiet: true });
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
 * sorts after the next page's cursor arrives with that page); the room notes each arrival and departure
 * that changes what is shown. While a snapshot is on its way the delta is kept for it (see `awaitOnline`).
 * @param {ChatState} state
 * @param {PresenceDelta & { online?: string[] }} delta
 * @param {{ quiet?: boolean }} [options] `quiet`: no notes (a delta applied again after a snapshot)
 */
export function applyPresence(state, delta, options = {}) {
  // Names first, so the notes below show them (a name for a user who left stays known for older messages).
  rememberNames(state, delta.names);
  if (Array.isArray(delta.online)) {
    // A whole list (an older server): take it as it is.
    applyOnlineSnapshot(state, { users: delta.online, count: delta.online.length });
    return;
  }
  if (state.onlineSyncing) {
    state.onlineBuffer = [...state.onlineBuffer, delta];
    // The notes are made now; the list changes once the snapshot is there.
    if (!options.quiet) notePresence(state, delta, () => true);
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
  const changed = new Set();
  for (const user of left) {
    if (online.delete(user)) changed.add(user);
  }
  for (const user of joined) {
    if (inRange(user) && !online.has(user)) {
      online.add(user);
      changed.add(user);
    }
  }
  if (changed.size > 0) state.online = sortedUnique([...online]);
  takeCount(state, delta);
  if (!options.quiet) notePresence(state, delta, (user) => changed.has(user) || !inRange(user));
}

/**
 * Notes in the room who joined and who left (never myself), for the users `shows` accepts.
 * @param {ChatState} state
 * @param {PresenceDelta} delta
 * @param {(user: string) => boolean} shows
 */
function notePresence(state, delta, shows) {
  const at = new Date(typeof delta.at === 'number' ? delta.at : Date.now()).toISOString();
  for (const [kind, users] of /** @type {const} */ ([
    ['joined', delta.joined ?? []],
    ['left', delta.left ?? []],
  ])) {
    for (const user of users) {
      if (user !== state.me && shows(user)) applySystem(state, { kind, user, at });
    }
  }
}
