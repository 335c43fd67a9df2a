/**
 * The local service against the official `@microsoft/signalr` client (Microsoft's MessagePack protocol for
 * `messagepack`), with a test upstream that answers as the Functions SignalR extension does: what Azure sends
 * upstream for each protocol, and what the client gets from each kind of upstream answer.
 */
import { HttpTransportType, type HubConnection, HubConnectionBuilder, LogLevel } from '@microsoft/signalr';
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack';
import { describe, expect, it } from 'vitest';
import { writeCompletion } from '../../src/lib/signalr/hub-codec.js';
import { parseMessagePackMessages, withLengthPrefix } from '../../src/lib/signalr/messagepack.js';
import { clientUrl, createClientToken, createRestToken } from '../../src/lib/signalr/tokens.js';
import type { RunningService } from '../../src/local/service/index.js';
import { http, PRIMARY_KEY, type RecordedCall, useServiceTest } from '../support/local-service.js';

const { upstream, service, defer } = useServiceTest();

function connection(
  svc: RunningService,
  protocol: 'json' | 'messagepack',
  user = 'ann',
  transport = HttpTransportType.WebSockets,
): HubConnection {
  const url = clientUrl(svc.url, 'chat');
  const builder = new HubConnectionBuilder()
    .withUrl(url, {
      transport,
      accessTokenFactory: () => createClientToken(PRIMARY_KEY, url, { userId: user }),
    })
    .configureLogging(LogLevel.None);
  if (protocol === 'messagepack') builder.withHubProtocol(new MessagePackHubProtocol());
  const built = builder.build();
  defer(() => built.stop());
  return built;
}

/** The invocation an upstream call carries, read as the Functions extension reads it (by Content-Type). */
function invocationOf(call: RecordedCall): { invocationId?: string; target: string; arguments: unknown[] } {
  if (call.headers['content-type'] === 'application/x-msgpack') {
    const [message] = parseMessagePackMessages(withLengthPrefix(call.body));
    return message as never;
  }
  return JSON.parse(call.text);
}

/** An upstream that answers like the Functions SignalR extension: `add` sums, `boom` fails. */
function extensionLike(call: RecordedCall) {
  if (call.headers['x-asrs-category'] !== 'messages') return undefined;
  const protocol = call.headers['content-type'] === 'application/x-msgpack' ? 'messagepack' : 'json';
  const invocation = invocationOf(call);
  if (invocation.invocationId === undefined) return { status: 200 };
  const outcome =
    invocation.target === 'add'
      ? { result: (invocation.arguments as number[]).reduce((a, b) => a + b, 0) }
      : { error: `${invocation.target} failed` };
  return { body: writeCompletion(protocol, invocation.invocationId, outcome) };
}

