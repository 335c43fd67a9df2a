/** The chat (docs/architecture.md, "The chat protocol"): commands, events, handlers, presence, memberships, fan-out and service user ids. */

export * from './attachment-check.js';
export * from './command-quota.js';
export * from './commands.js';
export * from './errors.js';
export * from './fanout.js';
export * from './groups/commands.js';
export * from './groups/groups.js';
export * from './groups/memberships.js';
export * from './handlers.js';
export * from './message-text.js';
export * from './moderation/index.js';
export * from './people/directory.js';
export * from './people/user-id.js';
export * from './presence/deltas.js';
export * from './presence/presence.js';
export * from './reading/commands.js';
export * from './reading/join-reads.js';
export * from './reading/marked-ids.js';
export * from './reading/positions.js';
export * from './reading/reading.js';
export * from './reading/search.js';
export * from './reading/search-match.js';
export * from './typing.js';
export * from './wire/codec.js';
export * from './wire/protocol.js';
export * from './wire/webpubsub-channel.js';
