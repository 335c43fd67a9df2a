/** Attachments: their rules and names, and the store that signs their URLs (docs/architecture.md, "Attachments"). */
export * from './rules.js';
export * from './store.js';
