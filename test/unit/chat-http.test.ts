import type { HttpResponseInit } from '@azure/functions';
import azureFunctions from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assets } from '../../src/app/assets.js';
import { configScript, home, jsonForHtml } from '../../src/app/home.js';
import { negotiate } from '../../src/app/negotiate.js';
import { resetChatServices } from '../../src/app/services.js';
import { verifyToken } from '../../src/lib/signalr/tokens.js';
import { DEV_ACCESS_KEY as KEY } from '../../src/local/dev-constants.js';

const { HttpRequest, InvocationContext } = azureFunctions;
const ctx = () => new InvocationContext({ functionName: 'test', logHandler: () => undefined });

function get(url: string, headers: Record<string, string> = {}, method = 'GET') {
  return new HttpRequest({ method, url: `http://localhost:7071${url}`, headers });
}

function chatConfig(res: HttpResponseInit): Record<string, unknown> {
  const match = /<script id="chat-config" type="application\/json">(.*?)<\/script>/s.exec(String(res.body));
  if (!match?.[1]) throw new Error('no chat-config script');
  return JSON.parse(match[1]) as Record<string, unknown>;
}

const saved = { ...process.env };
beforeAll(() => {
  process.env.AzureSignalRConnectionString = `Endpoint=http://localhost:8080;AccessKey=${KEY};Version=1.0;`;
  process.env.CHAT_HISTORY_STORAGE = 'UseDevelopmentStorage=true';
  resetChatServices();
});
afterAll(() => {
  process.env = saved;
  resetChatServices();
});

describe('home', () => {
  it('escapes the configuration JSON so no value can close the script element', () => {
    expect(jsonForHtml({ a: '</script><b>&\u2028' })).toBe(
      '{"a":"\\u003c/script\\u003e\\u003cb\\u003e\\u0026\\u2028"}',
    );
    const script = configScript({
      user: '</script>',
      dialect: 'signalr',
      transport: null,
      protocol: 'json',
      apiBase: '/api',
      maxTextLength: 4000,
      hub: 'chat',
    });
    expect(script.match(/<\/script>/g)).toHaveLength(1);
  });

  it('serves the page with the configuration for ?name=ann', async () => {
    const res = await home(get('/api/home?name=ann'), ctx());
    expect(res.status).toBe(200);
    expect(String(res.body)).not.toContain('<!--CHAT_CONFIG-->');
    expect(chatConfig(res)).toEqual({
      user: 'ann',
      dialect: 'signalr',
      transport: null,
      protocol: 'json',
      apiBase: '/api',
      maxTextLength: 4000,
      hub: 'chat',
    });
  });

  it('holds the page to one SignalR transport with ?transport=, and refuses an unknown one as text', async () => {
    for (const transport of ['websockets', 'sse', 'longpolling']) {
      const res = await home(get(`/api/home?name=ann&transport=${transport}`), ctx());
      expect(chatConfig(res)).toMatchObject({ dialect: 'signalr', transport });
    }
    for (const url of [
      '/api/home?name=ann&transport=carrier-pigeon',
      '/api/home?name=ann&dialect=websocket&transport=sse',
    ]) {
      const res = await home(get(url), ctx());
      expect(res.status, url).toBe(400);
      expect(String(res.body), url).toContain('transport must be "websockets", "sse" or "longpolling"');
    }
  });

  it('serves the page with user null when no name is given, and the websocket dialect on request', async () => {
    const res = await home(get('/api/home?dialect=websocket'), ctx());
    expect(res.status).toBe(200);
    expect(chatConfig(res)).toMatchObject({ user: null, dialect: 'websocket' });
  });

  it('serves the page with the MessagePack hub protocol for ?protocol=messagepack', async () => {
    const res = await home(get('/api/home?name=ann&protocol=messagepack'), ctx());
    expect(res.status).toBe(200);
    expect(chatConfig(res)).toMatchObject({ user: 'ann', dialect: 'signalr', protocol: 'messagepack' });
  });

  it('refuses an unknown protocol, and messagepack with the websocket dialect, saying what is allowed', async () => {
    for (const query of [
      'protocol=xml',
      'protocol=MessagePack',
      'dialect=websocket&protocol=messagepack',
      'transport=sse&protocol=messagepack',
    ]) {
      const res = await home(get(`/api/home?name=ann&${query}`), ctx());
      expect(res.status).toBe(400);
      expect(String(res.body)).toContain('"json" (the default) or "messagepack"');
    }
  });

  it('prefers the App Service principal over ?name=', async () => {
    const res = await home(get('/api/home?name=mallory', { 'x-ms-client-principal-name': 'Zoë' }), ctx());
    expect(chatConfig(res)).toMatchObject({ user: 'Zoë' });
  });

  it('turns an e-mail principal into a chat name and refuses one that breaks the rules', async () => {
    const res = await home(get('/api/home', { 'x-ms-client-principal-name': 'ann@contoso.com' }), ctx());
    expect(chatConfig(res)).toMatchObject({ user: 'ann.contoso.com' });
    const bad = await home(get('/api/home', { 'x-ms-client-principal-name': 'ann+x@contoso.com' }), ctx());
    expect(bad.status).toBe(400);
    expect(String(bad.body)).toContain('signed-in name "ann+x@contoso.com"');
  });

  it.each([
    ['<script>', 'may only contain letters'],
    ['a'.repeat(33), 'longer than 32'],
    [' ann', 'must not start or end with a space'],
  ])('refuses the invalid name %j with 400 and a clear message', async (name, message) => {
    const res = await home(get(`/api/home?name=${encodeURIComponent(name)}`), ctx());
    expect(res.status).toBe(400);
    expect(res.headers).toMatchObject({
      'content-type': 'text/plain; charset=utf-8',
      'x-content-type-options': 'nosniff',
    });
    expect(String(res.body)).toContain(message);
    expect(String(res.body)).not.toContain('at ');
  });

  it('refuses an empty name', async () => {
    const res = await home(get('/api/home?name='), ctx());
    expect(res.status).toBe(400);
    expect(String(res.body)).toContain('empty');
  });
});

