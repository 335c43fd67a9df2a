import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { verifySignature } from '../../src/lib/signalr/signature.js';
import { clientUrl, createClientToken, createRestToken } from '../../src/lib/signalr/tokens.js';
import { type RunningService, startService } from '../../src/local/service/index.js';
import {
  connect,
  http,
  PRIMARY_KEY,
  recordingLog,
  refusedHandshake,
  SECONDARY_KEY,
  useServiceTest,
} from '../support/local-service.js';
import { SignalRRawClient } from '../support/signalr-raw-client.js';

const { upstream, service, client, defer } = useServiceTest();

async function wsToken(svc: RunningService, userId: string, claims?: Record<string, string>) {
  return createClientToken(PRIMARY_KEY, clientUrl(svc.url, 'chat', 'websocket'), {
    userId,
    ...(claims ? { claims } : {}),
  });
}

function hmac(key: string, data: string): string {
  return createHmac('sha256', key).update(data).digest('hex');
}

describe('upstream calls of the local service', () => {
  it('sends every X-ASRS header of a connect, with the known-answer signature of both keys', async () => {
    const up = await upstream((call) =>
      call.event === 'connect' ? { headers: { 'Sec-WebSocket-Protocol': 'chat.v2' } } : undefined,
    );
    const ids = ['a1b2c3', 'conn-01HZX5'];
    const svc = await service({
      accessKeys: [PRIMARY_KEY, SECONDARY_KEY],
      upstream: `${up.url}/api/messages?event={event}`,
      generateConnectionId: () => ids.shift() ?? 'unexpected',
    });
    const token = await wsToken(svc, 'ann', { role: 'admin' });
    const ws = svc.url.replace('http', 'ws');
    const first = await client(`${ws}/ws/client/hubs/chat?room=lobby&access_token=${token}`, [
      'chat.v1',
      'chat.v2',
    ]);
    expect(first.ws.protocol).toBe('chat.v2');
    const [connectCall] = await up.waitFor((c) => c.event === 'connect');
    expect(connectCall?.path).toBe('/api/messages?event=connect');
    const h = connectCall?.headers ?? {};
    expect(h['x-asrs-hub']).toBe('chat');
    expect(h['x-asrs-category']).toBe('connections');
    expect(h['x-asrs-event']).toBe('connect');
    expect(h['x-asrs-connection-id']).toBe('a1b2c3');
    expect(h['x-asrs-user-id']).toBe('ann');
    expect(String(h['x-asrs-user-claims']).split(', ')).toEqual(
      expect.arrayContaining(['role: admin', 'nameid: ann']),
    );
    // The token never travels upstream; the rest of the query does.
    expect(h['x-asrs-client-query']).toBe('?room=lobby');
    expect(h['sec-websocket-protocol']).toBe('chat.v1, chat.v2');
    expect(h['x-asrs-signature']).toBe(
      'sha256=6cbae2c31f2e44f07a406ecefeb344276609293c3085a3cfc1eccafa331ae992,' +
        'sha256=9bda1d80ff0eb6e1d87e4845973a1bc07b31d7c84e7d12eb0d2c47eb08c6ccea',
    );
    expect(verifySignature(String(h['x-asrs-signature']), 'a1b2c3', [PRIMARY_KEY])).toBe(true);
    expect(verifySignature(String(h['x-asrs-signature']), 'a1b2c3', [SECONDARY_KEY])).toBe(true);
    expect(JSON.stringify(up.calls)).not.toContain(token);

    await client(`${ws}/ws/client/hubs/chat?access_token=${token}`, ['chat.v2']);
    const [, second] = await up.waitFor((c) => c.event === 'connect', 2);
    expect(second?.headers['x-asrs-signature']).toBe(
      'sha256=b57a6180ae9ef3efae224a60729ee6b00791f36f36997dd2ec42e93caa52b508,' +
        'sha256=545441a717929d634ee8bbf6768dbd0708f04176379b6c9007348a6c739b8948',
    );
  });

  it('signs random connection ids with one HMAC entry per configured key', async () => {
    const up = await upstream();
    const svc = await service({ accessKeys: [PRIMARY_KEY, SECONDARY_KEY], upstream: `${up.url}/u` });
    await client(
      `${svc.url.replace('http', 'ws')}/ws/client/hubs/chat?access_token=${await wsToken(svc, 'bo')}`,
    );
    const [call] = await up.waitFor((c) => c.event === 'connect');
    const id = call?.connectionId ?? '';
    expect(id).not.toBe('');
    const entries = String(call?.headers['x-asrs-signature']).split(',');
    expect(entries).toEqual([`sha256=${hmac(PRIMARY_KEY, id)}`, `sha256=${hmac(SECONDARY_KEY, id)}`]);
  });

  it('uses the first matching template, case-insensitively, and URL-encodes its parameters', async () => {
    const up = await upstream();
    const svc = await service({
      upstream: [
        { hubPattern: 'other', urlTemplate: `${up.url}/never` },
        { eventPattern: 'CONNECT, disconnect', urlTemplate: `${up.url}/lifecycle/{event}` },
        { hubPattern: 'CHAT', categoryPattern: '*', urlTemplate: `${up.url}/any/{hub}/{category}/{event}` },
      ],
    });
    const c = await client(
      `${svc.url.replace('http', 'ws')}/ws/client/hubs/Chat?access_token=${await createClientToken(
        PRIMARY_KEY,
        clientUrl(svc.url, 'Chat', 'websocket'),
        { userId: 'ann' },
      )}`,
    );
    c.ws.send('hello');
    await up.waitFor((call) => call.event === 'message');
    await c.close();
    await up.waitFor((call) => call.event === 'disconnect');
    expect(up.calls.map((call) => call.path)).toEqual([
      '/lifecycle/connect',
      '/any/Chat/messages/message',
      '/lifecycle/disconnect',
    ]);
  });

  it('sends no call when no template matches, and substitutes an encoded SignalR target', async () => {
    const up = await upstream();
    const svc = await service({
      upstream: [{ categoryPattern: 'messages', urlTemplate: `${up.url}/m/{event}?hub={hub}` }],
    });
    const raw = await SignalRRawClient.open(svc.url, 'chat', 'ann');
    defer(() => raw.close());
    raw.send({ type: 1, target: 'send me', arguments: [1] });
    const [call] = await up.waitFor((c) => c.event === 'send me');
    expect(call?.path).toBe('/m/send%20me?hub=chat');
    // Escaped as .NET's Uri.EscapeDataString escapes it in the emulator: only A-Z a-z 0-9 - . _ ~ stay.
    raw.send({ type: 1, target: "it's(done)!*~", arguments: [] });
    const [escaped] = await up.waitFor((c) => c.event === "it's(done)!*~");
    expect(escaped?.path).toBe('/m/it%27s%28done%29%21%2A~?hub=chat');
    // `connected` (category connections) matched nothing, and was queued before the invocation.
    expect(up.calls.map((c) => c.event)).toEqual(['send me', "it's(done)!*~"]);
  });

  it('ignores an invocation when no upstream is configured, as Learn documents it: no Completion, the connection stays', async () => {
    const logs = recordingLog();
    const svc = await service({ log: logs.log });
    const raw = await SignalRRawClient.open(svc.url, 'chat', 'ann');
    defer(() => raw.close());
    raw.send({ type: 1, invocationId: '1', target: 'ask', arguments: [] });
    // The answer is decided where the log line is written: in place of a Completion.
    await expect.poll(() => logs.text()).toContain('Ignored an invocation');
    expect(logs.text()).toContain('no upstream is configured');
    expect(raw.messages.filter((m) => m.type === 3)).toEqual([]);
    const url = `${svc.url}/api/v1/hubs/chat/connections/${raw.connectionId}`;
    expect(
      (
        await http('HEAD', url, {
          headers: { Authorization: `Bearer ${await createRestToken(PRIMARY_KEY, url)}` },
        })
      ).status,
    ).toBe(200);
  });

  it('delivers the messages of one connection in order, one at a time, while connections run in parallel', async () => {
    let releaseA: () => void = () => {};
    const bArrived = new Promise<void>((resolve) => {
      releaseA = resolve;
    });
    const inFlight = new Map<string, number>();
    let overlapWithinConnection = false;
    const up = await upstream(async (call) => {
      if (call.event !== 'message') return undefined;
      const now = (inFlight.get(call.connectionId) ?? 0) + 1;
      inFlight.set(call.connectionId, now);
      if (now > 1) overlapWithinConnection = true;
      // Barrier: A's first message is held until B's first one arrives; a service that serialised all
      // connections would never deliver B's, and this test would time out.
      if (call.text === 'A-0') await bArrived;
      if (call.text.startsWith('B-')) releaseA();
      await new Promise((resolve) => setImmediate(resolve));
      inFlight.set(call.connectionId, (inFlight.get(call.connectionId) ?? 1) - 1);
      return undefined;
    });
    const svc = await service({ upstream: `${up.url}/u`, maxQueuedUpstreamCalls: 16 });
    const ws = svc.url.replace('http', 'ws');
    const a = await client(`${ws}/ws/client/hubs/chat?access_token=${await wsToken(svc, 'a')}`);
    const b = await client(`${ws}/ws/client/hubs/chat?access_token=${await wsToken(svc, 'b')}`);
    const count = 150;
    for (let i = 0; i < count; i++) a.ws.send(`A-${i}`);
    for (let i = 0; i < count; i++) b.ws.send(`B-${i}`);
    await up.waitFor((c) => c.event === 'message', 2 * count);
    for (const prefix of ['A', 'B']) {
      const bodies = up.calls
        .filter((c) => c.event === 'message' && c.text.startsWith(prefix))
        .map((c) => c.text);
      expect(bodies).toEqual(Array.from({ length: count }, (_, i) => `${prefix}-${i}`));
    }
    expect(overlapWithinConnection).toBe(false);
  });

  it('refuses a connect with 502 when the upstream is down, and logs hub, event and connection id', async () => {
    const dead = createServer();
    dead.listen(0, '127.0.0.1');
    await new Promise((resolve) => dead.once('listening', resolve));
    const deadPort = (dead.address() as AddressInfo).port;
    await new Promise((resolve) => dead.close(resolve));
    const logs = recordingLog();
    const svc = await service({ upstream: `http://127.0.0.1:${deadPort}/api/messages`, log: logs.log });
    const token = await wsToken(svc, 'ann');
    const refused = await refusedHandshake(
      `${svc.url.replace('http', 'ws')}/ws/client/hubs/chat?access_token=${token}`,
    );
    expect(refused.status).toBe(502);
    expect(JSON.parse(refused.body)).toEqual({
      code: 'upstream-failed',
      message: expect.stringContaining('the upstream is unreachable'),
    });
    const failure = logs.entries.find((e) => e.message === 'Upstream connect call failed');
    expect(failure?.fields).toMatchObject({
      hub: 'chat',
      event: 'connect',
      connectionId: expect.any(String),
    });
    expect(logs.text()).not.toContain(token);
  });

  it('refuses a connect with 504 when the upstream does not answer in time', async () => {
    let release: () => void = () => {};
    const hanging = new Promise<void>((resolve) => {
      release = resolve;
    });
    const up = await upstream(async () => {
      await hanging;
      return undefined;
    });
    defer(async () => release());
    const svc = await service({ upstream: `${up.url}/slow`, upstreamTimeoutMs: 200 });
    const refused = await refusedHandshake(
      `${svc.url.replace('http', 'ws')}/ws/client/hubs/chat?access_token=${await wsToken(svc, 'ann')}`,
    );
    expect(refused.status).toBe(504);
    expect(JSON.parse(refused.body).message).toContain('did not answer within 200 ms (upstreamTimeoutMs)');
  });

  it('retries a failed disconnect notification with capped backoff and delivers it exactly once', async () => {
    let failures = 1;
    const up = await upstream((call) => {
      if (call.event === 'disconnect' && failures > 0) {
        failures--;
        return { status: 503, body: 'busy' };
      }
      return undefined;
    });
    const logs = recordingLog();
    // A first backoff of 60 s capped at 1 ms: only a service that honours retryMaxDelayMs retries within the test.
    const svc = await service({
      upstream: `${up.url}/u`,
      retryBaseDelayMs: 60_000,
      retryMaxDelayMs: 1,
      log: logs.log,
    });
    const c = await client(
      `${svc.url.replace('http', 'ws')}/ws/client/hubs/chat?access_token=${await wsToken(svc, 'ann')}`,
    );
    await c.close();
    const calls = await up.waitFor((call) => call.event === 'disconnect', 2);
    expect(calls.map((call) => call.connectionId)).toEqual([calls[0]?.connectionId, calls[0]?.connectionId]);
    expect(logs.entries.find((e) => e.fields?.retrying)?.fields).toMatchObject({
      status: 503,
      event: 'disconnect',
    });
    await svc.close();
    expect(up.calls.filter((call) => call.event === 'disconnect')).toHaveLength(2); // one failure + one success
  });

  it('sends exactly one disconnect per accepted connect, however the connection ends', async () => {
    const up = await upstream((call) => (call.text === 'fail' ? { status: 500 } : undefined));
    const svc = await service({ upstream: `${up.url}/u` });
    const ws = svc.url.replace('http', 'ws');
    const byClient = await client(`${ws}/ws/client/hubs/chat?access_token=${await wsToken(svc, 'a')}`);
    const byUpstream = await client(`${ws}/ws/client/hubs/chat?access_token=${await wsToken(svc, 'b')}`);
    const byRest = await client(`${ws}/ws/client/hubs/chat?access_token=${await wsToken(svc, 'c')}`);
    const terminated = await client(`${ws}/ws/client/hubs/chat?access_token=${await wsToken(svc, 'd')}`);
    const connects = await up.waitFor((c) => c.event === 'connect', 4);
    const idOf = (user: string) =>
      connects.find((c) => c.headers['x-asrs-user-id'] === user)?.connectionId ?? '';

    await byClient.close();
    byUpstream.ws.send('fail');
    expect((await byUpstream.closed).code).toBe(1011);
    const url = `${svc.url}/ws/api/v1/hubs/chat/connections/${idOf('c')}`;
    const closed = await http('DELETE', `${url}?reason=bye`, {
      headers: { Authorization: `Bearer ${await createRestToken(PRIMARY_KEY, url)}` },
    });
    expect(closed.status).toBe(200);
    expect(await byRest.closed).toEqual({ code: 1000, reason: 'bye' });
    terminated.ws.terminate();
    await up.waitFor((c) => c.event === 'disconnect', 4);
    await svc.close();
    const disconnects = up.calls.filter((c) => c.event === 'disconnect').map((c) => c.connectionId);
    expect(disconnects.sort()).toEqual(['a', 'b', 'c', 'd'].map(idOf).sort());
  });

  it('on shutdown delivers every disconnect upstream first, then closes the clients with 1001', async () => {
    const closedBeforeDisconnect: boolean[] = [];
    const clientsClosed = new Set<string>();
    const up = await upstream((call) => {
      if (call.event === 'disconnect' || call.event === 'disconnected') {
        closedBeforeDisconnect.push(clientsClosed.size > 0);
      }
      return undefined;
    });
    const svc = await startService({ port: 0, upstream: `${up.url}/u`, log: () => {} });
    const ws = svc.url.replace('http', 'ws');
    const raw = await connect(`${ws}/ws/client/hubs/chat?access_token=${await wsToken(svc, 'ann')}`);
    const hub = await SignalRRawClient.open(svc.url, 'chat', 'bo');
    void raw.closed.then(() => clientsClosed.add('raw'));
    void hub.closed.then(() => clientsClosed.add('hub'));
    await up.waitFor((c) => c.event === 'connected');

    await svc.close();
    expect(await raw.closed).toEqual({ code: 1001, reason: 'The service is shutting down' });
    expect(await hub.closed).toEqual({ code: 1001, reason: 'The service is shutting down' });
    expect(hub.messages.at(-1)).toEqual({
      type: 7,
      error: 'The service is shutting down',
      allowReconnect: true,
    });
    expect(up.calls.filter((c) => c.event === 'disconnect')).toHaveLength(1);
    expect(up.calls.filter((c) => c.event === 'disconnected').map((c) => c.text)).toEqual(['{"type":11}']);
    expect(closedBeforeDisconnect).toEqual([false, false]);
  });

  it('stops after shutdownGraceMs when a client never reads the 1001 close', async () => {
    // The default grace is 5 s and the disconnect upstream is delivered first; a service that waited for the
    // client's answer without a grace period would never stop, and the test would time out.
    const up = await upstream();
    const svc = await startService({ port: 0, upstream: `${up.url}/u`, shutdownGraceMs: 20, log: () => {} });
    const silent = await connect(
      `${svc.url.replace('http', 'ws')}/ws/client/hubs/chat?access_token=${await wsToken(svc, 'ann')}`,
    );
    defer(() => silent.ws.terminate());
    silent.ws.pause(); // reads nothing more, so it never answers the close frame
    await svc.close();
    expect(up.calls.filter((c) => c.event === 'disconnect')).toHaveLength(1);
  });

  it('reads and replaces the upstream templates through /manage/v1/ws/upstream', async () => {
    const first = await upstream();
    const second = await upstream();
    const svc = await service({ upstream: `${first.url}/first` });
    const url = `${svc.url}/manage/v1/ws/upstream`;
    const auth = { Authorization: `Bearer ${await createRestToken(PRIMARY_KEY, url)}` };
    const read = await http('GET', url, { headers: auth });
    expect(read.status).toBe(200);
    expect(JSON.parse(read.text)).toEqual({ templates: [{ urlTemplate: `${first.url}/first` }] });
    expect((await http('GET', url)).status).toBe(401);
    const bad = await http('PUT', url, { headers: auth, body: '{"templates":[{"urlTemplate":"ftp://x"}]}' });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text).message).toContain('http or https');
    const put = await http('PUT', url, {
      headers: auth,
      body: JSON.stringify({
        templates: [{ eventPattern: 'connect', urlTemplate: `${second.url}/{event}` }],
      }),
    });
    expect(put.status).toBe(200);
    await client(
      `${svc.url.replace('http', 'ws')}/ws/client/hubs/chat?access_token=${await wsToken(svc, 'ann')}`,
    );
    const [call] = await second.waitFor((c) => c.event === 'connect');
    expect(call?.path).toBe('/connect');
    expect(first.calls).toEqual([]);
  });

  it('sends the next message of a connection to the new upstream once the templates are replaced', async () => {
    const first = await upstream();
    const second = await upstream();
    const svc = await service({ upstream: `${first.url}/first/{event}` });
    const url = `${svc.url}/manage/v1/ws/upstream`;
    const auth = { Authorization: `Bearer ${await createRestToken(PRIMARY_KEY, url)}` };
    const c = await client(
      `${svc.url.replace('http', 'ws')}/ws/client/hubs/chat?access_token=${await wsToken(svc, 'ann')}`,
    );
    c.ws.send('before');
    const [before] = await first.waitFor((call) => call.headers['x-asrs-category'] === 'messages');
    expect(before?.path).toBe(`/first/${before?.event}`);
    const put = await http('PUT', url, {
      headers: auth,
      body: JSON.stringify({ templates: [{ urlTemplate: `${second.url}/second/{event}` }] }),
    });
    expect(put.status).toBe(200);
    c.ws.send('after');
    const [after] = await second.waitFor((call) => call.headers['x-asrs-category'] === 'messages');
    expect(after?.path).toBe(`/second/${after?.event}`);
    expect(after?.headers['x-asrs-user-id']).toBe('ann');
    expect(first.calls.filter((call) => call.headers['x-asrs-category'] === 'messages')).toHaveLength(1);
  });
});
