/**
 * The official `@microsoft/signalr` client (an implementation nobody here wrote) against the local service,
 * through Azure's redirect flow: the app's negotiate returns `{ url, accessToken }` (docs/architecture.md, "Tokens and identity"), the client
 * then negotiates with the service at `url` and opens its WebSocket there.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpTransportType, HubConnectionBuilder, LogLevel } from '@microsoft/signalr';
import { describe, expect, it } from 'vitest';
import { writeCompletion } from '../../src/lib/signalr/hub-codec.js';
import { clientUrl, createClientToken, createRestToken } from '../../src/lib/signalr/tokens.js';
import { http, PRIMARY_KEY, useServiceTest } from '../support/local-service.js';

const { upstream, service, defer } = useServiceTest();

describe('the official @microsoft/signalr client', () => {
  it('connects through negotiate, invokes a method that reaches the upstream and receives a REST broadcast', async () => {
    // The upstream answers an invocation as the Functions SignalR extension does: a framed Completion.
    const up = await upstream((call) =>
      call.event === 'ask'
        ? {
            body: writeCompletion('json', JSON.parse(call.text).invocationId, { result: { answer: 42 } }),
          }
        : undefined,
    );
    const svc = await service({ upstream: `${up.url}/api/messages?event={event}` });

    // The app's negotiate, as Azure's redirect flow expects it: the service URL and a token for it.
    const app = createServer(async (req, res) => {
      const url = clientUrl(svc.url, 'chat');
      const accessToken = await createClientToken(PRIMARY_KEY, url, {
        userId: 'ann',
        claims: { role: 'tester' },
      });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ url, accessToken }));
      appCalls.push(`${req.method} ${req.url}`);
    });
    const appCalls: string[] = [];
    app.listen(0, '127.0.0.1');
    await once(app, 'listening');
    defer(() => new Promise((resolve) => app.close(resolve)));
    const appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}/api`;

    const connection = new HubConnectionBuilder()
      .withUrl(appUrl, { transport: HttpTransportType.WebSockets })
      .configureLogging(LogLevel.Warning)
      .build();
    defer(() => connection.stop());
    const received = new Promise<unknown[]>((resolve) => {
      connection.on('message', (...args: unknown[]) => resolve(args));
    });

    await connection.start();
    expect(appCalls).toEqual(['POST /api/negotiate?negotiateVersion=1']);
    const [connected] = await up.waitFor((c) => c.event === 'connected');
    expect(connected?.headers['x-asrs-user-id']).toBe('ann');
    expect(connected?.connectionId).toBe(connection.connectionId);

    await connection.send('send', { text: 'hello' });
    const [send] = await up.waitFor((c) => c.event === 'send');
    expect(JSON.parse(send?.text ?? '')).toEqual({ type: 1, target: 'send', arguments: [{ text: 'hello' }] });
    expect(String(send?.headers['x-asrs-user-claims'])).toContain('role: tester');

    expect(await connection.invoke('ask', 1)).toEqual({ answer: 42 });

    const restUrl = `${svc.url}/api/v1/hubs/chat`;
    const broadcast = await http('POST', restUrl, {
      headers: {
        Authorization: `Bearer ${await createRestToken(PRIMARY_KEY, restUrl)}`,
        'Content-Type': 'application/json',
      },
      body: JSON.stringify({ target: 'message', arguments: [{ from: 'server', text: 'hi all' }] }),
    });
    expect(broadcast.status).toBe(202);
    expect(await received).toEqual([{ from: 'server', text: 'hi all' }]);

    await connection.stop();
    const [disconnected] = await up.waitFor((c) => c.event === 'disconnected');
    expect(disconnected?.text).toBe('{"type":11}');
  });

  it('surfaces the reason when the service closes the connection', async () => {
    const svc = await service();
    const url = clientUrl(svc.url, 'chat');
    const connection = new HubConnectionBuilder()
      .withUrl(url, {
        transport: HttpTransportType.WebSockets,
        accessTokenFactory: () => createClientToken(PRIMARY_KEY, url, { userId: 'bo' }),
      })
      .configureLogging(LogLevel.None)
      .build();
    defer(() => connection.stop());
    const closed = new Promise<Error | undefined>((resolve) => connection.onclose(resolve));
    await connection.start();
    const restUrl = `${svc.url}/api/v1/hubs/chat/connections/${connection.connectionId}`;
    const res = await http('DELETE', `${restUrl}?reason=maintenance`, {
      headers: { Authorization: `Bearer ${await createRestToken(PRIMARY_KEY, restUrl)}` },
    });
    // v1 CloseClientConnection answers 202.
    expect(res.status).toBe(202);
    expect(String(await closed)).toContain('maintenance');
  });
});
