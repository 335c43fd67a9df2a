import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { clientUrl, createClientToken, createRestToken } from '../../src/lib/signalr/tokens.js';
import type { RunningService } from '../../src/local/service/index.js';
import {
  http,
  PRIMARY_KEY,
  recordingLog,
  refusedHandshake,
  TestClient,
  useServiceTest,
} from '../support/local-service.js';

const { upstream, service, client, defer } = useServiceTest();

async function clientUrlFor(svc: RunningService, userId: string, path = '/ws/client/hubs/chat') {
  const token = await createClientToken(PRIMARY_KEY, clientUrl(svc.url, 'chat', 'websocket'), { userId });
  return `${svc.url.replace('http', 'ws')}${path}${path.includes('?') ? '&' : '?'}access_token=${token}`;
}

async function rest(
  svc: RunningService,
  method: string,
  path: string,
  body?: string,
  contentType = 'text/plain',
) {
  const url = `${svc.url}${path}`;
  return http(method, url, {
    headers: {
      Authorization: `Bearer ${await createRestToken(PRIMARY_KEY, url)}`,
      'Content-Type': contentType,
    },
    ...(body !== undefined ? { body } : {}),
  });
}

describe('websocket dialect of the local service', () => {
  it('lets the connect upstream choose one of the offered subprotocols and set the user id', async () => {
    const up = await upstream((call) =>
      call.event === 'connect'
        ? { headers: { 'Sec-WebSocket-Protocol': 'json.v2', 'X-ASRS-User-Id': 'from-upstream' } }
        : undefined,
    );
    const svc = await service({ upstream: `${up.url}/u` });
    // No token at all: the upstream alone decides who the user is.
    const c = await client(`${svc.url.replace('http', 'ws')}/ws/client/hubs/chat`, ['json.v1', 'json.v2']);
    expect(c.ws.protocol).toBe('json.v2');
    c.ws.send('hi');
    const [message] = await up.waitFor((call) => call.event === 'message');
    expect(message?.headers['x-asrs-user-id']).toBe('from-upstream');
  });

  it('fails a connect whose upstream picks a subprotocol the client did not offer', async () => {
    const up = await upstream((call) =>
      call.event === 'connect' ? { headers: { 'Sec-WebSocket-Protocol': 'evil' } } : undefined,
    );
    const svc = await service({ upstream: `${up.url}/u` });
    const refused = await refusedHandshake(await clientUrlFor(svc, 'ann'), ['json.v1']);
    expect(refused.status).toBe(502);
    expect(JSON.parse(refused.body).message).toBe(
      "The upstream chose the subprotocol 'evil', which the client did not offer (offered: json.v1)",
    );
  });

  it("returns the upstream's status, content type and body when it rejects the connect", async () => {
    const up = await upstream((call) =>
      call.event === 'connect'
        ? { status: 403, headers: { 'Content-Type': 'application/json' }, body: '{"reason":"banned"}' }
        : undefined,
    );
    const svc = await service({ upstream: `${up.url}/u` });
    const refused = await refusedHandshake(await clientUrlFor(svc, 'ann'));
    expect(refused.status).toBe(403);
    expect(refused.headers['content-type']).toBe('application/json');
    expect(refused.body).toBe('{"reason":"banned"}');
    // A refused connect was never accepted, so it gets no disconnect.
    await svc.close();
    expect(up.calls.map((call) => call.event)).toEqual(['connect']);
  });

  it('refuses a connect without any user id with 401 and says how to provide one', async () => {
    const up = await upstream();
    const svc = await service({ upstream: `${up.url}/u` });
    const refused = await refusedHandshake(`${svc.url.replace('http', 'ws')}/ws/client/hubs/chat`);
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body).message).toContain('X-ASRS-User-Id');
    // An Authorization header that is not a bearer token is refused, never taken for "no token".
    const callsBefore = up.calls.length;
    const basic = await refusedHandshake(`${svc.url.replace('http', 'ws')}/ws/client/hubs/chat`, undefined, {
      Authorization: 'Basic YW5uOnB3',
    });
    expect(basic.status).toBe(401);
    expect(JSON.parse(basic.body).message).toContain('Bearer <JWT>');
    expect(up.calls).toHaveLength(callsBefore);
  });

  it('refuses a client token with a wrong key, another audience or past its exp with 401, before any upstream call', async () => {
    const up = await upstream();
    const svc = await service({ upstream: `${up.url}/u` });
    const ws = `${svc.url.replace('http', 'ws')}/ws/client/hubs/chat`;
    const aud = clientUrl(svc.url, 'chat', 'websocket');
    const cases: Array<[string, string, string]> = [
      ['wrong key', await createClientToken('another-key', aud, { userId: 'ann' }), 'not signed with a key'],
      [
        'signalr audience',
        await createClientToken(PRIMARY_KEY, clientUrl(svc.url, 'chat', 'signalr'), { userId: 'ann' }),
        `audience must be ${clientUrl(svc.endpoint, 'chat', 'websocket')}`,
      ],
      [
        'expired',
        await createClientToken(PRIMARY_KEY, aud, { userId: 'ann', now: () => Date.now() - 7200_000 }),
        'expired',
      ],
    ];
    for (const [name, token, reason] of cases) {
      const refused = await refusedHandshake(`${ws}?access_token=${token}`);
      expect(refused.status, name).toBe(401);
      expect(JSON.parse(refused.body).message, name).toContain(reason);
    }
    expect(up.calls).toEqual([]);
  });

  it('delivers the connect response body as the first frame, text or binary', async () => {
    const up = await upstream((call) => {
      if (call.event !== 'connect') return undefined;
      return call.headers['x-asrs-user-id'] === 'bin'
        ? { headers: { 'Content-Type': 'application/octet-stream' }, body: Buffer.from([1, 2, 3]) }
        : { headers: { 'Content-Type': 'application/json' }, body: '{"type":"welcome"}' };
    });
    const svc = await service({ upstream: `${up.url}/u` });
    const text = await client(await clientUrlFor(svc, 'ann'));
    expect(await text.next()).toMatchObject({ isBinary: false, text: '{"type":"welcome"}' });
    const binary = await client(await clientUrlFor(svc, 'bin'));
    const frame = await binary.next();
    expect(frame.isBinary).toBe(true);
    expect([...frame.data]).toEqual([1, 2, 3]);
  });

  it('sends one message upstream per frame with its content type and returns the response to the sender', async () => {
    const up = await upstream((call) => {
      if (call.event !== 'message') return undefined;
      return call.headers['content-type'] === 'application/octet-stream'
        ? { headers: { 'Content-Type': 'application/octet-stream' }, body: Buffer.from([9, ...call.body]) }
        : { headers: { 'Content-Type': 'text/plain' }, body: `echo:${call.text}` };
    });
    const svc = await service({ upstream: `${up.url}/u?e={event}` });
    const c = await client(await clientUrlFor(svc, 'ann'));
    c.ws.send('héllo');
    expect(await c.next()).toMatchObject({ isBinary: false, text: 'echo:héllo' });
    c.ws.send(Buffer.from([7, 8]));
    const reply = await c.next();
    expect(reply.isBinary).toBe(true);
    expect([...reply.data]).toEqual([9, 7, 8]);
    const messages = up.calls.filter((call) => call.event === 'message');
    expect(messages.map((m) => [m.path, m.headers['x-asrs-category'], m.headers['content-type']])).toEqual([
      ['/u?e=message', 'messages', 'text/plain'],
      ['/u?e=message', 'messages', 'application/octet-stream'],
    ]);
    expect(messages[0]?.text).toBe('héllo');
  });

  it('sends a message fragmented over several frames upstream once, when it is complete', async () => {
    const up = await upstream();
    const svc = await service({ upstream: `${up.url}/u` });
    const c = await client(await clientUrlFor(svc, 'ann'));
    c.ws.send('hel', { fin: false });
    c.ws.send('lo', { fin: true });
    c.ws.send('next');
    const messages = await up.waitFor((call) => call.event === 'message', 2);
    expect(messages.map((m) => m.text)).toEqual(['hello', 'next']);
  });

  it('closes the connection with 1011 and a reason when a message upstream fails', async () => {
    const up = await upstream((call) => (call.event === 'message' ? { status: 500 } : undefined));
    const svc = await service({ upstream: `${up.url}/u` });
    const c = await client(await clientUrlFor(svc, 'ann'));
    c.ws.send('boom');
    expect(await c.closed).toEqual({
      code: 1011,
      reason: 'The message upstream failed: the upstream answered 500',
    });
    await up.waitFor((call) => call.event === 'disconnect');
  });

  it('closes with 1011 when a message upstream answers more than maxMessageBytes, without reading it all', async () => {
    // The connect is accepted; each message is answered with a chunked body that never ends, so only a reader
    // that stops counting at the limit can answer before vitest's timeout (the upstream timeout is 20 s).
    const endless = createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      if (req.headers['x-asrs-event'] !== 'message') {
        res.end();
        return;
      }
      const write = () => {
        if (!res.destroyed) res.write('x'.repeat(512), () => setImmediate(write));
      };
      write();
    });
    endless.listen(0, '127.0.0.1');
    await once(endless, 'listening');
    defer(() => {
      endless.closeAllConnections();
      return new Promise((resolve) => endless.close(resolve));
    });
    const svc = await service({
      upstream: `http://127.0.0.1:${(endless.address() as AddressInfo).port}/u`,
      maxMessageBytes: 1024,
    });
    const c = await client(await clientUrlFor(svc, 'ann'));
    c.ws.send('hi');
    expect(await c.closed).toEqual({
      code: 1011,
      reason:
        'The message upstream failed: the upstream response is larger than 1024 bytes (maxMessageBytes)',
    });
  });

  it('serves /ws/client?hub= and the formats/binary path, whose messages arrive as binary frames', async () => {
    const svc = await service();
    const byQuery = await client(await clientUrlFor(svc, 'ann', '/ws/client?hub=chat'));
    const binary = await client(await clientUrlFor(svc, 'bo', '/ws/client/hubs/chat/formats/binary'));
    const text = await client(await clientUrlFor(svc, 'cy', '/ws/client/hubs/chat?format=text'));
    expect((await rest(svc, 'POST', '/ws/api/v1/hubs/chat', 'hello all')).status).toBe(202);
    expect(await byQuery.next()).toMatchObject({ isBinary: false, text: 'hello all' });
    expect(await binary.next()).toMatchObject({ isBinary: true, text: 'hello all' });
    expect(await text.next()).toMatchObject({ isBinary: false, text: 'hello all' });
    const bytes = await rest(svc, 'POST', '/ws/api/v1/hubs/chat', 'raw', 'application/octet-stream');
    expect(bytes.status).toBe(202);
    expect(await byQuery.next()).toMatchObject({ isBinary: true, text: 'raw' });
    expect(await text.next()).toMatchObject({ isBinary: false, text: 'raw' });
  });

  it('refuses invalid hub names and unknown formats with 400', async () => {
    const svc = await service();
    const ws = svc.url.replace('http', 'ws');
    const badHub = await refusedHandshake(`${ws}/ws/client/hubs/no-dashes`);
    expect(badHub.status).toBe(400);
    expect(JSON.parse(badHub.body).message).toContain('Invalid hub name');
    expect((await refusedHandshake(`${ws}/ws/client/hubs/chat/formats/xml`)).status).toBe(400);
    expect((await refusedHandshake(`${ws}/ws/nowhere`)).status).toBe(404);
  });

  it('closes a connection that sends a frame over maxMessageBytes with 1009, and still sends its disconnect', async () => {
    const up = await upstream();
    const svc = await service({ upstream: `${up.url}/u`, maxMessageBytes: 1024 });
    const c = await client(await clientUrlFor(svc, 'ann'));
    c.ws.send('x'.repeat(1025));
    expect(await c.closed).toEqual({
      code: 1009,
      reason: 'A message is larger than 1024 bytes (maxMessageBytes)',
    });
    await up.waitFor((call) => call.event === 'disconnect');
    expect(up.calls.some((call) => call.event === 'message')).toBe(false);
  });

  it('closes a slow consumer with 1008 and a reason instead of buffering without bound', async () => {
    const logs = recordingLog();
    const svc = await service({ maxOutboundMessages: 8, maxOutboundBytes: 512 * 1024, log: logs.log });
    const c = await client(await clientUrlFor(svc, 'ann'));
    const connect = await rest(svc, 'GET', '/ws/api/v1/hubs/chat/users/ann');
    expect(connect.status).toBe(200);
    c.ws.pause(); // the client stops reading; the kernel buffers fill, then the service's queue
    const chunk = 'x'.repeat(256 * 1024);
    let sends = 0;
    // Each round either grows the backlog or finds the connection gone; 400 rounds = 100 MiB, far past any buffer.
    while (sends < 400 && (await rest(svc, 'GET', '/ws/api/v1/hubs/chat/users/ann')).status === 200) {
      expect((await rest(svc, 'POST', '/ws/api/v1/hubs/chat/users/ann', chunk)).status).toBe(202);
      sends++;
    }
    expect((await rest(svc, 'GET', '/ws/api/v1/hubs/chat/users/ann')).status).toBe(404);
    c.ws.resume();
    const closed = await c.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toContain('Slow consumer');
    expect(logs.entries.some((e) => e.message === 'Closing a slow consumer')).toBe(true);
  });

  it('finds a peer that stops answering pings and closes it', async () => {
    const up = await upstream();
    const svc = await service({ upstream: `${up.url}/u`, keepAliveIntervalMs: 20 });
    const c = new TestClient(await clientUrlFor(svc, 'ann'), undefined, undefined, { autoPong: false });
    defer(() => c.close());
    await c.opened;
    expect((await c.closed).code).toBe(1006);
    const [disconnect] = await up.waitFor((call) => call.event === 'disconnect');
    expect(disconnect?.headers['x-asrs-user-id']).toBe('ann');
  });
});
