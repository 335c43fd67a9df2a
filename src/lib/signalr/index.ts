// The public face of the SignalR protocol library; each concern lives in its own module.
export * from './config.js';
export * from './connection-string.js';
export * from './hub-protocol.js';
export * from './rest-client.js';
export * from './signature.js';
export * from './tokens.js';
