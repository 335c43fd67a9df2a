/** `LOG_LEVEL` of the local stack (src/local/log-level.ts): errors only by default, more on request. */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LOG_LEVEL,
  fromFunctionsLevel,
  logLevelOrDefault,
  printed,
  readLogLevel,
} from '../../src/local/log-level.js';

describe('LOG_LEVEL', () => {
  it('prints errors only by default', () => {
    expect(readLogLevel({})).toBe('error');
    expect(DEFAULT_LOG_LEVEL).toBe('error');
    expect(printed('error', readLogLevel({}))).toBe(true);
    expect(printed('warn', readLogLevel({}))).toBe(false);
    expect(printed('info', readLogLevel({}))).toBe(false);
  });

  it('prints more at info: requests and connections, and never a level it does not know', () => {
    const threshold = readLogLevel({ LOG_LEVEL: ' INFO ' });
    expect(threshold).toBe('info');
    expect(printed(fromFunctionsLevel('information'), threshold)).toBe(true);
    expect(printed(fromFunctionsLevel('warning'), threshold)).toBe(true);
    expect(printed(fromFunctionsLevel('debug'), threshold)).toBe(false);
    expect(printed(fromFunctionsLevel('none'), 'debug')).toBe(false);
  });

  it('refuses an unknown level with the values it takes, where a logger falls back to the default', () => {
    expect(() => readLogLevel({ LOG_LEVEL: 'verbose' })).toThrow(
      'LOG_LEVEL must be one of error, warn, info, debug (default error), not "verbose"',
    );
    expect(logLevelOrDefault({ LOG_LEVEL: 'verbose' })).toBe('error');
  });
});
