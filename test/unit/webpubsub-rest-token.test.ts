/**
 * Web PubSub REST tokens with an access key: Microsoft's client, as the app builds it, sends one token per
 * request URL, reused across calls and valid for that URL, instead of a fresh JWT per request. Checked on the
 * wire, against a plain HTTP server that records what arrives.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachedRestTokens, webPubSubService } from '../../src/lib/webpubsub/index.js';

const KEY = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH';

let server: Server;
let origin: string;
const seen: Array<{ url: string; authorization: string }> = [];

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    seen.push({ url: req.url ?? '', authorization: req.headers.authorization ?? '' });
    req.resume();
    req.on('end', () => {
      res.writeHead(202);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Checks `authorization` as the service would: HS256 with the key, `aud` the full request URL. */
async function verify(authorization: string, url: string) {
  const token = authorization.replace(/^Bearer /, '');
  const { payload } = await jwtVerify(token, new TextEncoder().encode(KEY), {
    audience: url,
    algorithms: ['HS256'],
  });
  return payload;
}

describe('Web PubSub REST tokens', () => {
  it('sends one token per URL, reused across calls, each valid for its URL for an hour', async () => {
    seen.length = 0;
    const { client } = webPubSubService(
      { kind: 'key', connectionString: `Endpoint=${origin};AccessKey=${KEY};Version=1.0;` },
      { hub: 'chat', maxRetries: 0 },
    );
    await client.sendToAll('one', { contentType: 'text/plain' });
    // Into the next second: a token signed afresh would now carry another `iat`, so it could not be the same.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await client.sendToAll('two', { contentType: 'text/plain' });
    await client.sendToConnection('c1', 'three', { contentType: 'text/plain' });

    expect(seen).toHaveLength(3);
    const [first, second, third] = seen as [(typeof seen)[0], (typeof seen)[0], (typeof seen)[0]];
    expect(first.url).toBe(second.url);
    expect(second.authorization).toBe(first.authorization);
    expect(third.authorization).not.toBe(first.authorization);
    for (const call of seen) {
      const payload = await verify(call.authorization, `${origin}${call.url}`);
      expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(3600);
    }
    // A token for one URL is no good for another.
    await expect(verify(first.authorization, `${origin}${third.url}`)).rejects.toThrow();
  });

  it('signs afresh once less than the refresh margin is left, and forgets the least recently used URL', async () => {
    let now = Date.parse('2026-12-07T12:00:00Z');
    const header = cachedRestTokens(KEY, { ttlSeconds: 600, maxCached: 2, now: () => now });
    const a = header('http://x/a');
    const b = header('http://x/b');
    expect(header('http://x/a')).toBe(a);
    header('http://x/c'); // `b` is now the least recently used, and forgotten
    now += 1_000;
    expect(header('http://x/a')).toBe(a);
    expect(header('http://x/b')).not.toBe(b); // signed again, a second later
    // 600 s tokens are renewed with 300 s (half) left: reused at +299 s, fresh at +300 s.
    now += 298_000;
    expect(header('http://x/a')).toBe(a);
    now += 1_000;
    const renewed = header('http://x/a');
    expect(renewed).not.toBe(a);
    const payload = await jwtVerify(renewed.replace(/^Bearer /, ''), new TextEncoder().encode(KEY), {
      audience: 'http://x/a',
      currentDate: new Date(now),
    });
    expect(payload.payload.exp).toBe(Math.floor(now / 1000) + 600);
  });
});
