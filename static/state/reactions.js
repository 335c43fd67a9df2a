/**
 * Reactions on the page (docs/architecture.md, "Reactions and replies"): `react` and `unreact` records kept by
 * target, emoji and user, the newest record of each winning, and folded into their message as
 * `reactions: [{ emoji, users }]`, as src/lib/history/reactions.ts folds them on the server (a unit test holds
 * the two to the same answers and the same emoji set). Maps all the way down: user names are any names.
 */

/** The reactions offered, in the order the page shows them, with the words a screen reader says for each. */
export const REACTIONS = Object.freeze([
  { emoji: '👍', name: 'thumbs up' },
  { emoji: '❤️', name: 'heart' },
  { emoji: '😂', name: 'tears of joy' },
  { emoji: '🎉', name: 'party' },
  { emoji: '😮', name: 'surprised' },
  { emoji: '😢', name: 'sad' },
]);

/** The emoji of {@link REACTIONS}, the server's default set. */
export const REACTION_EMOJI = Object.freeze(REACTIONS.map((r) => r.emoji));

/** Distinct emoji shown per message at most (the most used; the server's default). */
export const MAX_REACTIONS_PER_MESSAGE = REACTION_EMOJI.length;

/** Characters (code points) a reply's quote keeps (the server's default). */
export const EXCERPT_LENGTH = 120;

const ORDER = new Map(REACTION_EMOJI.map((emoji, i) => [emoji, i]));

/**
 * @typedef {import('./chat-state.js').ChatState} ChatState
 * @typedef {import('./chat-state.js').ChatMessage} ChatMessage
 * @typedef {{ emoji: string, users: string[] }} ReactionCount
 */

/**
 * Takes in a `react` or `unreact` record (any other line is ignored); returns whether it changed anything.
 * @param {ChatState} state
 * @param {ChatMessage} record
 */
export function takeReaction(state, record) {
  if ((record.kind !== 'react' && record.kind !== 'unreact') || !record.target) return false;
  if (!ORDER.has(record.text)) return false;
  let byEmoji = state.reactions.get(record.target);
  if (!byEmoji) {
    state.reactions.set(record.target, new Map());
    byEmoji = /** @type {Map<string, Map<string, ChatMessage>>} */ (state.reactions.get(record.target));
  }
  let byUser = byEmoji.get(record.text);
  if (!byUser) {
    byEmoji.set(record.text, new Map());
    byUser = /** @type {Map<string, ChatMessage>} */ (byEmoji.get(record.text));
  }
  const known = byUser.get(record.from);
  if (known && known.id >= record.id) return false;
  byUser.set(record.from, record);
  return true;
}

/**
 * The reactions to the message `id`, in the order of the emoji set (the most used kept when over the state's
 * limit of distinct reactions).
 * @param {ChatState} state
 * @param {string} id
 * @returns {ReactionCount[]}
 */
export function reactionsOf(state, id) {
  const byEmoji = state.reactions.get(id);
  if (!byEmoji) return [];
  /** @type {ReactionCount[]} */
  const counts = [];
  for (const [emoji, byUser] of byEmoji) {
    const records = [...byUser.values()].filter((r) => r.kind === 'react');
    if (records.length === 0) continue;
    records.sort((a, b) => (a.id < b.id ? -1 : 1));
    counts.push({ emoji, users: records.map((r) => r.from) });
  }
  const rank = (/** @type {string} */ emoji) => ORDER.get(emoji) ?? 0;
  return counts
    .sort((a, b) => b.users.length - a.users.length || rank(a.emoji) - rank(b.emoji))
    .slice(0, state.reactionLimits.maxPerMessage)
    .sort((a, b) => rank(a.emoji) - rank(b.emoji));
}

/**
 * The command that toggles my reaction `emoji` on `message`: `unreact` when I have it, `react` otherwise.
 * @param {string} me
 * @param {ChatMessage} message
 * @param {string} emoji
 */
export function reactionToggle(me, message, emoji) {
  const mine = (message.reactions ?? []).some((r) => r.emoji === emoji && r.users.includes(me));
  return {
    command: mine ? 'unreact' : 'react',
    payload: {
      conversation: message.conversation,
      messageId: message.id,
      emoji,
      clientMessageId: crypto.randomUUID(),
    },
  };
}

/**
 * What a reply quotes of `text`: whitespace runs made one space, cut to `length` code points with an ellipsis
 * (src/lib/history/reactions.ts, `excerptOf`).
 * @param {string} text
 * @param {number} [length]
 */
export function excerptOf(text, length = EXCERPT_LENGTH) {
  const flat = text.replace(/\s+/gu, ' ').trim();
  const chars = [...flat];
  return chars.length <= length
    ? flat
    : `${chars
        .slice(0, Math.max(length - 1, 0))
        .join('')
        .trimEnd()}…`;
}

/** The words for an emoji of the set (the emoji itself for any other). @param {string} emoji */
export function reactionName(emoji) {
  return REACTIONS.find((r) => r.emoji === emoji)?.name ?? emoji;
}
