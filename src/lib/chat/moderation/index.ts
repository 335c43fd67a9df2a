/** Moderation (docs/architecture.md, "Moderation"): roles, commands, state, reports, audit log, listings and rules. */
export * from './audit.js';
export * from './commands.js';
export * from './errors.js';
export * from './handlers.js';
export * from './listings.js';
export * from './protocol.js';
export * from './reported.js';
export * from './reports.js';
export * from './roles.js';
export * from './store.js';
