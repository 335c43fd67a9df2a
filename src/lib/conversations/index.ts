/** Each user's list of conversations and the people directory (docs/architecture.md, "My conversations"). */

export * from './entry.js';
export * from './errors.js';
export * from './list-store.js';
export * from './list-updates.js';
export * from './message-changes.js';
export * from './people.js';
