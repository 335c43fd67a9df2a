/** The Blob history store (DESIGN §4): append blobs per conversation, tail reads, rollover, dedupe. */
export { HISTORY_ERRORS, HistoryError, type HistoryErrorCode } from './errors.js';
export { clientIdMarkerName, conversationFolder, segmentBlobName } from './layout.js';
export {
  type AppendResult,
  type ChatMessage,
  type HistoryPage,
  isMessageId,
  type NewMessage,
  newMessageId,
} from './message.js';
export {
  containerClientFor,
  createHistoryStore,
  createHistoryStoreFromSettings,
  DEFAULT_MAX_CACHED_CONVERSATIONS,
  DEFAULT_MAX_TEXT_LENGTH,
  DEFAULT_PAGE_SIZE,
  DEFAULT_PENDING_CLAIM_TIMEOUT_MS,
  DEFAULT_PENDING_POLL_MS,
  DEFAULT_READ_CHUNK_BYTES,
  DEFAULT_REORDER_WINDOW_MS,
  DEFAULT_SEGMENT_BLOCK_LIMIT,
  HistoryStore,
  type HistoryStoreOptions,
  MAX_APPEND_BLOB_BLOCKS,
  MAX_CLIENT_MESSAGE_ID_LENGTH,
  MAX_PAGE_SIZE,
  type ReadOptions,
} from './store.js';
