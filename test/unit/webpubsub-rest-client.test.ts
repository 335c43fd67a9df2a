/**
 * Web PubSub REST calls with an access key, checked on the wire against a plain HTTP server that records what
 * arrives: Microsoft's client, as the app builds it, sends one token per request URL, reused across calls and
 * valid for that URL, instead of a fresh JWT per request; the chat's lean sender sends exactly the requests
 * the SDK sends, with tokens valid for their URL; client tokens are the SDK's, signed without it.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachedRestTokens, WebPubSubRestSender, webPubSubService } from '../../src/lib/webpubsub/index.js';

const KEY = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH';

let server: Server;
let origin: string;
interface Seen {
  method: string;
  url: string;
  authorization: string;
  contentType: string;
  body: string;
}
const seen: Seen[] = [];

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        authorization: req.headers.authorization ?? '',
        contentType: req.headers['content-type'] ?? '',
        body: Buffer.concat(chunks).toString(),
      });
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
    const [first, second, third] = seen as [Seen, Seen, Seen];
    expect(first.url).toBe(second.url);
    expect(second.authorization).toBe(first.authorization);
    expect(third.authorization).not.toBe(first.authorization);
    for (const call of seen) {
      const payload = await verify(call.authorization, `${origin}${call.url}`);
      expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(3600);
      // Every token the app signs has `nbf` (docs/architecture.md, "Tokens and identity").
      expect(payload.nbf).toBe(payload.iat);
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

describe('Web PubSub client tokens', () => {
  it('are the tokens the SDK makes (the same URL and claims, signed with the key), with nbf besides', async () => {
    const service = webPubSubService(
      { kind: 'key', connectionString: `Endpoint=${origin};AccessKey=${KEY};Version=1.0;` },
      { hub: 'chat' },
    );
    const request = { userId: 'u:ann', expirationTimeInMinutes: 60 };
    const ours = service.clientToken?.(request);
    const sdk = await service.client.getClientAccessToken(request);
    if (ours === undefined) throw new Error('a service with a key signs client tokens');
    expect(ours.url.split('?')[0]).toBe(sdk.baseUrl);
    const claims = async (token: string) => {
      const { payload } = await jwtVerify(token, new TextEncoder().encode(KEY), { algorithms: ['HS256'] });
      const { iat, exp, nbf, ...rest } = payload;
      return {
        ...rest,
        lifetime: (exp ?? 0) - (iat ?? 0),
        ...(nbf !== undefined ? { nbf: nbf - (iat ?? 0) } : {}),
      };
    };
    // The SDK (1.2.0) signs no `nbf`; ours has one, equal to `iat`: every token the app signs has it.
    const { nbf, ...same } = await claims(ours.token);
    expect(nbf).toBe(0);
    expect(same).toEqual(await claims(sdk.token));
    expect(same).toEqual({ aud: `${origin}/client/hubs/chat`, sub: 'u:ann', lifetime: 3600 });
    expect(ours.url).toBe(`${sdk.baseUrl}?access_token=${ours.token}`);
  });
});

describe('the lean sender', () => {
  it('sends what the SDK sends, for names that need escaping too, each with a token for its URL', async () => {
    const { client } = webPubSubService(
      { kind: 'key', connectionString: `Endpoint=${origin};AccessKey=${KEY};Version=1.0;` },
      { hub: 'chat', maxRetries: 0 },
    );
    const text = { contentType: 'text/plain' } as const;
    const excluded = ['c1', 'c 2/é'];
    seen.length = 0;
    await client.sendToAll('{"type":"a"}', { ...text, excludedConnections: excluded });
    await client.sendToAll('{"type":"b"}', text);
    await client.group('crew x/ü?').sendToAll('{"type":"c"}', text);
    await client.sendToUser('u:ann smith', '{"type":"d"}', text);
    await client.sendToConnection('conn/1 +', '{"type":"e"}', text);
    const bySdk = seen.splice(0);

    const sender = new WebPubSubRestSender(new URL(origin), 'chat', KEY, { maxAttempts: 1, retryDelayMs: 0 });
    await sender.sendToAll('{"type":"a"}', excluded);
    await sender.sendToAll('{"type":"b"}');
    await sender.sendToGroup('crew x/ü?', '{"type":"c"}');
    await sender.sendToUser('u:ann smith', '{"type":"d"}');
    await sender.sendToConnection('conn/1 +', '{"type":"e"}');
    const byUs = seen.splice(0);

    const request = ({ method, url, contentType, body }: Seen) => ({ method, url, contentType, body });
    expect(byUs.map(request)).toEqual(bySdk.map(request));
    for (const call of byUs) await verify(call.authorization, `${origin}${call.url}`);
  });
});
