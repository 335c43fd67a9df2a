import { ROOM } from '../conversation.js';
import { isSeen, sortedUnique } from '../state/chat-state.js';
import { mentionsMeIn, setMentionNames } from '../text/markdown.js';
import { myMentionNames } from '../text/mentions.js';
import { computed } from '../vendor/vue.js';
import { conversationTitle } from './conversation-view.js';
import { useNotifications } from './notifications.js';
import { useTypingIndicators } from './typing-indicators.js';

/**
 * What tells me something happened elsewhere: mentions of me (counted apart from the unread and shown as
 * mine), who is typing, and browser notifications for private messages and mentions while the tab is hidden.
 * @param {import('../state/chat-state.js').ChatState} state
 * @param {{
 *   myName: string | undefined,
 *   nameOf: (id: string) => string,
 *   open: (conversationId: string) => void,
 *   send: (command: string, payload: object) => Promise<unknown>,
 * }} options
 */
export function useMessageAlerts(state, { myName, nameOf, open, send }) {
  const mine = myMentionNames(state.me, myName);
  setMentionNames(mine);
  const typing = useTypingIndicators({ me: state.me, activeId: () => state.activeId, nameOf, send });
  const notifications = useNotifications({ me: state.me, open });

  /**
   * A message not seen before (mine included) arrived live.
   * @param {import('../state/chat-state.js').ChatMessage} message
   * @param {import('../state/chat-state.js').Conversation} conversation
   */
  function onNewMessage(message, conversation) {
    typing.stopped(conversation.id, message.from);
    if (message.from === state.me) return;
    const mentioned = mentionsMeIn(String(message.text ?? ''));
    if (mentioned && !isSeen(state, conversation.id)) conversation.mentions += 1;
    notifications.notify(message, {
      from: nameOf(message.from),
      where:
        conversation.id === ROOM ? 'in the room' : `in ${conversationTitle(state, conversation.id, nameOf)}`,
      direct: conversation.id.startsWith('dm:'),
      mentioned,
    });
  }

  /** Whether a stored message mentions me outside code (for highlighting it). @param {{ text?: unknown }} message */
  const mentionsMine = (message) => mentionsMeIn(String(message.text ?? ''));

  /** The people `@` offers in the open conversation: who is online and who wrote there, me aside. */
  const mentionPeople = computed(() =>
    sortedUnique([
      ...state.online,
      ...(state.conversations.get(state.activeId)?.messages ?? []).map((m) => m.from),
    ]).filter((id) => id !== state.me),
  );

  /**
   * The names of the people the page knows (online, named, or who wrote in the open conversation), so a
   * mention of "Mary Jane" shows whole (../text/mentions.js); the same list while nobody new is known.
   */
  const knownNames = computed(() =>
    sortedUnique(
      [
        state.me,
        ...state.online,
        ...state.names.keys(),
        ...(state.conversations.get(state.activeId)?.messages ?? []).map((m) => m.from),
      ].flatMap((id) => [id, nameOf(id)]),
    ),
  );

  return {
    onNewMessage,
    onTyping: typing.heard,
    typingLine: typing.typingLine,
    /** The text box of the open conversation changed. */
    typed: () => typing.typed(state.activeId),
    /** A message left the open conversation. */
    sentFrom: () => typing.sentFrom(state.activeId),
    mentionsMine,
    mentionPeople,
    knownNames,
    notifications,
  };
}
