/** A conversation in the page's address (see ../composables/conversation-address.js). */

import { parseConversation, ROOM } from '../conversation.js';

/**
 * The address fragment that names a conversation: none for the room, else `#` and its id (`#group:team`,
 * `#dm:ann:bob`), percent-encoded but for the `:` that separates its parts.
 * @param {string} id
 * @returns {string}
 */
export function fragmentOf(id) {
  return id === ROOM ? '' : `#${encodeURIComponent(id).replaceAll('%3A', ':')}`;
}

/**
 * The conversation an address fragment names, for the person `me`: `undefined` for no fragment, one that is
 * not a conversation id, and a private conversation between two others (which the server would refuse).
 * @param {string} fragment `location.hash`, with its `#`
 * @param {string} me
 * @returns {string | undefined}
 */
export function conversationOfFragment(fragment, me) {
  if (fragment.length < 2) return undefined;
  let id;
  try {
    id = decodeURIComponent(fragment.slice(1));
  } catch {
    return undefined;
  }
  const parsed = parseConversation(id);
  if (parsed === undefined) return undefined;
  if (parsed.kind === 'dm' && !parsed.users.includes(me)) return undefined;
  return id;
}
