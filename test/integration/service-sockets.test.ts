/**
 * One address must not hold every socket of the local service: unfinished requests time out, and the open
 * connections of one address and of all are capped, while an honest client from another address still
 * negotiates and connects. The attacks come from 127.0.0.2..4, the honest client from 127.0.0.1. Every
 * assertion waits for states (sockets closed, clients connected), never for a time.
 */
import { once } from 'node:events';
import { type IncomingMessage, request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientUrl, createClientToken } from '../../src/lib/signalr/tokens.js';
import type { RunningService } from '../../src/local/service/index.js';
import {
  type HttpResult,
  http,
  PRIMARY_KEY,
  recordingLog,
  useServiceTest,
} from '../support/local-service.js';
import { SignalRRawClient } from '../support/signalr-raw-client.js';
import { SlowSockets } from '../support/slow-sockets.js';

const { service, defer } = useServiceTest();

function attack(svc: RunningService, count: number, localAddress: string, dripMs?: number): SlowSockets {
  const sockets = SlowSockets.open(svc.port, count, {
    localAddress,
    ...(dripMs === undefined ? {} : { dripMs }),
  });
  defer(() => sockets.destroy());
  return sockets;
}

async function honestClient(svc: RunningService, user: string): Promise<SignalRRawClient> {
  const client = await SignalRRawClient.open(svc.url, 'chat', user);
  defer(() => client.close());
  return client;
}

describe('sockets of the local service under a slowloris attack', () => {
  it('closes the connections of one address past maxSocketsPerAddress at once, logs that once, and still lets an honest client in', async () => {
    const log = recordingLog();
    // Long timeouts: here only the cap may cut the attack.
    const svc = await service({
      maxSocketsPerAddress: 10,
      headersTimeoutMs: 60_000,
      requestTimeoutMs: 60_000,
      log: log.log,
    });
    const attacker = attack(svc, 40, '127.0.0.2', 20);
    await attacker.until((a) => a.closed === 30 && a.open === 10);

    const honest = await honestClient(svc, 'ann');
    expect(honest.connectionId).toMatch(/\S/);
    // The attack still holds its ten sockets: the honest client got in beside it, not after it.
    expect(attacker.open).toBe(10);

    const refusals = log.entries.filter((e) => e.fields?.limit === 'maxSocketsPerAddress');
    expect(refusals).toEqual([
      {
        level: 'warn',
        message: expect.stringContaining('(maxSocketsPerAddress)'),
        fields: { address: '127.0.0.2', limit: 'maxSocketsPerAddress', max: 10, refused: 1 },
      },
    ]);
  });

  it('closes connections that drip headers past headersTimeoutMs, or send nothing', async () => {
    const svc = await service({ headersTimeoutMs: 200, requestTimeoutMs: 400 });
    const dripping = attack(svc, 20, '127.0.0.2', 20);
    const silent = SlowSockets.open(svc.port, 5, { localAddress: '127.0.0.3', head: '' });
    defer(() => silent.destroy());

    await dripping.until((a) => a.closed === 20);
    await silent.until((a) => a.closed === 5);
    // Node answers 408 before it closes one, but a client still writing may be reset before it reads that.
    for (const text of dripping.received) expect(['', 'HTTP/1.1 408']).toContain(text.slice(0, 12));
    // A connection that never sent a byte is closed without an answer.
    expect(silent.received).toEqual(['', '', '', '', '']);
    expect((await honestClient(svc, 'ann')).connectionId).toMatch(/\S/);
  });

  it('closes a connection whose request body is still arriving at requestTimeoutMs', async () => {
    const svc = await service({ headersTimeoutMs: 200, requestTimeoutMs: 400 });
    const head =
      'POST /client/negotiate?hub=chat&negotiateVersion=1 HTTP/1.1\r\nHost: localhost\r\n' +
      'Content-Type: text/plain\r\nContent-Length: 100000\r\n\r\n';
    const dripping = SlowSockets.open(svc.port, 5, { localAddress: '127.0.0.2', head, dripMs: 20 });
    defer(() => dripping.destroy());

    // Answered before its body was read (401: no token), each request still holds its connection until it ends.
    await dripping.until((a) => a.closed === 5);
    for (const text of dripping.received) expect(['', 'HTTP/1.1 401']).toContain(text.slice(0, 12));
  });

  it('closes connections past maxSockets from every address, and lets clients in again once they leave', async () => {
    const log = recordingLog();
    const svc = await service({
      maxSocketsPerAddress: 4,
      maxSockets: 10,
      headersTimeoutMs: 60_000,
      requestTimeoutMs: 60_000,
      log: log.log,
    });
    const first = attack(svc, 4, '127.0.0.2');
    await first.until((a) => a.open === 4);
    const second = attack(svc, 4, '127.0.0.3');
    await second.until((a) => a.open === 4);
    // Two more fit in all; the other four are closed, though their address holds none yet.
    const third = attack(svc, 6, '127.0.0.4');
    await third.until((a) => a.open === 2 && a.closed === 4);
    expect(log.entries.filter((e) => e.fields?.limit === 'maxSockets')).toEqual([
      {
        level: 'warn',
        message: expect.stringContaining('(maxSockets)'),
        fields: { address: '127.0.0.4', limit: 'maxSockets', max: 10, refused: 1 },
      },
    ]);

    first.destroy();
    // The service hears of the four closes a moment later: until then a new connection may still be refused.
    let honest: SignalRRawClient | undefined;
    while (honest === undefined) honest = await honestClient(svc, 'ann').catch(() => undefined);
    expect(honest.connectionId).toMatch(/\S/);
  });
});

