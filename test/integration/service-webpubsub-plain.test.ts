/**
 * The Web PubSub wing's client endpoint with a plain WebSocket (no subprotocol), as the chat page's raw-WebSocket
 * chat holds it: the token checks before any event, frames and their limits, slow consumers and dead peers.
 * Microsoft's own client and event handler are driven in service-webpubsub-client.test.ts.
 */
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { DEV_WEBPUBSUB_ACCESS_KEY } from '../../src/local/dev-constants.js';
import {
  acceptEveryEvent,
  recordingLog,
  refusedHandshake,
  TestClient,
  useServiceTest,
  webPubSubClientUrl,
  webPubSubEventsTo,
  webPubSubHub,
} from '../support/local-service.js';

const { upstream, service, client, defer } = useServiceTest();

const eventHandler = () => upstream(acceptEveryEvent);
const handledBy = webPubSubEventsTo;
const hubClient = webPubSubHub;
const clientUrlFor = webPubSubClientUrl;

describe('the Web PubSub wing with a plain WebSocket', () => {
  it('refuses a client token with a wrong key, another audience or past its exp with 401, before any event', async () => {
    const up = await eventHandler();
    const svc = await service(handledBy(up));
    const endpoint = `${svc.endpoint}/client/hubs/chat`;
    const sign = (key: string, aud: string, exp: number) =>
      new SignJWT({ sub: 'ann' })
        .setProtectedHeader({ alg: 'HS256' })
        .setAudience(aud)
        .setExpirationTime(exp)
        .sign(new TextEncoder().encode(key));
    const inAnHour = Math.floor(Date.now() / 1000) + 3600;
    const cases: Array<[string, string]> = [
      ['wrong key', await sign('another-key-of-nobody', endpoint, inAnHour)],
      ['another hub', await sign(DEV_WEBPUBSUB_ACCESS_KEY, `${svc.endpoint}/client/hubs/other`, inAnHour)],
      ['expired', await sign(DEV_WEBPUBSUB_ACCESS_KEY, endpoint, inAnHour - 7200)],
    ];
    const ws = endpoint.replace('http', 'ws');
    for (const [name, token] of cases) {
      const refused = await refusedHandshake(`${ws}?access_token=${token}`);
      expect(refused.status, name).toBe(401);
      expect(refused.body, `${name}: the reason never repeats the token`).not.toContain(token);
    }
    expect(up.calls.filter((call) => call.event === 'connect')).toEqual([]);
  });

  it('refuses a connect with 504 when its event handler does not answer in time, and logs nothing secret', async () => {
    let release: () => void = () => {};
    const hanging = new Promise<void>((resolve) => {
      release = resolve;
    });
    const up = await upstream(async (call) => {
      if (call.method === 'OPTIONS') return { headers: { 'WebHook-Allowed-Origin': '*' } };
      await hanging;
      return { status: 204 };
    });
    defer(async () => release());
    const logs = recordingLog();
    const svc = await service({ ...handledBy(up), upstreamTimeoutMs: 200, log: logs.log });
    const url = await clientUrlFor(svc, 'ann');
    const refused = await refusedHandshake(url);
    expect(refused.status).toBe(504);
    expect(refused.body).toContain('200 ms (upstreamTimeoutMs)');
    expect(logs.text()).not.toContain(new URL(url).searchParams.get('access_token'));
  });

  it('sends a message fragmented over several frames as one event, when it is complete', async () => {
    const up = await eventHandler();
    const svc = await service(handledBy(up));
    const c = await client(await clientUrlFor(svc, 'ann'));
    c.ws.send('hel', { fin: false });
    c.ws.send('lo', { fin: true });
    c.ws.send('next');
    const messages = await up.waitFor((call) => call.event === 'message', 2);
    expect(messages.map((m) => m.text)).toEqual(['hello', 'next']);
  });

  it('closes a connection that sends a frame over maxMessageBytes with 1009, and still sends its disconnected', async () => {
    const up = await eventHandler();
    const svc = await service({ ...handledBy(up), maxMessageBytes: 1024 });
    const c = await client(await clientUrlFor(svc, 'ann'));
    await up.waitFor((call) => call.event === 'connected');
    c.ws.send('x'.repeat(1025));
    expect(await c.closed).toEqual({
      code: 1009,
      reason: 'A message is larger than 1024 bytes (maxMessageBytes)',
    });
    await up.waitFor((call) => call.event === 'disconnected');
    expect(up.calls.some((call) => call.event === 'message')).toBe(false);
  });

  it('closes a slow consumer with 1008 and a reason instead of buffering without bound', async () => {
    const logs = recordingLog();
    const svc = await service({ maxOutboundMessages: 8, maxOutboundBytes: 512 * 1024, log: logs.log });
    const c = await client(await clientUrlFor(svc, 'ann'));
    const rest = hubClient(svc);
    expect(await rest.userExists('ann')).toBe(true);
    c.ws.pause(); // the client stops reading; the kernel buffers fill, then the service's queue
    const chunk = 'x'.repeat(256 * 1024);
    let sends = 0;
    // Each round either grows the backlog or finds the connection gone; 400 rounds = 100 MiB, far past any buffer.
    while (sends < 400 && (await rest.userExists('ann'))) {
      await rest.sendToUser('ann', chunk, { contentType: 'text/plain' });
      sends++;
    }
    expect(await rest.userExists('ann')).toBe(false);
    c.ws.resume();
    const closed = await c.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toContain('Slow consumer');
    expect(logs.entries.some((e) => e.message === 'Closing a slow consumer')).toBe(true);
  });

  it('finds a peer that stops answering pings and closes it', async () => {
    const up = await eventHandler();
    const svc = await service({ ...handledBy(up), keepAliveIntervalMs: 20 });
    const c = new TestClient(await clientUrlFor(svc, 'ann'), undefined, undefined, { autoPong: false });
    defer(() => c.close());
    await c.opened;
    expect((await c.closed).code).toBe(1006);
    const [disconnected] = await up.waitFor((call) => call.event === 'disconnected');
    expect(disconnected?.headers['ce-userid']).toBe('ann');
  });
});
