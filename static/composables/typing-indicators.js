import { createTypingSender, TYPING_SHOWN_MS, typingText } from '../state/typing.js';
import { computed, onBeforeUnmount, reactive } from '../vendor/vue.js';

/**
 * Who is typing in each conversation (../typing.js): `heard` a `typing` event, `stopped` when that person's
 * message arrives, and the line to show under the open conversation.
 * @param {{
 *   me: string,
 *   activeId: () => string,
 *   nameOf: (id: string) => string,
 *   send: (command: string, payload: object) => Promise<unknown>,
 * }} options
 */
export function useTypingIndicators({ me, activeId, nameOf, send }) {
  /** Conversation id → user → the timer that forgets them. */
  const typing = reactive(/** @type {Map<string, Map<string, ReturnType<typeof setTimeout>>>} */ (new Map()));

  /** @param {string} conversation @param {string} user */
  function stopped(conversation, user) {
    const users = typing.get(conversation);
    const timer = users?.get(user);
    if (users === undefined || timer === undefined) return;
    clearTimeout(timer);
    users.delete(user);
    if (users.size === 0) typing.delete(conversation);
  }

  /** @param {{ conversation?: unknown, user?: unknown }} payload */
  function heard(payload) {
    const { conversation, user } = payload;
    if (typeof conversation !== 'string' || typeof user !== 'string' || user === me) return;
    stopped(conversation, user);
    if (!typing.has(conversation)) typing.set(conversation, new Map());
    typing.get(conversation)?.set(
      user,
      setTimeout(() => stopped(conversation, user), TYPING_SHOWN_MS),
    );
  }

  onBeforeUnmount(() => {
    for (const users of typing.values()) for (const timer of users.values()) clearTimeout(timer);
  });

  const typingLine = computed(() => typingText([...(typing.get(activeId())?.keys() ?? [])].map(nameOf)));
  // Failures are not worth a word: typing is a hint, and the next keystroke tries again.
  const sender = createTypingSender((conversation) => void send('typing', { conversation }).catch(() => {}));
  return { heard, stopped, typingLine, typed: sender.typed, sentFrom: sender.sent };
}
