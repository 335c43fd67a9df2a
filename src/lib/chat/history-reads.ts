/**
 * Searches and history pages one Function instance reads at once (docs/architecture.md, "Fair sharing"): each reads
 * Blob Storage for up to a few MiB, and the service stops waiting for an answer after its upstream timeout while
 * the instance goes on working. Past the bound a command is answered `busy` at once, with when to try again,
 * instead of queueing behind work whose callers may have gone.
 */
import type { ChatCommand } from './commands.js';
import { type ChatErrorPayload, chatError } from './errors.js';

/**
 * Searches and history pages at once per instance (the app setting `CHAT_MAX_CONCURRENT_HISTORY_READS`). A search
 * of long lines is mostly CPU (folding and matching), so more at once on one instance only makes each slower.
 */
export const DEFAULT_MAX_CONCURRENT_HISTORY_READS = 4;
/** The largest value `CHAT_MAX_CONCURRENT_HISTORY_READS` may be set to. */
export const MAX_CONCURRENT_HISTORY_READS_CEILING = 1000;
/** How long a `busy` answer asks the sender to wait before sending again. */
export const DEFAULT_BUSY_RETRY_AFTER_MS = 1000;

/** The commands the bound counts: those that read a conversation's history beyond its newest page. */
export const HISTORY_READ_COMMANDS: readonly ChatCommand['type'][] = ['loadHistory', 'searchMessages'];

export function isHistoryRead(command: ChatCommand): boolean {
  return HISTORY_READ_COMMANDS.includes(command.type);
}

/** The answer to a history read refused because `max` already run on this instance. */
export function busyError(command: ChatCommand['type'], max: number): ChatErrorPayload {
  const detail = `at most ${max} searches and history pages are read at once on each server instance (CHAT_MAX_CONCURRENT_HISTORY_READS); try again in ${DEFAULT_BUSY_RETRY_AFTER_MS / 1000} s`;
  return { ...chatError('busy', command, detail), retryAfterMs: DEFAULT_BUSY_RETRY_AFTER_MS };
}