describe('negotiate', () => {
  it('issues a signalr-dialect token for the user, audience the client URL', async () => {
    const res = await negotiate(get('/api/negotiate?name=ann&negotiateVersion=1', {}, 'POST'), ctx());
    expect(res.status).toBe(200);
    const body = res.jsonBody as { url: string; accessToken: string };
    expect(body.url).toBe('http://localhost:8080/client/?hub=chat');
    const claims = await verifyToken(body.accessToken, [KEY], { audiences: [body.url] });
    expect(claims.nameid).toBe('ann');
  });

  it('issues the raw websocket URL with its token for ?dialect=websocket', async () => {
    const res = await negotiate(get('/api/negotiate?name=bob&dialect=websocket', {}, 'POST'), ctx());
    const body = res.jsonBody as { url: string; accessToken: string };
    const url = new URL(body.url);
    expect(`${url.protocol}//${url.host}${url.pathname}`).toBe('ws://localhost:8080/ws/client/hubs/chat');
    expect(url.searchParams.get('access_token')).toBe(body.accessToken);
    const claims = await verifyToken(body.accessToken, [KEY], {
      audiences: ['http://localhost:8080/ws/client/hubs/chat'],
    });
    expect(claims.nameid).toBe('bob');
  });

  it('takes the user from the App Service principal over ?name= (the token carries it, encoded for the service)', async () => {
    const res = await negotiate(
      get('/api/negotiate?name=mallory', { 'x-ms-client-principal-name': 'zoë@contoso.com' }, 'POST'),
      ctx(),
    );
    const body = res.jsonBody as { url: string; accessToken: string };
    const claims = await verifyToken(body.accessToken, [KEY], { audiences: [body.url] });
    expect(claims.nameid).toBe('zo%C3%AB.contoso.com');
  });

  it('refuses a missing or invalid name and an unknown dialect with 400 and {code, message}', async () => {
    for (const [url, code] of [
      ['/api/negotiate', 'no-user'],
      ['/api/negotiate?name=a%3Cb', 'invalid-name'],
      ['/api/negotiate?name=ann&dialect=sse', 'invalid-dialect'],
    ] as const) {
      const res = await negotiate(get(url, {}, 'POST'), ctx());
      expect(res.status, url).toBe(400);
      expect((res.jsonBody as { code: string }).code, url).toBe(code);
      const body = res.jsonBody as { code: string; message: string };
      expect(Object.keys(body).sort(), url).toEqual(['code', 'message']);
      expect(body.message.length).toBeGreaterThan(10);
    }
  });
});

describe('assets', () => {
  const asset = (path: string, headers: Record<string, string> = {}) =>
    assets(
      new HttpRequest({
        method: 'GET',
        url: `http://localhost/api/assets/${path}`,
        params: { path },
        headers,
      }),
      ctx(),
    );

  it('serves the vendored builds with long-lived cache headers', async () => {
    const vue = await asset('vendor/vue.js');
    expect(vue.status).toBe(200);
    expect((vue.headers as Record<string, string>)['content-type']).toBe('text/javascript; charset=utf-8');
    expect((vue.headers as Record<string, string>)['cache-control']).toBe('public, max-age=86400');
    const signalr = await asset('vendor/signalr.js');
    expect(signalr.status).toBe(200);
  });

  it('reads and hashes each vendored build once per process', async () => {
    const first = await asset('vendor/vue.js');
    const second = await asset('vendor/vue.js');
    expect(second.body).toBe(first.body);
  });

  it('answers 304 to a matching If-None-Match', async () => {
    const first = await asset('vendor/signalr.js');
    const etag = (first.headers as Record<string, string>).etag!;
    expect((await asset('vendor/signalr.js', { 'if-none-match': etag })).status).toBe(304);
  });

  it.each([
    '../package.json',
    'vendor/../../package.json',
    '.hidden',
    'index.html/..',
    'x/%2e%2e/y',
    'nope.js',
    'a.exe',
  ])('does not serve %j', async (path) => {
    expect((await asset(path)).status).toBe(404);
  });
});