describe('hub protocols of the local service with the official client', () => {
  for (const protocol of ['json', 'messagepack'] as const) {
    it(`${protocol}: invoke gets the upstream's framed Completion (result or error), send gets nothing`, async () => {
      const up = await upstream(extensionLike);
      const svc = await service({ upstream: `${up.url}/api/messages?event={event}` });
      const client = connection(svc, protocol);
      await client.start();
      expect(await client.invoke('add', 2, 3)).toBe(5);
      await expect(client.invoke('boom')).rejects.toThrow('boom failed');
      await client.send('note', 'hi');
      const [note] = await up.waitFor((c) => c.event === 'note');
      expect(invocationOf(note as RecordedCall)).toMatchObject({ target: 'note', arguments: ['hi'] });
      expect(await client.invoke('add', 1)).toBe(1); // the connection is still fine
    });
  }

  it('messagepack over Long Polling (binary transfer format): invoke, send and a REST broadcast', async () => {
    const up = await upstream(extensionLike);
    const svc = await service({ upstream: `${up.url}/api/messages?event={event}` });
    const client = connection(svc, 'messagepack', 'ann', HttpTransportType.LongPolling);
    const news = new Promise<unknown[]>((resolve) => client.on('news', (...args) => resolve(args)));
    await client.start();
    expect(await client.invoke('add', 20, 22)).toBe(42);
    await expect(client.invoke('boom')).rejects.toThrow('boom failed');
    await client.send('note', 'over long polling');
    const [note] = await up.waitFor((c) => c.event === 'note');
    expect(note?.headers['content-type']).toBe('application/x-msgpack');
    const restUrl = `${svc.url}/api/v1/hubs/chat`;
    const sent = await http('POST', restUrl, {
      headers: {
        Authorization: `Bearer ${await createRestToken(PRIMARY_KEY, restUrl)}`,
        'Content-Type': 'application/json',
      },
      body: JSON.stringify({ target: 'news', arguments: ['polled'] }),
    });
    expect(sent.status).toBe(202);
    expect(await news).toEqual(['polled']);
  });

  it('sends a MessagePack invocation upstream as Azure does: the array without length prefix, application/x-msgpack', async () => {
    const up = await upstream(extensionLike);
    const svc = await service({ upstream: `${up.url}/api/messages?event={event}` });
    const client = connection(svc, 'messagepack');
    await client.start();
    await client.invoke('add', 40, 2);
    const [connected] = await up.waitFor((c) => c.event === 'connected');
    const [add] = await up.waitFor((c) => c.event === 'add');
    // connected and disconnected stay JSON whatever the protocol.
    expect(connected?.headers['content-type']).toBe('application/json');
    expect(connected?.text).toBe('{"type":10}');
    expect(add?.headers['content-type']).toBe('application/x-msgpack');
    // [1, {}, "0", "add", [40, 42]]: fixarray(5), 1, fixmap(0), fixstr "0", fixstr "add", fixarray(2) 40 2.
    expect([...(add?.body ?? [])]).toEqual([
      0x95, 0x01, 0x80, 0xa1, 0x30, 0xa3, 0x61, 0x64, 0x64, 0x92, 0x28, 0x02,
    ]);
    await client.stop();
    const [disconnected] = await up.waitFor((c) => c.event === 'disconnected');
    expect(disconnected?.headers['content-type']).toBe('application/json');
    expect(disconnected?.text).toBe('{"type":11}');
  });

  it('an upstream answering raw JSON breaks the official client, as it would on Azure', async () => {
    const up = await upstream((call) =>
      call.event === 'ask'
        ? { headers: { 'Content-Type': 'application/json' }, body: '{"answer":42}' }
        : undefined,
    );
    const svc = await service({ upstream: `${up.url}/api/messages?event={event}` });
    const client = connection(svc, 'json');
    const closed = new Promise<Error | undefined>((resolve) => client.onclose(resolve));
    await client.start();
    await expect(client.invoke('ask')).rejects.toThrow();
    expect(String(await closed)).toContain('Message is incomplete.');
  });

  it('a REST broadcast reaches JSON and MessagePack clients alike', async () => {
    const up = await upstream();
    const svc = await service({ upstream: `${up.url}/api/messages?event={event}` });
    const clients = [
      connection(svc, 'json', 'ann'),
      connection(svc, 'messagepack', 'bob'),
      connection(svc, 'messagepack', 'cat'),
      connection(svc, 'json', 'dan'),
    ];
    const received = clients.map(
      (client) => new Promise<unknown[]>((resolve) => client.on('news', (...args) => resolve(args))),
    );
    await Promise.all(clients.map((client) => client.start()));
    const restUrl = `${svc.url}/api/v1/hubs/chat`;
    const sent = await http('POST', restUrl, {
      headers: {
        Authorization: `Bearer ${await createRestToken(PRIMARY_KEY, restUrl)}`,
        'Content-Type': 'application/json',
      },
      body: JSON.stringify({ target: 'news', arguments: [{ text: 'hi all', n: 1.5, list: [1, 'x'] }, null] }),
    });
    expect(sent.status).toBe(202);
    for (const args of await Promise.all(received)) {
      expect(args).toEqual([{ text: 'hi all', n: 1.5, list: [1, 'x'] }, null]);
    }
  });

  it('surfaces the reason of a service close to a MessagePack client', async () => {
    const svc = await service();
    const client = connection(svc, 'messagepack', 'bo');
    const closed = new Promise<Error | undefined>((resolve) => client.onclose(resolve));
    await client.start();
    const restUrl = `${svc.url}/api/v1/hubs/chat/connections/${client.connectionId}`;
    await http('DELETE', `${restUrl}?reason=maintenance`, {
      headers: { Authorization: `Bearer ${await createRestToken(PRIMARY_KEY, restUrl)}` },
    });
    expect(String(await closed)).toContain('maintenance');
  });
});
