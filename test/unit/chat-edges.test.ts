/**
 * The app's edges against hostile input: names refused at negotiate and home, the page's security headers,
 * and the rate limits of negotiate (docs/architecture.md, "Names", "Fair sharing", "The page").
 */
import azureFunctions from '@azure/functions';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clientAddress } from '../../src/app/command-limits.js';
import { home } from '../../src/app/home.js';
import { negotiate } from '../../src/app/negotiate.js';
import { frameAncestors, pageSecurityHeaders } from '../../src/app/page-security.js';
import { resetChatServices } from '../../src/app/services.js';
import { RateLimiter } from '../../src/lib/rate-limit.js';
import { DEV_ACCESS_KEY as KEY } from '../../src/local/dev-constants.js';

const { HttpRequest, InvocationContext } = azureFunctions;
const ctx = () => new InvocationContext({ functionName: 'test', logHandler: () => undefined });
const post = (url: string, headers: Record<string, string> = {}) =>
  new HttpRequest({ method: 'POST', url: `http://localhost:7071${url}`, headers });

const saved = { ...process.env };
beforeAll(() => {
  process.env.AzureSignalRConnectionString = `Endpoint=https://chat.service.signalr.net;AccessKey=${KEY};Version=1.0;`;
  process.env.CHAT_HISTORY_STORAGE = 'UseDevelopmentStorage=true';
  resetChatServices();
});
afterEach(() => {
  for (const name of [
    'CHAT_FRAME_ANCESTORS',
    'CHAT_NEGOTIATE_PER_MINUTE_PER_USER',
    'CHAT_NEGOTIATE_PER_MINUTE_PER_ADDRESS',
  ])
    delete process.env[name];
  resetChatServices();
});
afterAll(() => {
  process.env = saved;
  resetChatServices();
});

describe('names at the edge', () => {
  it.each([
    ['.', /path step/],
    ['..', /path step/],
    ['\u0430nn', /mixes scripts/],
    ['\uff41\uff4e\uff4e', /plain form: "ann"/],
    ['ann\u200b', /invisible/],
    ['a\u202eb', /text-direction/],
  ])('negotiate and home refuse %j with 400 and the reason', async (name, reason) => {
    const query = `?name=${encodeURIComponent(name)}`;
    const res = await negotiate(post(`/api/negotiate${query}`), ctx());
    expect(res.status).toBe(400);
    expect(res.jsonBody).toMatchObject({ code: 'invalid-name', message: expect.stringMatching(reason) });
    const page = await home(
      new HttpRequest({ method: 'GET', url: `http://localhost:7071/api/home${query}` }),
      ctx(),
    );
    expect(page.status).toBe(400);
    expect(
      JSON.parse(
        /<script id="chat-config" type="application\/json">(.*?)<\/script>/s.exec(String(page.body))?.[1] ??
          '{}',
      ).refusedName.problem,
    ).toMatch(reason);
    expect(new Headers(page.headers as Record<string, string>).get('x-content-type-options')).toBe('nosniff');
  });
});

