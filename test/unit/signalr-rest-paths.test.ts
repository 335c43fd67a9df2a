/**
 * Names in REST paths cannot change which route a URL means (src/lib/signalr/rest/paths.ts). The known answers
 * are the WHATWG URL Standard's, as Node's `URL` implements it: dot segments, also percent-encoded, are resolved.
 */
import { describe, expect, it } from 'vitest';
import { pathSegment, restUrl } from '../../src/lib/signalr/rest/paths.js';

const BASE = 'http://localhost:8080/api/v1/hubs/chat';

describe('REST paths', () => {
  it('a URL parser resolves dot segments, encoded or not (why they are refused)', () => {
    expect(new URL(`${BASE}/groups/../:send`).pathname).toBe('/api/v1/hubs/chat/:send');
    expect(new URL(`${BASE}/groups/%2E%2e/:send`).pathname).toBe('/api/v1/hubs/chat/:send');
    expect(new URL(`${BASE}/groups/.%2E/:send`).pathname).toBe('/api/v1/hubs/chat/:send');
    expect(new URL(`${BASE}/users/./:send`).pathname).toBe('/api/v1/hubs/chat/users/:send');
    expect(new URL(`${BASE}/users/%2e/:send`).pathname).toBe('/api/v1/hubs/chat/users/:send');
    // A backslash is a separator in special URLs, but encoding turns it into %5C, which is kept.
    expect(new URL(`${BASE}/groups/${encodeURIComponent('a\\..')}/:send`).pathname).toBe(
      '/api/v1/hubs/chat/groups/a%5C../:send',
    );
  });

  it.each(['.', '..'])('refuses to build a path with the segment %j', (name) => {
    expect(() => restUrl(BASE, ['groups', name, ':send'])).toThrow(/cannot be a URL path segment/);
    expect(() => pathSegment(name)).toThrow(TypeError);
  });

  it.each(['...', '.a', 'a.', 'a/..', '%2e', '%2e%2e', '\\..', 'team a', 'ann%'])(
    'keeps %j as one segment of its own',
    (name) => {
      const url = restUrl(BASE, ['groups', name, ':send']);
      const segments = url.pathname.split('/');
      expect(segments).toHaveLength(8);
      expect(decodeURIComponent(segments[6] as string)).toBe(name);
    },
  );
});
