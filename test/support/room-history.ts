/**
 * Every stored message of a conversation, read straight from Blob Storage with the app's own history store
 * (oldest first), for tests that count what was stored.
 */
import { MAX_HISTORY_LIMIT } from '../../src/lib/conversation.js';
import type { ChatMessage } from '../../src/lib/history/message.js';
import { createHistoryStoreFromSettings } from '../../src/lib/history/store.js';

export async function storedMessages(
  env: Readonly<Record<string, string>>,
  conversation: string,
): Promise<ChatMessage[]> {
  const store = createHistoryStoreFromSettings({ ...env });
  const pages: ChatMessage[][] = [];
  let before: string | undefined;
  for (;;) {
    const page = await store.read(conversation, {
      limit: MAX_HISTORY_LIMIT,
      ...(before !== undefined ? { before } : {}),
    });
    pages.unshift(page.messages);
    if (!page.hasMore || page.messages.length === 0) break;
    before = page.messages[0]?.id;
  }
  return pages.flat();
}
