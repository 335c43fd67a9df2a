import { once } from 'node:events';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { clientUrl, createClientToken, createRestToken } from '../../src/lib/signalr/tokens.js';
import type { RunningService } from '../../src/local/service/index.js';
import {
  http,
  PRIMARY_KEY,
  recordingLog,
  refusedHandshake,
  startUpstream,
  useServiceTest,
} from '../support/local-service.js';
import { SignalRRawClient } from '../support/signalr-raw-client.js';

const { upstream, service, defer } = useServiceTest();

async function open(svc: RunningService, userId: string, claims?: Record<string, string>) {
  const client = await SignalRRawClient.open(svc.url, 'chat', userId, claims ? { claims } : {});
  defer(() => client.close());
  return client;
}

/** A raw WebSocket with a valid token and a fresh negotiation, before any handshake. */
async function rawSocket(
  svc: RunningService,
): Promise<{ ws: WebSocket; frames: string[]; closed: Promise<[number, Buffer]> }> {
  const token = await createClientToken(PRIMARY_KEY, clientUrl(svc.url, 'chat'), {
    userId: 'ann',
  });
  const negotiated = await http('POST', `${svc.url}/client/negotiate?hub=chat&negotiateVersion=1`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  const { connectionToken } = JSON.parse(negotiated.text) as { connectionToken: string };
  const ws = new WebSocket(
    `${svc.url.replace('http', 'ws')}/client/?hub=chat&id=${connectionToken}&access_token=${token}`,
  );
  const frames: string[] = [];
  ws.on('message', (data: Buffer) => frames.push(data.toString('utf8')));
  const closed = once(ws, 'close') as Promise<[number, Buffer]>;
  defer(async () => {
    ws.terminate();
  });
  await once(ws, 'open');
  return { ws, frames, closed };
}

describe('signalr dialect of the local service', () => {
  it('negotiates, answers the handshake with exactly {}\\x1e and sends connected upstream', async () => {
    const up = await upstream();
    const svc = await service({ upstream: `${up.url}/api/messages?event={event}` });
    const token = await createClientToken(PRIMARY_KEY, `${svc.url}/client/?hub=chat`, {
      userId: 'ann',
      claims: { team: 'blue' },
    });
    const negotiated = await http('POST', `${svc.url}/client/negotiate?hub=chat&negotiateVersion=1`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(negotiated.status).toBe(200);
    const body = JSON.parse(negotiated.text);
    expect(body).toEqual({
      negotiateVersion: 1,
      connectionId: expect.any(String),
      connectionToken: expect.any(String),
      // The list Azure's "Client negotiation" document shows, and ASP.NET Core's HttpConnectionDispatcher writes.
      availableTransports: [
        { transport: 'WebSockets', transferFormats: ['Text', 'Binary'] },
        { transport: 'ServerSentEvents', transferFormats: ['Text'] },
        { transport: 'LongPolling', transferFormats: ['Text', 'Binary'] },
      ],
    });
    expect(body.connectionToken).not.toBe(body.connectionId);
    const ws = new WebSocket(
      `${svc.url.replace('http', 'ws')}/client/?hub=chat&id=${body.connectionToken}&access_token=${token}`,
    );
    defer(async () => ws.terminate());
    await once(ws, 'open');
    ws.send('{"protocol":"json","version":1}\x1e');
    const [response] = (await once(ws, 'message')) as [Buffer];
    expect(response.toString('utf8')).toBe('{}\x1e');
    const [connected] = await up.waitFor((c) => c.event === 'connected');
    expect(connected?.path).toBe('/api/messages?event=connected');
    expect(connected?.text).toBe('{"type":10}');
    expect(connected?.headers).toMatchObject({
      'content-type': 'application/json',
      'x-asrs-hub': 'chat',
      'x-asrs-category': 'connections',
      'x-asrs-connection-id': body.connectionId,
      'x-asrs-user-id': 'ann',
      'x-asrs-client-query': '?hub=chat',
    });
    expect(String(connected?.headers['x-asrs-user-claims'])).toContain('team: blue');
  });

  it('sends each invocation upstream as the client wrote it and answers those with an invocationId as Azure does', async () => {
    const up = await upstream((call) => {
      // A framed Completion, as the Functions SignalR extension answers: written to the client as it is.
      if (call.event === 'ask') return { body: '{"type":3,"invocationId":"1","result":{"answer":42}}\x1e' };
      if (call.event === 'fail') return { status: 403, body: 'not allowed' };
      if (call.event === 'void') return { status: 204 };
      if (call.event === 'empty') return { status: 200 };
      if (call.event === 'accepted') return { status: 202, body: 'queued' };
      // A send's answer is ignored, whatever it is.
      if (call.event === 'send') return { status: 500, body: '{"type":3,"invocationId":"x","result":1}\x1e' };
      return undefined;
    });
    const svc = await service({
      upstream: [
        {
          eventPattern: 'ask,fail,void,empty,accepted,send,connected,disconnected',
          urlTemplate: `${up.url}/{category}/{event}`,
        },
      ],
    });
    const client = await open(svc, 'ann');
    client.ws.send('{"type":1,"target":"send","arguments":[{"text":"hi"}]}\x1e');
    client.send({ type: 1, invocationId: '1', target: 'ask', arguments: [] });
    client.send({ type: 1, invocationId: '2', target: 'fail', arguments: [] });
    client.send({ type: 1, invocationId: '3', target: 'void', arguments: [] });
    client.send({ type: 1, invocationId: '4', target: 'empty', arguments: [] });
    client.send({ type: 1, invocationId: '5', target: 'accepted', arguments: [] });
    client.send({ type: 1, invocationId: '6', target: 'unrouted', arguments: [] });
    const completions = [];
    for (let i = 0; i < 6; i++) completions.push(await client.next((m) => m.type === 3));
    expect(completions).toEqual([
      { type: 3, invocationId: '1', result: { answer: 42 } },
      { type: 3, invocationId: '2', error: 'Invocation failed, status code 403' },
      { type: 3, invocationId: '3' },
      { type: 3, invocationId: '4' },
      { type: 3, invocationId: '5', error: 'Invocation failed, status code 202' },
      {
        type: 3,
        invocationId: '6',
        error: "Invocation failed, no upstream template matches the invocation 'unrouted'",
      },
    ]);
    const [send] = up.calls.filter((c) => c.event === 'send');
    expect(send?.path).toBe('/messages/send');
    expect(send?.text).toBe('{"type":1,"target":"send","arguments":[{"text":"hi"}]}');
    expect(send?.headers['content-type']).toBe('application/json');
    expect(up.calls.find((c) => c.event === 'ask')?.text).toBe(
      '{"type":1,"invocationId":"1","target":"ask","arguments":[]}',
    );
    // Nothing came of the send: calls run in order per connection, so its answer would have come first.
    expect(client.messages.filter((m) => m.type === 3)).toHaveLength(6);
  });

  it("answers a handshake for another protocol with ASP.NET Core's error, then closes normally with a reason that names the supported ones", async () => {
    const up = await upstream();
    const svc = await service({ upstream: `${up.url}/u` });
    const { ws, frames, closed } = await rawSocket(svc);
    ws.send('{"protocol":"xml","version":1}\x1e');
    const [code, reason] = await closed;
    // HubConnectionContext.HandshakeAsync's words; HubConnectionHandler then ends the connection (1000).
    expect(frames).toEqual([`{"error":"The protocol 'xml' is not supported."}\x1e`]);
    expect(code).toBe(1000);
    expect(reason.toString()).toContain('"json" and "messagepack"');
    await svc.close();
    // The connection never completed its handshake, so the upstream never heard of it.
    expect(up.calls).toEqual([]);
  });

  it('closes with a Close message carrying the reason on a malformed record, and reports it in disconnected', async () => {
    const up = await upstream();
    const svc = await service({ upstream: `${up.url}/u` });
    const client = await open(svc, 'ann');
    client.ws.send('{"type":1,"target":"send"}\x1e');
    expect((await client.closed).code).toBe(1002);
    expect(client.messages.at(-1)).toEqual({
      type: 7,
      error: 'An Invocation message must carry an "arguments" array',
    });
    const [disconnected] = await up.waitFor((c) => c.event === 'disconnected');
    expect(JSON.parse(disconnected?.text ?? '')).toEqual({
      type: 11,
      error: 'An Invocation message must carry an "arguments" array',
    });
  });

  it('closes an oversized frame with 1009 after a Close message that names the limit', async () => {
    const up = await upstream();
    const svc = await service({ upstream: `${up.url}/u`, maxMessageBytes: 512 });
    const client = await open(svc, 'ann');
    client.send({ type: 1, target: 'send', arguments: ['x'.repeat(600)] });
    expect(await client.closed).toEqual({
      code: 1009,
      reason: 'A message is larger than 512 bytes (maxMessageBytes)',
    });
    expect(client.messages.at(-1)).toEqual({
      type: 7,
      error: 'A message is larger than 512 bytes (maxMessageBytes)',
    });
    const [disconnected] = await up.waitFor((c) => c.event === 'disconnected');
    expect(JSON.parse(disconnected?.text ?? '')).toEqual({
      type: 11,
      error: 'A message is larger than 512 bytes (maxMessageBytes)',
    });
    expect(up.calls.some((c) => c.event === 'send')).toBe(false);
  });

  it('answers invocations with an error Completion while the upstream is down or too slow, and logs each failure', async () => {
    const dead = await startUpstream();
    const deadUrl = dead.url;
    await dead.close();
    let release: () => void = () => {};
    const hanging = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow = await upstream(async (call) => {
      if (call.event === 'slow') await hanging;
      return undefined;
    });
    defer(async () => release());
    const logs = recordingLog();
    const svc = await service({
      upstream: [
        { eventPattern: 'slow', urlTemplate: `${slow.url}/slow` },
        { urlTemplate: `${deadUrl}/down` },
      ],
      upstreamTimeoutMs: 200,
      notificationAttempts: 2,
      retryBaseDelayMs: 1,
      log: logs.log,
    });
    const client = await open(svc, 'ann');
    client.send({ type: 1, invocationId: 'a', target: 'ask', arguments: [] });
    client.send({ type: 1, invocationId: 'b', target: 'slow', arguments: [] });
    expect(await client.next((m) => m.type === 3)).toEqual({
      type: 3,
      invocationId: 'a',
      error: 'Invocation failed, status code 500',
    });
    expect(await client.next((m) => m.type === 3)).toEqual({
      type: 3,
      invocationId: 'b',
      error: 'Invocation failed, status code 500',
    });
    const failures = logs.entries.filter((e) => e.level !== 'info').map((e) => e.fields);
    expect(failures).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ event: 'connected', attempt: 1, retrying: true, hub: 'chat' }),
        expect.objectContaining({ event: 'connected', attempt: 2, connectionId: client.connectionId }),
        expect.objectContaining({ event: 'ask', connectionId: client.connectionId }),
        expect.objectContaining({ event: 'slow', error: expect.stringContaining('upstreamTimeoutMs') }),
      ]),
    );
  });

  it('answers a handshake that does not come in time as ASP.NET Core does, then closes with 1000 and a reason', async () => {
    const svc = await service({ handshakeTimeoutMs: 50 });
    const { frames, closed } = await rawSocket(svc);
    const [code, reason] = await closed;
    expect(code).toBe(1000);
    expect(reason.toString()).toBe('No handshake received within 50 ms (handshakeTimeoutMs)');
    expect(frames).toEqual(['{"error":"Handshake was canceled."}\x1e']);
  });

  it("answers an unsupported version and a malformed handshake in ASP.NET Core's words", async () => {
    const svc = await service();
    for (const [request, answer, hint] of [
      [
        '{"protocol":"json","version":9}',
        "The server does not support version 9 of the 'json' protocol.",
        'use version 1',
      ],
      [
        '{"protocol":',
        'An unexpected error occurred during connection handshake.',
        '{"protocol":"json","version":1}',
      ],
      ['[1]', 'An unexpected error occurred during connection handshake.', '{"protocol":"json","version":1}'],
    ] as const) {
      const { ws, frames, closed } = await rawSocket(svc);
      ws.send(`${request}\x1e`);
      const [code, reason] = await closed;
      expect(frames, request).toEqual([`${JSON.stringify({ error: answer })}\x1e`]);
      expect(code).toBe(1000);
      expect(reason.toString()).toContain(hint);
    }
  });

  it('closes with the REST reason in a Close message and sends disconnected with that error', async () => {
    const up = await upstream();
    const svc = await service({ upstream: `${up.url}/u` });
    const client = await open(svc, 'ann');
    await up.waitFor((c) => c.event === 'connected');
    const url = `${svc.url}/api/v1/hubs/chat/connections/${client.connectionId}`;
    const res = await http('DELETE', `${url}?reason=kicked`, {
      headers: { Authorization: `Bearer ${await createRestToken(PRIMARY_KEY, url)}` },
    });
    expect(res.status).toBe(202);
    expect(await client.closed).toEqual({ code: 1000, reason: 'kicked' });
    // As the emulator's SendCloseAsync: the REST API's closes allow the client to reconnect.
    expect(client.frames.at(-1)).toBe('{"type":7,"error":"kicked","allowReconnect":true}\x1e');
    const [disconnected] = await up.waitFor((c) => c.event === 'disconnected');
    expect(disconnected?.text).toBe('{"type":11,"error":"kicked"}');
  });

  it('sends {"type":11} when the client leaves normally', async () => {
    const up = await upstream();
    const svc = await service({ upstream: `${up.url}/u` });
    const client = await open(svc, 'ann');
    client.send({ type: 7 });
    expect((await client.closed).code).toBe(1000);
    const [disconnected] = await up.waitFor((c) => c.event === 'disconnected');
    expect(disconnected?.text).toBe('{"type":11}');
    expect(disconnected?.headers['x-asrs-category']).toBe('connections');
  });

  it('sends a Ping record on every keep-alive interval', async () => {
    const svc = await service({ keepAliveIntervalMs: 20 });
    const client = await open(svc, 'ann');
    await new Promise<void>((resolve) => {
      const check = (data: Buffer) => {
        if (data.toString('utf8') === '{"type":6}\x1e') {
          client.ws.off('message', check);
          resolve();
        }
      };
      client.ws.on('message', check);
    });
  });

  it('refuses every bad token at negotiate with 401 and a JSON reason', async () => {
    const svc = await service();
    const aud = `${svc.url}/client/?hub=chat`;
    const noExp = await new SignJWT({ aud, nameid: 'ann' })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(PRIMARY_KEY));
    const cases: Array<[string, string | undefined, string]> = [
      ['wrong key', await createClientToken('another-key', aud, { userId: 'ann' }), 'not signed with a key'],
      [
        'wrong aud',
        await createClientToken(PRIMARY_KEY, `${svc.url}/client/?hub=other`),
        `audience must be ${svc.endpoint}/client/?hub=chat`,
      ],
      ['expired', await createClientToken(PRIMARY_KEY, aud, { now: () => Date.now() - 7200_000 }), 'expired'],
      ['missing exp', noExp, 'no exp claim'],
      ['missing', undefined, 'No access token'],
    ];
    for (const [name, token, reason] of cases) {
      const res = await http('POST', `${svc.url}/client/negotiate?hub=chat&negotiateVersion=1`, {
        headers: token ? { Authorization: `Bearer ${token}` } : {},
      });
      expect(res.status, name).toBe(401);
      expect(JSON.parse(res.text), name).toEqual({
        code: 'invalid-token',
        message: expect.stringContaining(reason),
      });
    }
    // Within the 5 minutes of clock skew a just-expired token still works.
    const skewed = await createClientToken(PRIMARY_KEY, aud, {
      ttlSeconds: 60,
      now: () => Date.now() - 120_000,
    });
    const ok = await http(
      'POST',
      `${svc.url}/client/negotiate?hub=chat&negotiateVersion=1&access_token=${skewed}`,
    );
    expect(ok.status).toBe(200);
    // Other loopback names and the port-less form of the endpoint are the same audience.
    const alias = await createClientToken(PRIMARY_KEY, `http://localhost/client/?hub=chat`);
    const viaAlias = await http('POST', `${svc.url}/client/negotiate?hub=chat`, {
      headers: { Authorization: `Bearer ${alias}` },
    });
    expect(viaAlias.status).toBe(200);
    expect(JSON.parse(viaAlias.text).negotiateVersion).toBe(0);
  });

  it('refuses a WebSocket without a token, with an unknown id, or with another hub', async () => {
    const svc = await service();
    const ws = svc.url.replace('http', 'ws');
    const token = await createClientToken(PRIMARY_KEY, `${svc.url}/client/?hub=chat`, { userId: 'ann' });
    expect((await refusedHandshake(`${ws}/client/?hub=chat&id=x`)).status).toBe(401);
    const unknown = await refusedHandshake(`${ws}/client/?hub=chat&id=nope&access_token=${token}`);
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body).message).toContain('negotiate');
    expect((await refusedHandshake(`${ws}/client/?hub=bad-name&access_token=${token}`)).status).toBe(400);
  });

  it('forgets the oldest negotiation beyond maxPendingNegotiations, and any past negotiateTtlMs', async () => {
    const negotiateAll = async (svc: RunningService, count: number) => {
      const token = await createClientToken(PRIMARY_KEY, clientUrl(svc.url, 'chat'), {
        userId: 'ann',
      });
      const ids: string[] = [];
      for (let i = 0; i < count; i++) {
        const res = await http('POST', `${svc.url}/client/negotiate?hub=chat&negotiateVersion=1`, {
          headers: { Authorization: `Bearer ${token}` },
        });
        ids.push((JSON.parse(res.text) as { connectionToken: string }).connectionToken);
      }
      const socketUrl = (id: string) =>
        `${svc.url.replace('http', 'ws')}/client/?hub=chat&id=${id}&access_token=${token}`;
      return { ids, socketUrl };
    };
    const capped = await service({ maxPendingNegotiations: 2 });
    const { ids, socketUrl } = await negotiateAll(capped, 3);
    expect((await refusedHandshake(socketUrl(ids[0] ?? ''))).status).toBe(404);
    for (const id of ids.slice(1)) {
      const ws = new WebSocket(socketUrl(id));
      defer(async () => ws.terminate());
      await once(ws, 'open');
    }
    // The negotiation lives 1 ms; the WebSocket comes 10 ms later (a precondition, not a timed assertion).
    const shortLived = await service({ negotiateTtlMs: 1 });
    const late = await negotiateAll(shortLived, 1);
    await new Promise((resolve) => setTimeout(resolve, 10));
    const refused = await refusedHandshake(late.socketUrl(late.ids[0] ?? ''));
    expect(refused.status).toBe(404);
    expect(JSON.parse(refused.body).message).toContain('negotiate');
  });

  it('answers the CORS preflight of a browser negotiate from another origin', async () => {
    const svc = await service();
    const res = await http('OPTIONS', `${svc.url}/client/negotiate?hub=chat&negotiateVersion=1`, {
      headers: {
        Origin: 'http://localhost:7071',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization, x-signalr-user-agent',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('http://localhost:7071');
    expect(res.headers['access-control-allow-credentials']).toBe('true');
    expect(res.headers['access-control-allow-headers']).toContain('x-signalr-user-agent');
  });
});
