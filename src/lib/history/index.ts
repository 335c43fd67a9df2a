/** The Blob history store (DESIGN §4): append blobs per conversation, tail reads, rollover, dedupe. */
export * from './errors.js';
export { clientIdMarkerName, conversationFolder, segmentBlobName } from './layout.js';
export * from './message.js';
export * from './store.js';