describe('the page cannot be framed or run foreign code', () => {
  it('sends a strict CSP with the service endpoint in both forms, X-Frame-Options DENY and nosniff', async () => {
    const res = await home(
      new HttpRequest({ method: 'GET', url: 'http://localhost:7071/api/home?name=ann' }),
      ctx(),
    );
    const headers = new Headers(res.headers as Record<string, string>);
    expect(headers.get('content-security-policy')?.split('; ')).toEqual([
      "default-src 'none'",
      "script-src 'self' 'unsafe-eval'",
      "style-src 'self'",
      // The attachments' Blob origin (CHAT_HISTORY_STORAGE here) for images and uploads, nowhere else.
      "img-src 'self' data: http://127.0.0.1:10000",
      "connect-src 'self' https://chat.service.signalr.net wss://chat.service.signalr.net http://127.0.0.1:10000",
      "base-uri 'none'",
      "form-action 'none'",
      "object-src 'none'",
      "frame-ancestors 'none'",
    ]);
    expect(headers.get('x-frame-options')).toBe('DENY');
    expect(headers.get('x-content-type-options')).toBe('nosniff');
    // The page has no inline script to allow: its one inline <script> is JSON data, never executed.
    const scripts = [...String(res.body).matchAll(/<script\b([^>]*)>/g)].map((m) => m[1]?.trim());
    expect(scripts).toEqual([
      'id="chat-config" type="application/json"',
      'defer src="/api/assets/vendor/signalr.js"',
      'defer src="/api/assets/vendor/signalr-protocol-msgpack.js"',
      'defer src="/api/assets/vendor/markdown-it.js"',
      'type="module" src="/api/assets/app.js"',
    ]);
  });

  it('takes frame-ancestors from CHAT_FRAME_ANCESTORS and refuses a value that could inject a directive', () => {
    process.env.CHAT_FRAME_ANCESTORS = "'self'";
    expect(pageSecurityHeaders()['x-frame-options']).toBe('SAMEORIGIN');
    process.env.CHAT_FRAME_ANCESTORS = "'self' https://intranet.example";
    expect(pageSecurityHeaders()['content-security-policy']).toContain(
      "frame-ancestors 'self' https://intranet.example",
    );
    expect(pageSecurityHeaders()['x-frame-options']).toBeUndefined();
    for (const bad of ["'self'; script-src *", 'https://a.example,https://b.example', "'none' 'self'"]) {
      process.env.CHAT_FRAME_ANCESTORS = bad;
      expect(() => frameAncestors()).toThrow(/CHAT_FRAME_ANCESTORS/);
    }
  });
});

describe('fair sharing', () => {
  it('a token bucket allows the burst, then one request per refill, and says how long to wait', () => {
    let now = 0;
    const limiter = new RateLimiter({ burst: 2, perSecond: 4, now: () => now });
    expect([limiter.take('a'), limiter.take('a'), limiter.take('b')]).toEqual([0, 0, 0]);
    expect(limiter.take('a')).toBe(250);
    now = 250;
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBe(250);
  });

  it('negotiate answers 429 with Retry-After past the per-user limit, while other users are served', async () => {
    process.env.CHAT_NEGOTIATE_PER_MINUTE_PER_USER = '3';
    resetChatServices();
    const statuses = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await negotiate(post('/api/negotiate?name=flood'), ctx())).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const refused = await negotiate(post('/api/negotiate?name=flood'), ctx());
    expect(refused.jsonBody).toMatchObject({ code: 'too-many-negotiates' });
    expect(Number(new Headers(refused.headers as Record<string, string>).get('retry-after'))).toBeGreaterThan(
      0,
    );
    expect((await negotiate(post('/api/negotiate?name=calm'), ctx())).status).toBe(200);
  });

  it('negotiate answers 429 past the per-address limit, by the address the platform adds last', async () => {
    process.env.CHAT_NEGOTIATE_PER_MINUTE_PER_ADDRESS = '2';
    resetChatServices();
    const from = (address: string, user: string) =>
      negotiate(post(`/api/negotiate?name=${user}`, { 'x-forwarded-for': address }), ctx());
    // The client may write any earlier entries; only the last one counts.
    expect((await from('1.1.1.1, 203.0.113.5:50000', 'u1')).status).toBe(200);
    expect((await from('2.2.2.2, 203.0.113.5:50001', 'u2')).status).toBe(200);
    expect((await from('203.0.113.5', 'u3')).status).toBe(429);
    expect((await from('198.51.100.7:1234', 'u4')).status).toBe(200);
  });

  it('reads the client address from X-Forwarded-For', () => {
    const address = (value?: string) =>
      clientAddress(
        new HttpRequest({
          method: 'GET',
          url: 'http://x/',
          headers: value ? { 'x-forwarded-for': value } : {},
        }),
      );
    expect(address('203.0.113.5:50000')).toBe('203.0.113.5');
    expect(address('a, [2001:db8::1]:443')).toBe('2001:db8::1');
    expect(address('2001:db8::1')).toBe('2001:db8::1');
    expect(address()).toBe('unknown');
  });
});
