/**
 * Typing indicators, the page's side (docs/architecture.md, "Typing indicators"): at most one `typing` every
 * {@link TYPING_SEND_INTERVAL_MS} per conversation while the text box changes, and who is typing where, each
 * shown for {@link TYPING_SHOWN_MS} after the last one heard or until their message arrives.
 */

/** The least time between two `typing` commands for one conversation (the server drops more than one per 2 s). */
export const TYPING_SEND_INTERVAL_MS = 3_000;
/** How long "bob is typing…" stays after bob's last `typing`. */
export const TYPING_SHOWN_MS = 5_000;

/**
 * Decides when the text box's changes become a `typing` command.
 * @param {(conversationId: string) => void} send
 * @param {() => number} [now]
 */
export function createTypingSender(send, now = Date.now) {
  /** @type {Map<string, number>} */
  const last = new Map();
  return {
    /** The text box of `conversationId` changed and is not empty. @param {string} conversationId */
    typed(conversationId) {
      const t = now();
      const before = last.get(conversationId);
      if (before !== undefined && t - before < TYPING_SEND_INTERVAL_MS) return;
      last.set(conversationId, t);
      send(conversationId);
    },
    /** A message left: the next keystroke is news again. @param {string} conversationId */
    sent(conversationId) {
      last.delete(conversationId);
    },
  };
}

/**
 * The line under a conversation: "bob is typing…", "bob and cat are typing…", "4 people are typing…".
 * @param {readonly string[]} names shown names
 */
export function typingText(names) {
  if (names.length === 0) return '';
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return `${names.length} people are typing…`;
}
