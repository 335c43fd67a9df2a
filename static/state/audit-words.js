/**
 * The audit log in words (docs/architecture.md, "Moderation"): "Dee muted Bob for an hour", "Dee removed Cy from
 * #lobby", never the command's name or a user id; places named as the moderators' panel names a report's
 * (./report-place.js).
 */

import { localTime } from '../text/format.js';
import { reportPlace } from './report-place.js';

/**
 * One piece of a line: `isolate` pieces are what people wrote, names and reasons (shown isolated, `dir="auto"`,
 * since they may be written right to left).
 * @typedef {{ text: string, isolate?: true }} Piece
 */

/**
 * How long a mute of `minutes` lasts, in words: "for an hour", "for 30 minutes", "for a week".
 * @param {number} minutes
 */
export function durationWords(minutes) {
  const count = (/** @type {number} */ n, /** @type {string} */ one, /** @type {string} */ unit) =>
    n === 1 ? one : `${n} ${unit}s`;
  if (minutes % (7 * 1440) === 0) return `for ${count(minutes / (7 * 1440), 'a week', 'week')}`;
  if (minutes % 1440 === 0) return `for ${count(minutes / 1440, 'a day', 'day')}`;
  if (minutes % 60 === 0) return `for ${count(minutes / 60, 'an hour', 'hour')}`;
  return `for ${count(minutes, 'a minute', 'minute')}`;
}

/**
 * An audit entry as a line of words, in pieces: who did what to whom, and where.
 * @param {import('./chat-state.js').ChatState} state the page's state (group titles, my id)
 * @param {any} entry `{ at, by, byName?, action, target, reason?, until?, group?, author? }`
 * @param {(id: string) => string} nameOf
 * @returns {Piece[]}
 */
export function auditWords(state, entry, nameOf) {
  const named = (/** @type {string} */ id) => ({ text: nameOf(id), isolate: /** @type {const} */ (true) });
  const known = nameOf(entry.by);
  /** @type {Piece[]} */
  const line = [{ text: known !== entry.by ? known : entry.byName || entry.by, isolate: true }];
  const say = (/** @type {(Piece | string)[]} */ ...pieces) => {
    for (const p of pieces) line.push(typeof p === 'string' ? { text: p } : p);
  };
  switch (entry.action) {
    case 'muteUser': {
      const minutes = Math.round((Date.parse(entry.until) - Date.parse(entry.at)) / 60_000);
      say(' muted ', named(entry.target));
      if (minutes > 0) say(` ${durationWords(minutes)}`);
      if (entry.until) say(` (until ${localTime(entry.until)})`);
      break;
    }
    case 'unmuteUser':
      say(' lifted the mute of ', named(entry.target));
      break;
    case 'banUser':
      say(' banned ', named(entry.target), ' from the chat');
      break;
    case 'unbanUser':
      say(' lifted the ban of ', named(entry.target));
      break;
    case 'removeFromChannel':
      say(' removed ', named(entry.target), ' from ');
      say(entry.group ? placeOf(state, `group:${entry.group}`, nameOf) : 'a channel');
      break;
    case 'removeMessage': {
      const [conversation = ''] = String(entry.target).split(' ');
      if (entry.author) say(' deleted a message of ', named(entry.author), ' in ');
      else say(' deleted a message in ');
      say(placeOf(state, conversation, nameOf, entry.author));
      break;
    }
    case 'resolveReport':
      say(' resolved a report');
      break;
    default:
      say(` ${entry.action}`);
  }
  if (entry.reason) say(' (', { text: entry.reason, isolate: true }, ')');
  return line;
}

/**
 * A conversation as the panel names a report's place ("#lobby", "the private conversation of Ann and Bob").
 * @param {import('./chat-state.js').ChatState} state @param {string} conversation
 * @param {(id: string) => string} nameOf @param {string} [author]
 */
function placeOf(state, conversation, nameOf, author = '') {
  return reportPlace(state, { conversation, author, reporter: '' }, nameOf).label;
}
