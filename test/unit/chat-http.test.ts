import type { HttpResponseInit } from '@azure/functions';
import azureFunctions from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assets } from '../../src/app/assets.js';
import { configScript, home, jsonForHtml } from '../../src/app/home.js';
import { CLIENT_TOKEN_TTL_SECONDS, negotiate } from '../../src/app/negotiate.js';
import { ROUTES } from '../../src/app/routes.js';
import { reactionLimitsFromSettings, resetChatServices } from '../../src/app/services.js';
import { CONTENT_TYPES } from '../../src/app/static-files.js';
import { MAX_CLIENT_TOKEN_TTL_SECONDS, verifyToken } from '../../src/lib/signalr/tokens.js';
import { DEV_ACCESS_KEY as KEY } from '../../src/local/dev-constants.js';
import { startFunctionsHost } from '../../src/local/functions-host/host.js';

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

const OID_ANN = '0f8fad5b-d9cb-469f-a165-70867728950e';
const OID_ANN_2 = '7c9e6679-7425-40de-944b-e07fc1f90ae7';

/** The headers App Service authentication writes for a signed-in Microsoft Entra user. */
function principalHeaders(user: { oid: string; name?: string; upn?: string }): Record<string, string> {
  const claims = [
    { typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: user.oid },
    ...(user.name !== undefined ? [{ typ: 'name', val: user.name }] : []),
    ...(user.upn !== undefined ? [{ typ: 'preferred_username', val: user.upn }] : []),
  ];
  const principal = {
    auth_typ: 'aad',
    claims,
    name_typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name',
    role_typ: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role',
  };
  return {
    'x-ms-client-principal': Buffer.from(JSON.stringify(principal)).toString('base64'),
    'x-ms-client-principal-id': user.oid,
    // The sign-in name (ASCII, as headers are).
    ...(user.upn !== undefined ? { 'x-ms-client-principal-name': user.upn } : {}),
    'x-ms-client-principal-idp': 'aad',
  };
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
      name: '</script>',
      auth: 'none',
      service: 'signalr',
      dialect: 'signalr',
      transport: null,
      protocol: 'json',
      apiBase: '/api',
      maxTextLength: 4000,
      maxReactionsPerMessage: 6,
      replyExcerptLength: 120,
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
      name: 'ann',
      auth: 'none',
      service: 'signalr',
      dialect: 'signalr',
      transport: null,
      protocol: 'json',
      apiBase: '/api',
      maxTextLength: 4000,
      maxReactionsPerMessage: 6,
      replyExcerptLength: 120,
      hub: 'chat',
      attachments: true,
      maxAttachmentBytes: 10485760,
    });
  });

  it('gives the page the reaction limits of the app settings, and refuses one out of its range', async () => {
    process.env.CHAT_MAX_REACTIONS_PER_MESSAGE = '3';
    process.env.CHAT_REPLY_EXCERPT_LENGTH = '40';
    try {
      const res = await home(get('/api/home?name=ann'), ctx());
      expect(chatConfig(res)).toMatchObject({ maxReactionsPerMessage: 3, replyExcerptLength: 40 });
      for (const [name, value] of [
        ['CHAT_MAX_REACTIONS_PER_MESSAGE', '7'],
        ['CHAT_MAX_REACTIONS_PER_MESSAGE', '0'],
        ['CHAT_REPLY_EXCERPT_LENGTH', '1001'],
        ['CHAT_REPLY_EXCERPT_LENGTH', '12.5'],
      ] as const) {
        const env = { ...process.env, [name]: value };
        expect(() => reactionLimitsFromSettings(env), `${name}=${value}`).toThrow(
          new RegExp(`${name} must be a whole number from 1 to`),
        );
      }
    } finally {
      delete process.env.CHAT_MAX_REACTIONS_PER_MESSAGE;
      delete process.env.CHAT_REPLY_EXCERPT_LENGTH;
    }
  });

  it('offers no attachments, and names no Blob origin in its CSP, with CHAT_ATTACHMENTS_STORAGE=off', async () => {
    process.env.CHAT_ATTACHMENTS_STORAGE = 'off';
    try {
      const res = await home(get('/api/home?name=ann'), ctx());
      expect(chatConfig(res).attachments).toBe(false);
      const csp = new Headers(res.headers as Record<string, string>).get('content-security-policy') ?? '';
      expect(csp).toContain("img-src 'self' data:;");
      expect(csp).not.toContain('10000');
    } finally {
      delete process.env.CHAT_ATTACHMENTS_STORAGE;
    }
  });

  it('holds the page to one SignalR transport with ?transport=, and refuses an unknown one as text', async () => {
    for (const transport of ['websockets', 'sse', 'longpolling']) {
      const res = await home(get(`/api/home?name=ann&transport=${transport}`), ctx());
      expect(chatConfig(res)).toMatchObject({ dialect: 'signalr', transport });
    }
    for (const url of [
      '/api/home?name=ann&transport=carrier-pigeon',
      '/api/home?name=ann&transport=WebSockets',
    ]) {
      const res = await home(get(url), ctx());
      expect(res.status, url).toBe(400);
      expect(String(res.body), url).toContain('transport must be "websockets", "sse" or "longpolling"');
    }
  });

  it('serves the page with user null when no name is given', async () => {
    const res = await home(get('/api/home'), ctx());
    expect(res.status).toBe(200);
    expect(chatConfig(res)).toMatchObject({ user: null, dialect: 'signalr' });
  });

  it('refuses a dialect other than the retired preview address ?dialect=websocket with 400, naming service=webpubsub', async () => {
    for (const url of ['/api/home?name=ann&dialect=signalr', '/api/home?name=ann&dialect=raw']) {
      const res = await home(get(url), ctx());
      expect(res.status, url).toBe(400);
      expect(String(res.body), url).toContain('service=webpubsub');
    }
  });

  it('ignores client-written principal headers without sign-in (CHAT_AUTH=none): ?name= is the user', async () => {
    const forged = principalHeaders({ oid: OID_ANN, name: 'Boss' });
    const res = await home(get('/api/home?name=mallory', forged), ctx());
    expect(chatConfig(res)).toMatchObject({ user: 'mallory', name: 'mallory', auth: 'none' });
    const nobody = await home(get('/api/home', forged), ctx());
    expect(chatConfig(nobody)).toMatchObject({ user: null, auth: 'none' });
  });

  it('serves the page with the MessagePack hub protocol for ?protocol=messagepack', async () => {
    const res = await home(get('/api/home?name=ann&protocol=messagepack'), ctx());
    expect(res.status).toBe(200);
    expect(chatConfig(res)).toMatchObject({ user: 'ann', dialect: 'signalr', protocol: 'messagepack' });
  });

  it('refuses an unknown protocol, and messagepack over Server-Sent Events, saying what is allowed', async () => {
    for (const query of ['protocol=xml', 'protocol=MessagePack', 'transport=sse&protocol=messagepack']) {
      const res = await home(get(`/api/home?name=ann&${query}`), ctx());
      expect(res.status).toBe(400);
      expect(String(res.body)).toContain('"json" (the default) or "messagepack"');
    }
  });
  it.each([
    ['<you>', 'may only contain letters'],
    ['a'.repeat(33), 'longer than 32'],
    [' ann', 'must not start or end with a space'],
  ])(
    'answers the invalid name %j with 400 and the name prompt, the name filled in and the reason',
    async (name, message) => {
      const res = await home(get(`/api/home?name=${encodeURIComponent(name)}`), ctx());
      expect(res.status).toBe(400);
      expect(res.headers).toMatchObject({
        'content-type': 'text/html; charset=utf-8',
        'x-content-type-options': 'nosniff',
      });
      expect(new Headers(res.headers as Record<string, string>).get('content-security-policy')).toContain(
        "default-src 'none'",
      );
      const config = chatConfig(res);
      expect(config).toMatchObject({ user: null, refusedName: { name } });
      expect((config.refusedName as { problem: string }).problem).toContain(message);
      // The name is data in the JSON block, never markup.
      expect(String(res.body)).not.toContain('<you>');
    },
  );

  it('refuses an empty name', async () => {
    const res = await home(get('/api/home?name='), ctx());
    expect(res.status).toBe(400);
    expect((chatConfig(res).refusedName as { problem: string }).problem).toContain('empty');
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
    // Bounded: an hour, within the client tokens' maximum, and not valid before it was issued.
    expect(claims.exp).toBeDefined();
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(CLIENT_TOKEN_TTL_SECONDS);
    expect(CLIENT_TOKEN_TTL_SECONDS).toBeLessThanOrEqual(MAX_CLIENT_TOKEN_TTL_SECONDS);
    expect(claims.nbf).toBe(claims.iat);
  });

  it('refuses ?dialect= (the retired 2020 preview) with 400 dialect-retired, naming service=webpubsub', async () => {
    const res = await negotiate(get('/api/negotiate?name=bob&dialect=websocket', {}, 'POST'), ctx());
    expect(res.status).toBe(400);
    const body = res.jsonBody as { code: string; message: string };
    expect(body.code).toBe('dialect-retired');
    expect(body.message).toContain('service=webpubsub');
  });

  it('gives no token for a forged x-ms-client-principal-name without sign-in (CHAT_AUTH=none)', async () => {
    const forged = { 'x-ms-client-principal-name': 'boss@contoso.com', 'x-ms-client-principal-id': OID_ANN };
    const refused = await negotiate(get('/api/negotiate', forged, 'POST'), ctx());
    expect(refused.status).toBe(400);
    expect((refused.jsonBody as { code: string }).code).toBe('no-user');
    const res = await negotiate(get('/api/negotiate?name=mallory', forged, 'POST'), ctx());
    const body = res.jsonBody as { url: string; accessToken: string };
    const claims = await verifyToken(body.accessToken, [KEY], { audiences: [body.url] });
    expect(claims.nameid).toBe('mallory');
    expect(JSON.stringify(claims)).not.toContain('boss');
  });

  it('refuses a missing or invalid name and any dialect (retired) with 400 and {code, message}', async () => {
    for (const [url, code] of [
      ['/api/negotiate', 'no-user'],
      ['/api/negotiate?name=a%3Cb', 'invalid-name'],
      ['/api/negotiate?name=ann&dialect=sse', 'dialect-retired'],
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

describe('with sign-in (CHAT_AUTH=entra)', () => {
  beforeAll(() => {
    process.env.CHAT_AUTH = 'entra';
  });
  afterAll(() => {
    delete process.env.CHAT_AUTH;
  });

  it('takes the user from the platform principal: the object id as the user, the name claim as the display name; ?name= is ignored', async () => {
    const res = await home(
      get(
        '/api/home?name=mallory',
        principalHeaders({ oid: OID_ANN, name: 'Ann Lee', upn: 'ann@contoso.com' }),
      ),
      ctx(),
    );
    expect(res.status).toBe(200);
    expect(chatConfig(res)).toMatchObject({
      user: OID_ANN.replaceAll('-', ''),
      name: 'Ann Lee',
      auth: 'entra',
    });
  });

  it('falls back to preferred_username, then to the principal-name header, for the display name', async () => {
    const upnOnly = await home(
      get('/api/home', principalHeaders({ oid: OID_ANN, upn: 'ann@contoso.com' })),
      ctx(),
    );
    expect(chatConfig(upnOnly)).toMatchObject({ name: 'ann@contoso.com' });
    const headersOnly = await home(
      get('/api/home', {
        'x-ms-client-principal-id': OID_ANN,
        'x-ms-client-principal-name': 'ann@fabrikam.com',
      }),
      ctx(),
    );
    expect(chatConfig(headersOnly)).toMatchObject({
      user: OID_ANN.replaceAll('-', ''),
      name: 'ann@fabrikam.com',
    });
  });

  it('keeps two people with the same name apart by their object ids', async () => {
    const a = chatConfig(
      await home(get('/api/home', principalHeaders({ oid: OID_ANN, name: 'Ann' })), ctx()),
    );
    const b = chatConfig(
      await home(get('/api/home', principalHeaders({ oid: OID_ANN_2, name: 'Ann' })), ctx()),
    );
    expect(a.name).toBe(b.name);
    expect(a.user).not.toBe(b.user);
  });

  it('sends a browser without a principal to sign-in, and back to the page afterwards', async () => {
    const res = await home(get('/api/home?name=mallory&transport=sse'), ctx());
    expect(res.status).toBe(302);
    const location = new URL(String((res.headers as Record<string, string>).location), 'http://x');
    expect(location.pathname).toBe('/.auth/login/aad');
    expect(location.searchParams.get('post_login_redirect_uri')).toBe('/api/home?name=mallory&transport=sse');
  });

  it('refuses negotiate without a principal, whatever ?name= says (401 not-signed-in)', async () => {
    const res = await negotiate(
      get('/api/negotiate?name=ann', { 'x-ms-client-principal-name': 'ann' }, 'POST'),
      ctx(),
    );
    expect(res.status).toBe(401);
    expect((res.jsonBody as { code: string }).code).toBe('not-signed-in');
  });

  it('refuses a principal that cannot be read or has no object id (401 invalid-principal)', async () => {
    for (const headers of [
      { 'x-ms-client-principal': 'not base64 json' },
      principalHeaders({ oid: 'not-a-guid', name: 'Ann' }),
    ]) {
      const res = await negotiate(get('/api/negotiate', headers, 'POST'), ctx());
      expect(res.status).toBe(401);
      expect((res.jsonBody as { code: string }).code).toBe('invalid-principal');
    }
  });

  it('cleans display names: controls and bidirectional overrides dropped, white space folded, at most 64 characters', async () => {
    const res = await home(
      get('/api/home', principalHeaders({ oid: OID_ANN, name: ` Ann\u202E\u0000  Lee\n${'x'.repeat(100)}` })),
      ctx(),
    );
    const name = String(chatConfig(res).name);
    expect(name.startsWith('Ann Lee x')).toBe(true);
    expect([...name]).toHaveLength(64);
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

  it('serves the formatting builds: markdown-it (a classic script) and DOMPurify (an ES module), neither using eval', async () => {
    const markdownIt = await asset('vendor/markdown-it.js');
    expect(markdownIt.status).toBe(200);
    expect(String(markdownIt.body)).toContain('markdownit');
    const purify = await asset('vendor/purify.js');
    expect(purify.status).toBe(200);
    expect((purify.headers as Record<string, string>)['content-type']).toBe('text/javascript; charset=utf-8');
    expect(String(purify.body)).toMatch(/export \{ \w+ as default \}/);
    // The page's CSP has no 'unsafe-eval' to spare for them (Vue's compiler has the one allowance).
    for (const body of [markdownIt.body, purify.body])
      expect(String(body)).not.toMatch(/\beval\(|new Function\(/);
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

  it.each(Object.getOwnPropertyNames(Object.prototype))(
    'answers 404, not 500, to the prototype name %j (and under vendor/)',
    async (name) => {
      for (const path of [name, `vendor/${name}`]) {
        const res = await asset(path);
        expect([path, res.status]).toEqual([path, 404]);
        expect(String(res.body)).toBe(`No asset named "${path}"`);
      }
    },
  );

  it('does not serve the page template: only /api/home serves the page, with its CSP and framing headers', async () => {
    for (const path of ['index.html', 'INDEX.HTML', 'index.htm'])
      expect((await asset(path)).status).toBe(404);
    expect(Object.keys(CONTENT_TYPES)).not.toContain('.html');
  });

  it('serves a file only under its exact name: no trailing slash, no empty segment', async () => {
    // The host drops empty segments when it matches `{*path}`: the handler is given `vendor/signalr.js` for each.
    for (const url of ['vendor/signalr.js/', 'vendor//signalr.js', 'vendor/signalr.js//']) {
      const res = await assets(
        new HttpRequest({
          method: 'GET',
          url: `http://localhost/api/assets/${url}`,
          params: { path: 'vendor/signalr.js' },
        }),
        ctx(),
      );
      expect([url, res.status]).toEqual([url, 404]);
    }
    expect((await asset('vendor/signalr.js')).status).toBe(200);
  });

  it('answers 404 through the built-in host to prototype names, the page template and a trailing slash', async () => {
    const host = await startFunctionsHost({
      port: 0,
      settingsFile: false,
      routes: [ROUTES.assets],
      log: () => undefined,
    });
    try {
      const paths = [
        ...Object.getOwnPropertyNames(Object.prototype),
        'index.html',
        'vendor/signalr.js/',
        'vendor//signalr.js',
      ];
      for (const path of paths) {
        const res = await fetch(`${host.url}/api/assets/${path}`);
        expect([path, res.status]).toEqual([path, 404]);
        expect(await res.text()).toMatch(/^No asset named "/);
      }
      expect((await fetch(`${host.url}/api/assets/vendor/signalr.js`)).status).toBe(200);
    } finally {
      await host.close();
    }
  });
});
