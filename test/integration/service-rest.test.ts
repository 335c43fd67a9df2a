import { SignJWT } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createClientToken, createRestToken } from '../../src/lib/signalr/tokens.js';
import { type RunningService, startService } from '../../src/local/service/index.js';
import { SIGNALR_GENERATE_TOKEN_API_VERSIONS } from '../fixtures/signalr-api-versions.js';
import { http, PRIMARY_KEY, recordingLog, SECONDARY_KEY } from '../support/local-service.js';
import { SignalRRawClient } from '../support/signalr-raw-client.js';

// Issue 2's known-answer tokens, signed with the primary key.
const VALID_UNTIL_2100 =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJodHRwOi8vbG9jYWxob3N0OjgwODAvYXBpL3YxL2h1YnMvY2hhdCIsImV4cCI6NDEwMjQ0NDgwMH0.i3Yxq6mHbQwbHEiMNJpjz4pv_RjGO_ikLV7z14KDkw4';
const EXPIRED_2000 =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJodHRwOi8vbG9jYWxob3N0OjgwODAvYXBpL3YxL2h1YnMvY2hhdCIsImV4cCI6OTQ2Njg0ODAwfQ.haPEQpHabDvYmljSOHC7OJv6yViTR5-fsHGVppVofKQ';

let svc: RunningService;
const logs = recordingLog();
const cleanups: Array<() => Promise<unknown>> = [];

let nextId = 0;

beforeEach(async () => {
  nextId = 0;
  svc = await startService({
    port: 0,
    accessKeys: [PRIMARY_KEY, SECONDARY_KEY],
    log: logs.log,
    maxMessageBytes: 4096,
    generateConnectionId: () => `c${++nextId}`,
  });
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await svc.close();
});

async function rest(
  method: string,
  path: string,
  options: { body?: string; contentType?: string; token?: string; host?: string } = {},
) {
  const url = `${svc.url}${path}`;
  const headers: Record<string, string> = {
    Authorization: `Bearer ${options.token ?? (await createRestToken(PRIMARY_KEY, url))}`,
    'Content-Type': options.contentType ?? 'text/plain',
  };
  if (options.host) headers.Host = options.host;
  return http(method, url, { headers, ...(options.body !== undefined ? { body: options.body } : {}) });
}

