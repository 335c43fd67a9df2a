// The public face of the local SignalR Serverless service.
export { CloseCode } from './errors.js';
export {
  DEFAULTS,
  DEV_ACCESS_KEY,
  DEV_WEBPUBSUB_ACCESS_KEY,
  type LogLevel,
  readSettingsFile,
  type ServiceLog,
  type ServiceOptions,
  ServiceOptionsError,
  type UpstreamTemplate,
} from './options.js';
export { type RunningService, startService } from './service.js';
