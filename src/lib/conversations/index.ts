/**
 * Each user's list of conversations and the people directory (docs/architecture.md, "My conversations"), group
 * records and the channel directory (docs/architecture.md, "Private groups and channels").
 */

export * from './channels.js';
export * from './entry.js';
export * from './errors.js';
export * from './group-creations.js';
export * from './group-records.js';
export * from './list-store.js';
export * from './list-updates.js';
export * from './message-changes.js';
export * from './people.js';
export * from './reactions.js';
