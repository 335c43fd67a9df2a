// The public face of Azure Web PubSub's upstream protocol (the app side); each concern lives in its own module.
export * from './answer.js';
export * from './errors.js';
export * from './parse.js';
export * from './protocol.js';
export * from './rest-sender.js';
export * from './rest-token.js';
export * from './service.js';
export * from './verify.js';
