/** The Blob history store (docs/architecture.md, "History in Blob Storage"): append blobs per conversation, tail reads, rollover, dedupe. */

export * from './errors.js';
export * from './fold.js';
export { conversationFolder, segmentBlobName } from './layout.js';
export * from './message.js';
export * from './reactions.js';
export * from './store.js';
