/**
 * The message a `reportMessage` names, as its readers see it when it is reported: its edits folded in, as
 * every reader folds them (src/lib/history/fold.ts), and refused when its author deleted it or a moderator
 * removed it (docs/architecture.md, "Moderation").
 */
import { MAX_HISTORY_LIMIT } from '../../conversation.js';
import {
  type ChatMessage,
  type FoldedMessage,
  type HistoryPage,
  MessageChanges,
} from '../../history/index.js';

/**
 * The newest lines of the conversation a report reads for the message's edits and deletes (at most
 * `MAX_HISTORY_LIMIT` a page, so 2 page reads). Every record is stored after its message: when the message is
 * among these lines, every change of it is too; when it is older, the changes among these lines (the recent
 * ones, those the reporter most likely saw) are folded, and one older than them is not.
 */
export const DEFAULT_REPORT_CHANGE_LINES = 200;

/** What finding the reported message needs of the history store. */
export interface ReportedHistory {
  find(conversation: string, id: string): Promise<ChatMessage | undefined>;
  read(conversation: string, options: { before?: string; limit: number }): Promise<HistoryPage>;
}

export type ReportedMessage =
  | {
      readonly ok: true;
      /** The message as readers show it: its latest text, and `editedAt` when edited. */
      readonly message: FoldedMessage;
      /** Its text as first sent, when an edit changed it. */
      readonly originalText?: string;
    }
  | {
      readonly ok: false;
      readonly code: 'message-not-found' | 'not-a-message' | 'message-deleted';
      readonly detail?: string;
    };

/**
 * Finds message `id` of `conversation` and folds its changes. Reads the conversation newest first, a page at a
 * time, until it meets the message or `lines` lines; a message older than those costs one search more
 * (`HistoryStore.find`). So at most ⌈lines / 100⌉ page reads and one search, whatever the history's length.
 */
export async function reportedMessage(
  history: ReportedHistory,
  conversation: string,
  id: string,
  lines: number = DEFAULT_REPORT_CHANGE_LINES,
): Promise<ReportedMessage> {
  const changes = new MessageChanges();
  let found: ChatMessage | undefined;
  let before: string | undefined;
  let whole = false;
  for (let read = 0; read < lines && found === undefined; ) {
    const page = await history.read(conversation, {
      limit: Math.min(MAX_HISTORY_LIMIT, lines - read),
      ...(before !== undefined ? { before } : {}),
    });
    changes.add(page.messages);
    found = page.messages.find((line) => line.id === id);
    const oldest = page.messages[0];
    if (!page.hasMore || oldest === undefined) {
      whole = true;
      break;
    }
    read += page.messages.length;
    before = oldest.id;
  }
  // Read to its start without it: the conversation holds no such line, and a search would say so again.
  if (found === undefined && !whole) found = await history.find(conversation, id);
  if (found === undefined) return { ok: false, code: 'message-not-found' };
  if (found.kind !== undefined) return { ok: false, code: 'not-a-message' };
  const shown = changes.apply(found);
  if (shown.deleted) {
    const by = shown.removed ? 'a moderator removed it' : 'its author deleted it';
    return { ok: false, code: 'message-deleted', detail: by };
  }
  return shown.editedAt !== undefined && shown.text !== found.text
    ? { ok: true, message: shown, originalText: found.text }
    : { ok: true, message: shown };
}
