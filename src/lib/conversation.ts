/**
 * What the chat and its history agree on: user and group names (1–32 characters from letters, digits, space,
 * `_`, `-`, `.`), conversation ids (`room`, `group:<name>`, `dm:<a>:<b>` with the two user names sorted) and the
 * limits of a message and of a history page. See docs/architecture.md, "The chat protocol".
 */

/** Longest message text, in characters (code points). */
export const MAX_TEXT_LENGTH = 4000;
/** Messages per `loadHistory` when `limit` is absent, and the largest `limit` accepted. */
export const DEFAULT_HISTORY_LIMIT = 50;
export const MAX_HISTORY_LIMIT = 100;
/** Longest `clientMessageId`, in characters. */
export const MAX_CLIENT_MESSAGE_ID_LENGTH = 100;
/** Longest `before` message id accepted (ULIDs are 26). */
export const MAX_MESSAGE_ID_LENGTH = 64;

/** Longest user or group name, in characters (code points). */
export const MAX_NAME_LENGTH = 32;

// Letters and digits of any script (`\p{L}`, `\p{N}`); `u` makes `{1,32}` count code points, not UTF-16 units.
const NAME_PATTERN = /^[\p{L}\p{N} _.-]{1,32}$/u;

/** Why a name was refused, phrased so the person can fix it; `undefined` when the name is valid. */
export function nameProblem(name: string, what: 'user' | 'group' = 'user'): string | undefined {
  if (name.length === 0) return `The ${what} name is empty: give 1–${MAX_NAME_LENGTH} characters`;
  if ([...name].length > MAX_NAME_LENGTH) {
    return `The ${what} name is longer than ${MAX_NAME_LENGTH} characters`;
  }
  if (!NAME_PATTERN.test(name)) {
    return `The ${what} name may only contain letters, digits, spaces, "_", "-" and "."`;
  }
  // Leading or trailing spaces would make "ann" and "ann " two different people that look the same.
  if (name.trim() !== name) return `The ${what} name must not start or end with a space`;
  return undefined;
}

/** True when `name` is a valid user or group name. */
export function isValidName(name: unknown): name is string {
  return typeof name === 'string' && nameProblem(name) === undefined;
}

/** The public room's conversation id. */
export const ROOM = 'room';

/** The conversation id of a group. */
export function groupConversation(group: string): string {
  return `group:${group}`;
}

/** The conversation id of the private messages between two users: the names sorted, so both get the same id. */
export function directConversation(a: string, b: string): string {
  const [first, second] = a < b ? [a, b] : [b, a];
  return `dm:${first}:${second}`;
}

/** A parsed conversation id. */
export type Conversation =
  | { readonly kind: 'room' }
  | { readonly kind: 'group'; readonly group: string }
  | { readonly kind: 'dm'; readonly users: readonly [string, string] };

/** Parses a conversation id; `undefined` when it is not one of the three forms with valid names. */
export function parseConversation(id: string): Conversation | undefined {
  if (id === ROOM) return { kind: 'room' };
  if (id.startsWith('group:')) {
    const group = id.slice('group:'.length);
    return isValidName(group) ? { kind: 'group', group } : undefined;
  }
  if (id.startsWith('dm:')) {
    // Names cannot contain ':', so the split is unambiguous.
    const parts = id.slice('dm:'.length).split(':');
    if (parts.length !== 2) return undefined;
    const [a, b] = parts as [string, string];
    if (!isValidName(a) || !isValidName(b) || directConversation(a, b) !== id) return undefined;
    return { kind: 'dm', users: [a, b] };
  }
  return undefined;
}
