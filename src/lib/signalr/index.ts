// The public face of the SignalR protocol library; each concern lives in its own module.
export * from './config.js';
export * from './connection-string.js';
export * from './errors.js';
export * from './hub-codec.js';
export * from './hub-protocol.js';
export * from './messagepack.js';
export { DEFAULT_REST_TOKEN_TTL_SECONDS, SIGNALR_ENTRA_SCOPE } from './rest/auth.js';
export * from './rest/client.js';
export { MAX_ERROR_BODY_CHARS, SignalRRestError, type SignalRRestErrorCode } from './rest/error.js';
export { DEFAULT_MAX_MESSAGE_BYTES, type InvocationPayload } from './rest/messages.js';
export { GENERATE_TOKEN_API_VERSION } from './rest/paths.js';
export {
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_MAX_RETRY_DELAY_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_RETRY_DELAY_MS,
  type RequestAuthorization,
  RestPipeline,
} from './rest/pipeline.js';
export * from './signature.js';
export * from './tokens.js';
export * from './upstream-contract.js';
