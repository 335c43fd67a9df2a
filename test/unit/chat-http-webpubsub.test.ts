/**
 * The page's choice of service (`?service=webpubsub`) at home and negotiate, the old raw-WebSocket address with
 * Web PubSub configured, and the page's CSP allowing the Web PubSub endpoint.
 */
import type { HttpResponseInit } from '@azure/functions';
import azureFunctions from '@azure/functions';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { home, webPubSubAddress } from '../../src/app/home.js';
import { negotiate } from '../../src/app/negotiate.js';
import { pageSecurityHeaders } from '../../src/app/page-security.js';
import { resetChatServices } from '../../src/app/services.js';
import { verifyToken } from '../../src/lib/signalr/tokens.js';
import { DEV_ACCESS_KEY as KEY } from '../../src/local/dev-constants.js';

const { HttpRequest, InvocationContext } = azureFunctions;
const ctx = () => new InvocationContext({ functionName: 'test', logHandler: () => undefined });
const request = (url: string, method = 'GET') =>
  new HttpRequest({ method, url: `http://localhost:7071${url}`, headers: {} });

function chatConfig(res: HttpResponseInit): Record<string, unknown> {
  const match = /<script id="chat-config" type="application\/json">(.*?)<\/script>/s.exec(String(res.body));
  if (!match?.[1]) throw new Error('no chat-config script');
  return JSON.parse(match[1]) as Record<string, unknown>;
}

const WEBPUBSUB = {
  REALTIME_SERVICE: 'webpubsub',
  WebPubSubConnectionString: `Endpoint=http://localhost:18080;AccessKey=${KEY};Version=1.0;`,
};

const saved = { ...process.env };
beforeAll(() => {
  process.env.AzureSignalRConnectionString = `Endpoint=http://localhost:8080;AccessKey=${KEY};Version=1.0;`;
  process.env.CHAT_HISTORY_STORAGE = 'UseDevelopmentStorage=true';
  resetChatServices();
});
afterEach(() => {
  delete process.env.REALTIME_SERVICE;
  delete process.env.WebPubSubConnectionString;
  resetChatServices();
});
afterAll(() => {
  process.env = saved;
  resetChatServices();
});

describe('with Web PubSub configured (REALTIME_SERVICE=webpubsub)', () => {
  const configure = () => {
    Object.assign(process.env, WEBPUBSUB);
    resetChatServices();
  };

  it('serves the page over Web PubSub for ?service=webpubsub, with the websocket dialect it carries', async () => {
    configure();
    const res = await home(request('/api/home?name=ann&service=webpubsub'), ctx());
    expect(res.status).toBe(200);
    expect(chatConfig(res)).toMatchObject({ user: 'ann', service: 'webpubsub', dialect: 'websocket' });
    const plain = await home(request('/api/home?name=ann'), ctx());
    expect(chatConfig(plain)).toMatchObject({ service: 'signalr', dialect: 'signalr' });
  });

  it('redirects the raw-WebSocket chat’s address of the retired 2020 preview to ?service=webpubsub, keeping the other parameters', async () => {
    configure();
    const res = await home(request('/api/home?name=ann&dialect=websocket&transport=websockets'), ctx());
    expect(res.status).toBe(302);
    expect((res.headers as Record<string, string>).location).toBe(
      '/api/home?name=ann&transport=websockets&service=webpubsub',
    );
    expect(webPubSubAddress('http://h/api/home?dialect=websocket')).toBe('/api/home?service=webpubsub');
  });

  it('refuses an unknown service, a dialect beside service=webpubsub, and a SignalR-only option over Web PubSub', async () => {
    configure();
    for (const url of [
      '/api/home?name=ann&service=pubnub',
      '/api/home?name=ann&service=webpubsub&dialect=signalr',
      '/api/home?name=ann&service=webpubsub&transport=sse',
      '/api/home?name=ann&service=webpubsub&protocol=messagepack',
    ]) {
      const res = await home(request(url), ctx());
      expect(res.status, url).toBe(400);
      expect(String(res.body).length, url).toBeGreaterThan(10);
    }
  });

  it('negotiates Web PubSub’s client URL for ?service=webpubsub, its token signed with the access key for the user', async () => {
    configure();
    const res = await negotiate(request('/api/negotiate?name=bob&service=webpubsub', 'POST'), ctx());
    expect(res.status).toBe(200);
    const body = res.jsonBody as { url: string; accessToken: string };
    const url = new URL(body.url);
    expect(`${url.protocol}//${url.host}${url.pathname}`).toBe('ws://localhost:18080/client/hubs/chat');
    expect(url.searchParams.get('access_token')).toBe(body.accessToken);
    const claims = await verifyToken(body.accessToken, [KEY], {
      audiences: ['http://localhost:18080/client/hubs/chat'],
    });
    expect(claims.sub).toBe('bob');
  });

  it('lets the page connect to the Web PubSub endpoint and to SignalR’s (CSP connect-src)', () => {
    configure();
    const csp = pageSecurityHeaders()['content-security-policy'] ?? '';
    const connect = csp.split('; ').find((d) => d.startsWith('connect-src'));
    expect(connect?.split(' ')).toEqual([
      'connect-src',
      "'self'",
      'http://localhost:8080',
      'ws://localhost:8080',
      'http://localhost:18080',
      'ws://localhost:18080',
      'http://127.0.0.1:10000',
    ]);
  });
});

describe('without Web PubSub (REALTIME_SERVICE=signalr)', () => {
  it('refuses ?service=webpubsub at home and negotiate, saying how to turn Web PubSub on', async () => {
    const page = await home(request('/api/home?name=ann&service=webpubsub'), ctx());
    expect(page.status).toBe(400);
    expect(String(page.body)).toContain('REALTIME_SERVICE=webpubsub');
    const res = await negotiate(request('/api/negotiate?name=ann&service=webpubsub', 'POST'), ctx());
    expect(res.status).toBe(400);
    expect((res.jsonBody as { code: string }).code).toBe('webpubsub-not-configured');
  });

  it('refuses the retired preview address ?dialect=websocket, saying how to turn Web PubSub on', async () => {
    const res = await home(request('/api/home?name=ann&dialect=websocket'), ctx());
    expect(res.status).toBe(400);
    expect(String(res.body)).toContain('REALTIME_SERVICE=webpubsub');
  });

  it('refuses an unknown ?service= at negotiate with 400 invalid-service', async () => {
    const res = await negotiate(request('/api/negotiate?name=ann&service=pubnub', 'POST'), ctx());
    expect(res.status).toBe(400);
    expect((res.jsonBody as { code: string }).code).toBe('invalid-service');
  });
});
