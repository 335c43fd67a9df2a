/**
 * How much the local stack prints (docs/local-service.md, "Logging"): `LOG_LEVEL` = `error` (the default: only
 * what needs attention), `warn`, `info` (one line per request and per connection) or `debug`. The built-in
 * Functions host and the local service read it; `npm start` passes it to both.
 */

/** The levels, quietest first. */
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LocalLogLevel = (typeof LOG_LEVELS)[number];
/** Without `LOG_LEVEL`: errors only, so a page reconnecting or a request served does not fill the terminal. */
export const DEFAULT_LOG_LEVEL: LocalLogLevel = 'error';

/** `LOG_LEVEL`, checked; an unknown value is an error that names the setting and its values. */
export function readLogLevel(env: NodeJS.ProcessEnv = process.env): LocalLogLevel {
  const raw = env.LOG_LEVEL?.trim().toLowerCase();
  if (raw === undefined || raw === '') return DEFAULT_LOG_LEVEL;
  if ((LOG_LEVELS as readonly string[]).includes(raw)) return raw as LocalLogLevel;
  throw new Error(
    `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (default ${DEFAULT_LOG_LEVEL}), not "${raw}"`,
  );
}

/** The local level of one of Azure Functions' levels (`information`, `warning`, …; `none` is never printed). */
export function fromFunctionsLevel(level: string): LocalLogLevel | null {
  switch (level) {
    case 'critical':
    case 'error':
      return 'error';
    case 'warning':
      return 'warn';
    case 'information':
      return 'info';
    case 'debug':
    case 'trace':
      return 'debug';
    default:
      return null;
  }
}

/** Whether a line at `level` is printed when the stack runs at `threshold`. */
export function printed(level: LocalLogLevel | null, threshold: LocalLogLevel): boolean {
  return level !== null && LOG_LEVELS.indexOf(level) <= LOG_LEVELS.indexOf(threshold);
}

/** `LOG_LEVEL` for a logger that must not throw: an unknown value counts as the default (start-up checks it). */
export function logLevelOrDefault(env: NodeJS.ProcessEnv = process.env): LocalLogLevel {
  try {
    return readLogLevel(env);
  } catch {
    return DEFAULT_LOG_LEVEL;
  }
}
