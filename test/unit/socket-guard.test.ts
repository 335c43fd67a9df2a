import { describe, expect, it } from 'vitest';
import {
  ConnectionCounter,
  DEFAULT_SOCKET_LIMITS,
  REFUSAL_LOG_INTERVAL_MS,
  resolveSocketLimits,
  serverOptions,
} from '../../src/local/socket-guard.js';

describe('the connection counter', () => {
  it('admits up to maxSocketsPerAddress from one address and maxSockets in all, and frees a slot on release', () => {
    const counter = new ConnectionCounter({ maxSocketsPerAddress: 2, maxSockets: 3 });
    expect(counter.admit('a')).toEqual({ admitted: true });
    expect(counter.admit('a')).toEqual({ admitted: true });
    expect(counter.admit('a')).toMatchObject({ admitted: false });
    expect(counter.admit('b')).toEqual({ admitted: true });
    // Three open in all: an address with none open is refused too.
    expect(counter.admit('c')).toMatchObject({ admitted: false });
    counter.release('a');
    expect(counter.open('a')).toBe(1);
    expect(counter.admit('c')).toEqual({ admitted: true });
    expect(counter.open()).toBe(3);
  });

  it('says to log the refusals of an address once per interval, with the count since the last line', () => {
    let now = 0;
    const counter = new ConnectionCounter({ maxSocketsPerAddress: 1, maxSockets: 10 }, () => now);
    counter.admit('a');
    expect(counter.admit('a')).toEqual({
      admitted: false,
      toLog: { address: 'a', limit: 'maxSocketsPerAddress', max: 1, refused: 1 },
    });
    for (let i = 0; i < 5; i++) expect(counter.admit('a')).toEqual({ admitted: false, toLog: undefined });
    now += REFUSAL_LOG_INTERVAL_MS;
    expect(counter.admit('a')).toMatchObject({ toLog: { refused: 6 } });
  });
});

describe('the socket limits', () => {
  it('default to short timeouts and caps, which reach the node:http server', () => {
    expect(resolveSocketLimits({})).toEqual(DEFAULT_SOCKET_LIMITS);
    expect(serverOptions(DEFAULT_SOCKET_LIMITS)).toEqual({
      headersTimeout: 10_000,
      requestTimeout: 30_000,
      keepAliveTimeout: 5_000,
      connectionsCheckingInterval: 1_000,
    });
  });

  it('refuses values that are not positive, and a header timeout longer than the request timeout', () => {
    expect(() => resolveSocketLimits({ maxSockets: 1.5 })).toThrow(
      'maxSockets must be a positive whole number (default 10000), not 1.5',
    );
    expect(() => resolveSocketLimits({ requestTimeoutMs: 0 })).toThrow(/requestTimeoutMs must be a positive/);
    expect(() => resolveSocketLimits({ headersTimeoutMs: 5_000, requestTimeoutMs: 1_000 })).toThrow(
      'headersTimeoutMs (5000) must not exceed requestTimeoutMs (1000)',
    );
    // Unset, the header timeout follows a shorter request timeout down.
    expect(resolveSocketLimits({ requestTimeoutMs: 1_000 }).headersTimeoutMs).toBe(1_000);
  });
});
