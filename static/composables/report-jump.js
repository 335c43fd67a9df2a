import { nextTick, watch } from '../vendor/vue.js';

/**
 * Resolves once `test` holds (at once if it does already).
 * @param {() => boolean} test @returns {Promise<void>}
 */
function once(test) {
  if (test()) return Promise.resolve();
  return new Promise((resolve) => {
    const stop = watch(test, (holds) => {
      if (!holds) return;
      stop();
      resolve();
    });
  });
}

/**
 * "Go to message" of a report (../components/moderation-panel.js; docs/architecture.md, "Moderation"): opens the
 * report's conversation, waits for its first history page, then goes to the message with `jumpTo` (the one a
 * search result uses: older pages are loaded as needed, and the message is focused and highlighted). Opening
 * another conversation meanwhile ends it.
 * @param {import('../state/chat-state.js').ChatState} state
 * @param {{ open: (id: string) => void, jumpTo: (messageId: string) => unknown }} options
 * @returns {(conversation: string, messageId: string) => Promise<void>}
 */
export function useReportJump(state, { open, jumpTo }) {
  /** The jump under way: a newer one ends an older one still waiting. */
  let current = 0;
  return async (conversation, messageId) => {
    const jump = ++current;
    open(conversation);
    const shown = () => state.activeId === conversation;
    await once(() => !shown() || state.conversations.get(conversation)?.loaded === true);
    // The list shows the conversation's page after the next render.
    await nextTick();
    if (jump === current && shown()) await jumpTo(messageId);
  };
}