/** A Long Polling connection past its first poll and its handshake: what its POSTs need. */
async function longPolling(svc: RunningService, user: string) {
  const token = await createClientToken(PRIMARY_KEY, clientUrl(svc.url, 'chat'), { userId: user });
  const auth = { Authorization: `Bearer ${token}` };
  const negotiated = await http('POST', `${svc.url}/client/negotiate?hub=chat&negotiateVersion=1`, {
    headers: auth,
  });
  const { connectionToken } = JSON.parse(negotiated.text) as { connectionToken: string };
  const url = `${svc.url}/client/?hub=chat&id=${connectionToken}`;
  expect((await http('GET', url, { headers: auth })).status).toBe(200);
  expect((await post(url, auth, '{"protocol":"json","version":1}\x1e').finish()).status).toBe(200);
  return { url, auth };
}

/**
 * A POST on its own socket (from `localAddress`, default 127.0.0.1) whose body is sent up to `sent` bytes;
 * `finish` sends the rest and resolves with the answer (an answer that comes first resolves it too).
 */
function post(
  url: string,
  headers: Record<string, string>,
  body: string,
  options: { sent?: number; localAddress?: string } = {},
) {
  const bytes = Buffer.from(body, 'utf8');
  const req = request(url, {
    method: 'POST',
    agent: false,
    localAddress: options.localAddress ?? '127.0.0.1',
    headers: { ...headers, 'Content-Length': String(bytes.length) },
  });
  req.on('error', () => {});
  defer(() => req.destroy());
  const answer = (async (): Promise<HttpResult> => {
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    return {
      status: res.statusCode ?? 0,
      headers: res.headers,
      text: Buffer.concat(chunks).toString('utf8'),
    };
  })();
  req.write(bytes.subarray(0, options.sent ?? bytes.length));
  return {
    answer,
    finish(): Promise<HttpResult> {
      if (!req.writableEnded) req.end(bytes.subarray(options.sent ?? bytes.length));
      return answer;
    },
  };
}

const PING = '{"type":6}\x1e';
const invocation = (target: string) => `${JSON.stringify({ type: 1, target, arguments: [] })}\x1e`;

describe('sends on Server-Sent Events and Long Polling', () => {
  it('refuses a POST with 429 past maxConcurrentSendsPerAddress bodies in flight from its address, and takes one from another address', async () => {
    const svc = await service({ maxConcurrentSendsPerAddress: 2, shutdownGraceMs: 50 });
    const [x, y, z] = [
      await longPolling(svc, 'ann'),
      await longPolling(svc, 'bob'),
      await longPolling(svc, 'cy'),
    ];
    // Two bodies that never finish, each holding a slot while it is read.
    const held = [
      post(x.url, x.auth, invocation('x'), { sent: 5 }),
      post(y.url, y.auth, invocation('y'), { sent: 5 }),
    ];
    // Once both are being read, a third send from the same address is refused before its body is read.
    let refused: HttpResult | undefined;
    while (refused === undefined) {
      const answer = await post(z.url, z.auth, PING).finish();
      if (answer.status !== 200) refused = answer;
    }
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    expect(JSON.parse(refused.text)).toEqual({
      code: 'too-many-sends',
      message: expect.stringContaining('2 sends in flight (maxConcurrentSendsPerAddress)'),
    });
    // The same connection's send from another address is taken.
    expect((await post(z.url, z.auth, PING, { localAddress: '127.0.0.2' }).finish()).status).toBe(200);
    // Once the held bodies end, their address sends again.
    for (const send of held) expect((await send.finish()).status).toBe(200);
    expect((await post(z.url, z.auth, PING).finish()).status).toBe(200);
  });

  it('refuses a second POST of one connection with 409 while its first is in flight, from any address', async () => {
    const svc = await service({ maxConcurrentSendsPerAddress: 1, shutdownGraceMs: 50 });
    const x = await longPolling(svc, 'ann');
    const y = await longPolling(svc, 'bob');
    const first = post(x.url, x.auth, invocation('first'), { sent: 5 });
    // Once the first body is being read it holds the address's one slot: another connection's send is refused.
    while ((await post(y.url, y.auth, PING).finish()).status !== 429);
    for (const localAddress of ['127.0.0.1', '127.0.0.2']) {
      const second = await post(x.url, x.auth, PING, { localAddress }).finish();
      expect(second.status).toBe(409);
      expect(JSON.parse(second.text)).toEqual({
        code: 'send-in-progress',
        message: expect.stringContaining('already has a POST in flight'),
      });
    }
    expect((await first.finish()).status).toBe(200);
    expect((await post(x.url, x.auth, PING).finish()).status).toBe(200);
  });
});