describe('REST API of the local service', () => {
  it('delivers signalr-dialect sends as Invocations, in the v1 and the 2022-06-01 forms', async () => {
    const ann = await SignalRRawClient.open(svc.url, 'chat', 'ann');
    const bo = await SignalRRawClient.open(svc.url, 'chat', 'bo');
    cleanups.push(
      () => ann.close(),
      () => bo.close(),
    );
    const json = 'application/json';
    const send = (path: string, target: string) =>
      rest('POST', path, { body: JSON.stringify({ target, arguments: [{ n: 1 }] }), contentType: json });
    expect((await send('/api/v1/hubs/chat', 'all')).status).toBe(202);
    expect(
      (await send(`/api/hubs/chat/:send?api-version=2022-06-01&excluded=${bo.connectionId}`, 'all-but-bo'))
        .status,
    ).toBe(202);
    expect((await send('/api/hubs/chat/users/bo/:send?api-version=2022-06-01', 'to-bo')).status).toBe(202);
    expect(
      (await send(`/api/hubs/chat/connections/${ann.connectionId}/:send?api-version=2022-06-01`, 'to-ann'))
        .status,
    ).toBe(202);
    expect(
      (await rest('PUT', `/api/hubs/chat/groups/g/connections/${bo.connectionId}?api-version=2022-06-01`))
        .status,
    ).toBe(200);
    expect((await send('/api/hubs/chat/groups/g/:send?api-version=2022-06-01', 'to-g')).status).toBe(202);
    expect((await send('/api/v1/hubs/chat', 'end')).status).toBe(202);
    const targets = async (client: SignalRRawClient) => {
      const seen: string[] = [];
      for (;;) {
        const m = await client.next((x) => x.type === 1);
        if (m.type !== 1) continue;
        seen.push(m.target);
        if (m.target === 'end') return seen;
      }
    };
    expect(await targets(ann)).toEqual(['all', 'all-but-bo', 'to-ann', 'end']);
    expect(await targets(bo)).toEqual(['all', 'to-bo', 'to-g', 'end']);
    expect(ann.frames).toContain('{"type":1,"target":"all","arguments":[{"n":1}]}\x1e');
  });

  it('accepts the known-answer tokens for its endpoint http://localhost:8080 whatever port it listens on', async () => {
    await svc.close();
    svc = await startService({
      port: 0,
      endpoint: 'http://localhost:8080',
      accessKeys: [PRIMARY_KEY, SECONDARY_KEY],
      log: logs.log,
    });
    expect(svc.endpoint).toBe('http://localhost:8080');
    const contentType = 'application/json';
    const body = '{"target":"t"}';
    expect(
      (await rest('POST', '/api/v1/hubs/chat', { token: VALID_UNTIL_2100, body, contentType })).status,
    ).toBe(202);
    const expired = await rest('POST', '/api/v1/hubs/chat', { token: EXPIRED_2000, body, contentType });
    expect(expired.status).toBe(401);
    // v1 answers errors as text/plain.
    expect(expired.text).toBe('The access token has expired');
    // The endpoint without its port, and the loopback aliases, are the same audience.
    const noPort = await createRestToken(PRIMARY_KEY, 'http://localhost/api/v1/hubs/chat');
    expect((await rest('POST', '/api/v1/hubs/chat', { token: noPort, body, contentType })).status).toBe(202);
    for (const origin of ['http://127.0.0.1:8080', 'http://[::1]:8080', 'http://[::1]']) {
      const alias = await createRestToken(PRIMARY_KEY, `${origin}/api/v1/hubs/chat/`);
      const res = await rest('POST', '/api/v1/hubs/chat/', { token: alias, body, contentType });
      expect(res.status, origin).toBe(202);
    }
    // The port it actually listens on is not the endpoint's: a token for it is refused.
    const listening = await createRestToken(PRIMARY_KEY, `${svc.url}/api/v1/hubs/chat`);
    const refused = await rest('POST', '/api/v1/hubs/chat', { token: listening, body, contentType });
    expect(refused.status).toBe(401);
    expect(refused.text).toContain('http://localhost:8080/api/v1/hubs/chat');
  });

  it('binds audiences to its endpoint, never to the Host header a caller sends', async () => {
    const contentType = 'application/json';
    const body = '{"target":"t"}';
    // A token minted for another origin, sent with that origin as Host, is refused.
    for (const host of ['evil.example', 'evil.example:8080', `localhost.evil.example:${svc.port}`]) {
      const token = await createRestToken(PRIMARY_KEY, `http://${host}/api/v1/hubs/chat`);
      const res = await rest('POST', '/api/v1/hubs/chat', { token, host, body, contentType });
      expect(res.status, host).toBe(401);
      expect(res.text, host).toContain(`http://localhost:${svc.port}/api/v1/hubs/chat`);
    }
    // The endpoint's token works whatever Host the caller sends (the Host header decides nothing).
    const mine = await createRestToken(PRIMARY_KEY, `http://localhost:${svc.port}/api/v1/hubs/chat`);
    const res = await rest('POST', '/api/v1/hubs/chat', {
      token: mine,
      host: 'evil.example',
      body,
      contentType,
    });
    expect(res.status).toBe(202);
    // A client token of another origin is refused at negotiate.
    const foreign = await createClientToken(PRIMARY_KEY, 'http://evil.example/client/?hub=chat', {
      userId: 'ann',
    });
    const negotiate = await http('POST', `${svc.url}/client/negotiate?hub=chat&negotiateVersion=1`, {
      headers: { Authorization: `Bearer ${foreign}`, Host: 'evil.example' },
    });
    expect(negotiate.status).toBe(401);
  });

  it('refuses every bad token with 401 and a reason (text/plain on /api/v1)', async () => {
    const path = '/api/v1/hubs/chat';
    const url = `${svc.url}${path}`;
    const body = '{"target":"t"}';
    const noExp = await new SignJWT({ aud: url })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(PRIMARY_KEY));
    const cases: Array<[string, string, string]> = [
      ['wrong key', await createRestToken('not-a-key-of-this-service', url), 'not signed with a key'],
      [
        'wrong aud',
        await createRestToken(PRIMARY_KEY, `${svc.url}/api/v1/hubs/other`),
        `audience must be ${svc.endpoint}${path}`,
      ],
      ['expired', await createRestToken(PRIMARY_KEY, url, { now: () => Date.now() - 7200_000 }), 'expired'],
      ['missing exp', noExp, 'no exp claim'],
      ['garbage', 'abc.def', 'not a valid HS256 JWT'],
    ];
    for (const [name, token, reason] of cases) {
      const res = await rest('POST', path, { token, body, contentType: 'application/json' });
      expect(res.status, name).toBe(401);
      expect(res.text, name).toContain(reason);
      expect(res.text, `${name}: the reason never repeats the token`).not.toContain(token);
    }
    const missing = await http('POST', url, { body });
    expect(missing.status).toBe(401);
    expect(missing.text).toContain('Authorization: Bearer');
    const basic = await http('POST', url, { body, headers: { Authorization: 'Basic YW5uOnB3' } });
    expect(basic.status).toBe(401);
    expect(basic.text).toBe('The Authorization header must be "Bearer <JWT>"');
    // The secondary key is accepted too; tokens never reach the log.
    const secondary = await createRestToken(SECONDARY_KEY, url);
    expect(
      (await rest('POST', path, { token: secondary, body, contentType: 'application/json' })).status,
    ).toBe(202);
    expect(logs.text()).not.toContain(secondary);
    expect(logs.text()).not.toContain(PRIMARY_KEY);
    expect(logs.text()).not.toContain(SECONDARY_KEY);
  });

  it('answers 413, 400, 404 and 405 with reasons that say what to fix', async () => {
    const json = 'application/json';
    const big = await rest('POST', '/api/v1/hubs/chat', {
      body: JSON.stringify({ target: 't', arguments: ['x'.repeat(4096)] }),
      contentType: json,
    });
    expect(big.status).toBe(413);
    expect(big.text).toContain('4096 bytes (maxMessageBytes)');
    const badJson = await rest('POST', '/api/v1/hubs/chat', { body: '{nope', contentType: json });
    expect(badJson.status).toBe(400);
    expect(badJson.text).toContain('not valid JSON');
    const noTarget = await rest('POST', '/api/v1/hubs/chat', { body: '{"arguments":[]}', contentType: json });
    expect(noTarget.status).toBe(400);
    const notJson = await rest('POST', '/api/v1/hubs/chat', { body: '{"target":"t"}' });
    expect(notJson.status).toBe(415);
    expect(notJson.text).toContain('application/json');
    expect(
      (await rest('POST', '/api/v1/hubs/bad-hub!', { body: '{"target":"t"}', contentType: json })).status,
    ).toBe(400);
    const unknown = await rest('POST', '/api/v1/hubs/chat/nothing/here');
    expect(unknown.status).toBe(404);
    expect(unknown.text).toBe('No REST operation at /api/v1/hubs/chat/nothing/here');
    const unknown2022 = await rest('POST', '/api/hubs/chat/nothing/here?api-version=2022-06-01');
    expect(unknown2022.status).toBe(404);
    expect(unknown2022.headers['x-ms-error-code']).toBe('not-found');
    expect(JSON.parse(unknown2022.text).code).toBe('not-found');
    expect((await rest('GET', '/elsewhere')).status).toBe(404);
    const wrongMethod = await rest('PATCH', '/api/v1/hubs/chat/users/ann');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe('POST, GET, HEAD');
  });

  it('takes minutesToExpire as Azure types it: whole minutes from 1 to int32, default 60', async () => {
    const lifetime = async (query: string) => {
      const res = await rest(
        'POST',
        `/api/hubs/chat/:generateToken?userId=ann${query}&api-version=2024-12-01`,
      );
      if (res.status !== 200)
        return { status: res.status, body: JSON.parse(res.text) as { code: string; message: string } };
      const { token } = JSON.parse(res.text) as { token: string };
      const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as {
        exp: number;
        iat: number;
      };
      return { status: 200, seconds: payload.exp - payload.iat };
    };
    expect(await lifetime('')).toEqual({ status: 200, seconds: 3600 });
    expect(await lifetime('&minutesToExpire=1')).toEqual({ status: 200, seconds: 60 });
    expect(await lifetime('&minutesToExpire=100000000')).toEqual({ status: 200, seconds: 6e9 });
    for (const minutes of ['1e8', '1.5', '0', '-1', '2147483648', 'Infinity', '0x10']) {
      expect(await lifetime(`&minutesToExpire=${minutes}`), minutes).toEqual({
        status: 400,
        body: {
          code: 'invalid-request',
          message: `The value '${minutes}' is not valid for minutesToExpire: give whole minutes, 1 to 2147483647`,
        },
      });
    }
  });

  it('issues client tokens from :generateToken for the signalr client URL', async () => {
    const res = await rest(
      'POST',
      '/api/hubs/chat/:generateToken?userId=ann&minutesToExpire=5&api-version=2024-12-01',
    );
    expect(res.status).toBe(200);
    const { token } = JSON.parse(res.text) as { token: string };
    const [, payload] = token.split('.');
    expect(JSON.parse(Buffer.from(payload ?? '', 'base64url').toString())).toMatchObject({
      aud: `${svc.endpoint}/client/?hub=chat`,
      nameid: 'ann',
    });
  });

  it('refuses :generateToken under an api-version Azure SignalR does not publish it in, naming those it does', async () => {
    // 2024-01-01 is a Web PubSub version; 2022-06-01 is a SignalR version without the operation.
    for (const version of ['2024-01-01', '2022-06-01', '2021-10-01']) {
      const res = await rest('POST', `/api/hubs/chat/:generateToken?userId=ann&api-version=${version}`);
      expect(res.status, version).toBe(400);
      expect(JSON.parse(res.text).message).toContain('use 2022-11-01 or 2023-07-01 or 2024-12-01');
    }
    for (const version of SIGNALR_GENERATE_TOKEN_API_VERSIONS) {
      expect(
        (await rest('POST', `/api/hubs/chat/:generateToken?api-version=${version}`)).status,
        version,
      ).toBe(200);
    }
  });
});
