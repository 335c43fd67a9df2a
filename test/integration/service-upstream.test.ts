import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifySignature } from '../../src/lib/signalr/signature.js';
import { createRestToken } from '../../src/lib/signalr/tokens.js';
import { type RunningService, startService } from '../../src/local/service/index.js';
import {
  http,
  PRIMARY_KEY,
  type RecordedCall,
  recordingLog,
  SECONDARY_KEY,
  useServiceTest,
} from '../support/local-service.js';
import { SignalRRawClient } from '../support/signalr-raw-client.js';

const { upstream, service, defer } = useServiceTest();

/** A SignalR client (JSON hub protocol) of `userId`, closed after the test. */
async function hubClient(
  svc: RunningService,
  userId: string,
  options: { claims?: Record<string, string>; query?: string } = {},
) {
  const raw = await SignalRRawClient.open(svc.url, 'chat', userId, options);
  defer(() => raw.close());
  return raw;
}

/** The one argument of an invocation's upstream body. */
function argumentOf(call: RecordedCall): unknown {
  return (JSON.parse(call.text) as { arguments: unknown[] }).arguments[0];
}

function hmac(key: string, data: string): string {
  return createHmac('sha256', key).update(data).digest('hex');
}

describe('upstream calls of the local service', () => {
  it('sends every X-ASRS header of a connected, with the known-answer signature of both keys', async () => {
    const up = await upstream();
    const ids = ['a1b2c3', 'conn-01HZX5'];
    const svc = await service({
      accessKeys: [PRIMARY_KEY, SECONDARY_KEY],
      upstream: `${up.url}/api/messages?event={event}`,
      generateConnectionId: () => ids.shift() ?? 'unexpected',
    });
    await hubClient(svc, 'ann', { claims: { role: 'admin' }, query: '&room=lobby' });
    const [connected] = await up.waitFor((c) => c.event === 'connected');
    expect(connected?.path).toBe('/api/messages?event=connected');
    const h = connected?.headers ?? {};
    expect(h['x-asrs-hub']).toBe('chat');
    expect(h['x-asrs-category']).toBe('connections');
    expect(h['x-asrs-event']).toBe('connected');
    expect(h['x-asrs-connection-id']).toBe('a1b2c3');
    expect(h['x-asrs-user-id']).toBe('ann');
    expect(String(h['x-asrs-user-claims']).split(', ')).toEqual(
      expect.arrayContaining(['role: admin', 'nameid: ann']),
    );
    // The token never travels upstream; the rest of the query does.
    expect(String(h['x-asrs-client-query'])).toContain('room=lobby');
    expect(String(h['x-asrs-client-query'])).not.toContain('access_token');
    expect(h['x-asrs-signature']).toBe(
      'sha256=6cbae2c31f2e44f07a406ecefeb344276609293c3085a3cfc1eccafa331ae992,' +
        'sha256=9bda1d80ff0eb6e1d87e4845973a1bc07b31d7c84e7d12eb0d2c47eb08c6ccea',
    );
    expect(verifySignature(String(h['x-asrs-signature']), 'a1b2c3', [PRIMARY_KEY])).toBe(true);
    expect(verifySignature(String(h['x-asrs-signature']), 'a1b2c3', [SECONDARY_KEY])).toBe(true);

    await hubClient(svc, 'ann');
    const [, second] = await up.waitFor((c) => c.event === 'connected', 2);
    expect(second?.headers['x-asrs-signature']).toBe(
      'sha256=b57a6180ae9ef3efae224a60729ee6b00791f36f36997dd2ec42e93caa52b508,' +
        'sha256=545441a717929d634ee8bbf6768dbd0708f04176379b6c9007348a6c739b8948',
    );
  });

  it('signs random connection ids with one HMAC entry per configured key', async () => {
    const up = await upstream();
    const svc = await service({ accessKeys: [PRIMARY_KEY, SECONDARY_KEY], upstream: `${up.url}/u` });
    await hubClient(svc, 'bo');
    const [call] = await up.waitFor((c) => c.event === 'connected');
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
        { eventPattern: 'CONNECTED, disconnected', urlTemplate: `${up.url}/lifecycle/{event}` },
        { hubPattern: 'CHAT', categoryPattern: '*', urlTemplate: `${up.url}/any/{hub}/{category}/{event}` },
      ],
    });
    const c = await SignalRRawClient.open(svc.url, 'Chat', 'ann');
    c.send({ type: 1, target: 'hello', arguments: [] });
    await up.waitFor((call) => call.event === 'hello');
    await c.close();
    await up.waitFor((call) => call.event === 'disconnected');
    expect(up.calls.map((call) => call.path)).toEqual([
      '/lifecycle/connected',
      '/any/Chat/messages/hello',
      '/lifecycle/disconnected',
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
      if (call.event !== 'send') return undefined;
      const text = String(argumentOf(call));
      const now = (inFlight.get(call.connectionId) ?? 0) + 1;
      inFlight.set(call.connectionId, now);
      if (now > 1) overlapWithinConnection = true;
      // Barrier: A's first message is held until B's first one arrives; a service that serialised all
      // connections would never deliver B's, and this test would time out.
      if (text === 'A-0') await bArrived;
      if (text.startsWith('B-')) releaseA();
      await new Promise((resolve) => setImmediate(resolve));
      inFlight.set(call.connectionId, (inFlight.get(call.connectionId) ?? 1) - 1);
      return undefined;
    });
    const svc = await service({ upstream: `${up.url}/u`, maxQueuedUpstreamCalls: 16 });
    const a = await hubClient(svc, 'a');
    const b = await hubClient(svc, 'b');
    const count = 150;
    for (let i = 0; i < count; i++) a.send({ type: 1, target: 'send', arguments: [`A-${i}`] });
    for (let i = 0; i < count; i++) b.send({ type: 1, target: 'send', arguments: [`B-${i}`] });
    await up.waitFor((c) => c.event === 'send', 2 * count);
    for (const prefix of ['A', 'B']) {
      const bodies = up.calls
        .filter((c) => c.event === 'send')
        .map((c) => String(argumentOf(c)))
        .filter((text) => text.startsWith(prefix));
      expect(bodies).toEqual(Array.from({ length: count }, (_, i) => `${prefix}-${i}`));
    }
    expect(overlapWithinConnection).toBe(false);
  });

  it('retries a failed disconnect notification with capped backoff and delivers it exactly once', async () => {
    let failures = 1;
    const up = await upstream((call) => {
      if (call.event === 'disconnected' && failures > 0) {
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
    const c = await hubClient(svc, 'ann');
    await c.close();
    const calls = await up.waitFor((call) => call.event === 'disconnected', 2);
    expect(calls.map((call) => call.connectionId)).toEqual([calls[0]?.connectionId, calls[0]?.connectionId]);
    expect(logs.entries.find((e) => e.fields?.retrying)?.fields).toMatchObject({
      status: 503,
      event: 'disconnected',
    });
    await svc.close();
    expect(up.calls.filter((call) => call.event === 'disconnected')).toHaveLength(2); // one failure + one success
  });

  it('sends exactly one disconnected per connection, however the connection ends', async () => {
    const up = await upstream();
    const svc = await service({ upstream: `${up.url}/u` });
    const byClient = await hubClient(svc, 'a');
    const byProtocolError = await hubClient(svc, 'b');
    const byRest = await hubClient(svc, 'c');
    const terminated = await hubClient(svc, 'd');
    await up.waitFor((c) => c.event === 'connected', 4);

    await byClient.close();
    byProtocolError.ws.send('not a hub message\x1e');
    await byProtocolError.closed;
    const url = `${svc.url}/api/v1/hubs/chat/connections/${byRest.connectionId}`;
    const closed = await http('DELETE', `${url}?reason=bye`, {
      headers: { Authorization: `Bearer ${await createRestToken(PRIMARY_KEY, url)}` },
    });
    expect(closed.status).toBe(202);
    await byRest.closed;
    terminated.ws.terminate();
    await up.waitFor((c) => c.event === 'disconnected', 4);
    await svc.close();
    const disconnected = up.calls.filter((c) => c.event === 'disconnected').map((c) => c.connectionId);
    const ids = [byClient, byProtocolError, byRest, terminated].map((c) => c.connectionId);
    expect(disconnected.sort()).toEqual(ids.sort());
  });

  it('on shutdown delivers every disconnected upstream first, then closes the clients with 1001', async () => {
    const closedBeforeDisconnected: boolean[] = [];
    const clientsClosed = new Set<string>();
    const up = await upstream((call) => {
      if (call.event === 'disconnected') closedBeforeDisconnected.push(clientsClosed.size > 0);
      return undefined;
    });
    const svc = await startService({ port: 0, upstream: `${up.url}/u`, log: () => {} });
    const ann = await SignalRRawClient.open(svc.url, 'chat', 'ann');
    const bo = await SignalRRawClient.open(svc.url, 'chat', 'bo');
    void ann.closed.then(() => clientsClosed.add('ann'));
    void bo.closed.then(() => clientsClosed.add('bo'));
    await up.waitFor((c) => c.event === 'connected', 2);

    await svc.close();
    for (const c of [ann, bo]) {
      expect(await c.closed).toEqual({ code: 1001, reason: 'The service is shutting down' });
      expect(c.messages.at(-1)).toEqual({
        type: 7,
        error: 'The service is shutting down',
        allowReconnect: true,
      });
    }
    expect(up.calls.filter((c) => c.event === 'disconnected').map((c) => c.text)).toEqual([
      '{"type":11}',
      '{"type":11}',
    ]);
    expect(closedBeforeDisconnected).toEqual([false, false]);
  });

  it('stops after shutdownGraceMs when a client never reads the 1001 close', async () => {
    // The default grace is 5 s and the disconnect upstream is delivered first; a service that waited for the
    // client's answer without a grace period would never stop, and the test would time out.
    const up = await upstream();
    const svc = await startService({ port: 0, upstream: `${up.url}/u`, shutdownGraceMs: 20, log: () => {} });
    const silent = await SignalRRawClient.open(svc.url, 'chat', 'ann');
    defer(() => silent.ws.terminate());
    await up.waitFor((c) => c.event === 'connected');
    silent.ws.pause(); // reads nothing more, so it never answers the close frame
    await svc.close();
    expect(up.calls.filter((c) => c.event === 'disconnected')).toHaveLength(1);
  });
});
