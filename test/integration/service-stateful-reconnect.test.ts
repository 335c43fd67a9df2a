/**
 * Stateful reconnect, which Azure SignalR grants (also in Serverless mode): the official client's
 * `withStatefulReconnect()` against the local service, with the network cut between them by a TCP proxy so
 * that neither side sees a close. The connection survives: same connection id, no `disconnected` upstream,
 * and the messages sent while it was cut arrive once, in order, both ways.
 */
import { HttpTransportType, HubConnectionBuilder, HubConnectionState, LogLevel } from '@microsoft/signalr';
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack';
import { describe, expect, it } from 'vitest';
import { parseMessagePackMessages, withLengthPrefix } from '../../src/lib/signalr/messagepack.js';
import { clientUrl, createClientToken, createRestToken } from '../../src/lib/signalr/tokens.js';
import type { RunningService } from '../../src/local/service/index.js';
import { http, PRIMARY_KEY, useServiceTest } from '../support/local-service.js';
import { startTcpProxy } from '../support/tcp-proxy.js';

const { upstream, service, defer } = useServiceTest();

async function behindProxy(svc: RunningService) {
  const proxy = await startTcpProxy(svc.port);
  defer(() => proxy.close());
  return proxy;
}

/** A client reaching the service at `url` (through the proxy) with a token for the service's own endpoint. */
function statefulClient(url: string, svc: RunningService, protocol: 'json' | 'messagepack' = 'json') {
  const audience = clientUrl(svc.endpoint, 'chat');
  const builder = new HubConnectionBuilder()
    .withUrl(url, {
      transport: HttpTransportType.WebSockets,
      accessTokenFactory: () => createClientToken(PRIMARY_KEY, audience, { userId: 'ann' }),
    })
    .withStatefulReconnect()
    .configureLogging(LogLevel.None);
  if (protocol === 'messagepack') builder.withHubProtocol(new MessagePackHubProtocol());
  const connection = builder.build();
  defer(() => connection.stop());
  return connection;
}

async function sendToConnection(svc: RunningService, connectionId: string, text: string) {
  const url = `${svc.url}/api/v1/hubs/chat/connections/${connectionId}`;
  const res = await http('POST', url, {
    headers: {
      Authorization: `Bearer ${await createRestToken(PRIMARY_KEY, url)}`,
      'Content-Type': 'application/json',
    },
    body: JSON.stringify({ target: 'message', arguments: [text] }),
  });
  expect(res.status).toBe(202);
}

describe('stateful reconnect', () => {
  it('grants useStatefulReconnect at negotiate only to a client that asks for it', async () => {
    const svc = await service();
    const url = clientUrl(svc.url, 'chat');
    const token = await createClientToken(PRIMARY_KEY, url, { userId: 'ann' });
    const ask = async (query: string) =>
      JSON.parse(
        (
          await http('POST', `${svc.url}/client/negotiate?hub=chat&negotiateVersion=1${query}`, {
            headers: { Authorization: `Bearer ${token}` },
          })
        ).text,
      ) as { useStatefulReconnect?: boolean };
    expect((await ask('&useStatefulReconnect=true')).useStatefulReconnect).toBe(true);
    expect((await ask('')).useStatefulReconnect).toBeUndefined();
    expect((await ask('&useStatefulReconnect=false')).useStatefulReconnect).toBeUndefined();
  });

  for (const protocol of ['json', 'messagepack'] as const)
    it(`keeps the connection across a cut network and resends what was not acknowledged, both ways (${protocol})`, async () => {
      const up = await upstream();
      const svc = await service({ upstream: `${up.url}/api/messages?event={event}` });
      const proxy = await behindProxy(svc);
      const connection = statefulClient(clientUrl(proxy.url, 'chat'), svc, protocol);
      const received: unknown[] = [];
      let allReceived: () => void = () => {};
      const reconnected = new Promise<void>((resolve) => {
        allReceived = resolve;
      });
      connection.on('message', (text: unknown) => {
        received.push(text);
        if (text === 'after') allReceived();
      });
      await connection.start();
      const [connected] = await up.waitFor((c) => c.event === 'connected');
      await sendToConnection(svc, connection.connectionId ?? '', 'before');

      // The network fails: neither side sees a close. The client's reconnect waits at the proxy meanwhile.
      proxy.hold();
      proxy.cut();
      await sendToConnection(svc, connection.connectionId ?? '', 'while cut 1');
      await sendToConnection(svc, connection.connectionId ?? '', 'while cut 2');
      const sent = connection.send('send', 'from the client while cut');
      proxy.release();
      await sent;
      await sendToConnection(svc, connection.connectionId ?? '', 'after');
      await reconnected;
      const [send] = await up.waitFor((c) => c.event === 'send');

      expect(received).toEqual(['before', 'while cut 1', 'while cut 2', 'after']);
      const invocation =
        protocol === 'json'
          ? JSON.parse(send?.text ?? '')
          : parseMessagePackMessages(withLengthPrefix(send?.body ?? Buffer.alloc(0)))[0];
      expect((invocation as { arguments: unknown[] }).arguments).toEqual(['from the client while cut']);
      expect(send?.connectionId).toBe(connected?.connectionId);
      expect(connection.state).toBe(HubConnectionState.Connected);
      // One connection from start to end: no disconnected upstream, no second connected.
      expect(up.calls.filter((c) => c.event === 'send')).toHaveLength(1);
      expect(up.calls.filter((c) => c.event === 'connected' || c.event === 'disconnected')).toHaveLength(1);
    });

  it('ends the connection with disconnected upstream when the client does not come back within statefulReconnectWindowMs', async () => {
    const up = await upstream();
    const svc = await service({
      upstream: `${up.url}/api/messages?event={event}`,
      statefulReconnectWindowMs: 100,
    });
    const proxy = await behindProxy(svc);
    const connection = statefulClient(clientUrl(proxy.url, 'chat'), svc);
    const closed = new Promise<Error | undefined>((resolve) => connection.onclose(resolve));
    await connection.start();
    await up.waitFor((c) => c.event === 'connected');
    proxy.hold();
    proxy.cut();
    const [disconnected] = await up.waitFor((c) => c.event === 'disconnected');
    expect(JSON.parse(disconnected?.text ?? '')).toEqual({
      type: 11,
      error: expect.stringContaining('did not reconnect within 100 ms (statefulReconnectWindowMs)'),
    });
    // The client's late reconnect finds no connection and gives up.
    proxy.release();
    await closed;
  });
});
