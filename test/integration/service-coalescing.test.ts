/**
 * Write coalescing on WebSockets (transports/websocket.ts): what one connection is sent in one event-loop turn
 * leaves together. In the signalr dialect, several hub protocol records share one WebSocket message, as
 * ASP.NET Core SignalR sends them; on a plain Web PubSub WebSocket, every message stays its own WebSocket message.
 * Real sockets throughout: raw `ws` clients to see the message boundaries, the official client to read them.
 */
import { once } from 'node:events';
import { WebPubSubServiceClient } from '@azure/web-pubsub';
import { HttpTransportType, type HubConnection, HubConnectionBuilder, LogLevel } from '@microsoft/signalr';
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type HubMessage, parseHubMessages, writeHubMessage } from '../../src/lib/signalr/hub-protocol.js';
import { parseMessagePackMessages, writeMessagePackMessage } from '../../src/lib/signalr/messagepack.js';
import { clientUrl, createClientToken, createRestToken } from '../../src/lib/signalr/tokens.js';
import { DEV_WEBPUBSUB_ACCESS_KEY } from '../../src/local/dev-constants.js';
import type { RunningService } from '../../src/local/service/index.js';
import { http, PRIMARY_KEY, TestClient, useServiceTest } from '../support/local-service.js';
import { SignalRRawClient } from '../support/signalr-raw-client.js';

const { service, defer } = useServiceTest();

/**
 * Invocations `1..count` of a target that cannot travel upstream (it starts with a space): the service refuses
 * each with a Completion error at once, all in the turn that read them.
 */
function refusedInvocations(count: number, idOf: (i: number) => string = String): HubMessage[] {
  return Array.from({ length: count }, (_, i) => ({
    type: 1 as const,
    invocationId: idOf(i + 1),
    target: ' refused',
    arguments: [],
  }));
}

/** Type and invocation id of each message. */
function idsOf(messages: readonly HubMessage[]): Array<[number, string | undefined]> {
  return messages.map((m) => [m.type, (m as { invocationId?: string }).invocationId]);
}

async function negotiated(svc: RunningService, userId: string, query = '') {
  const token = await createClientToken(PRIMARY_KEY, clientUrl(svc.url, 'chat'), { userId });
  const answer = await http('POST', `${svc.url}/client/negotiate?hub=chat&negotiateVersion=1${query}`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  const { connectionId, connectionToken } = JSON.parse(answer.text) as {
    connectionId: string;
    connectionToken: string;
  };
  const wsUrl = `${svc.url.replace('http', 'ws')}/client/?hub=chat&id=${connectionToken}&access_token=${token}`;
  return { connectionId, wsUrl };
}

/** A raw socket that keeps every WebSocket message it receives, whole. */
function rawSocket(url: string): {
  ws: WebSocket;
  messages: Buffer[];
  received(count: number): Promise<void>;
} {
  const ws = new WebSocket(url);
  ws.on('error', () => {});
  defer(() => ws.terminate());
  const messages: Buffer[] = [];
  const waiters: Array<() => void> = [];
  ws.on('message', (data: Buffer) => {
    messages.push(data);
    for (const wake of waiters.splice(0)) wake();
  });
  const received = async (count: number) => {
    while (messages.length < count) await new Promise<void>((resolve) => waiters.push(resolve));
  };
  return { ws, messages, received };
}

/** The JSON records of one text WebSocket message. */
function jsonRecords(message: Buffer): HubMessage[] {
  return parseHubMessages(message.toString('utf8'));
}

async function restPost(svc: RunningService, path: string, body: string, contentType = 'application/json') {
  const url = `${svc.url}${path}`;
  const res = await http('POST', url, {
    headers: {
      Authorization: `Bearer ${await createRestToken(PRIMARY_KEY, url)}`,
      'Content-Type': contentType,
    },
    body,
  });
  expect(res.status).toBe(202);
}

function officialClient(
  svc: RunningService,
  protocol: 'json' | 'messagepack',
  userId: string,
): HubConnection {
  const url = clientUrl(svc.url, 'chat');
  const builder = new HubConnectionBuilder()
    .withUrl(url, {
      transport: HttpTransportType.WebSockets,
      accessTokenFactory: () => createClientToken(PRIMARY_KEY, url, { userId }),
    })
    .configureLogging(LogLevel.None);
  if (protocol === 'messagepack') builder.withHubProtocol(new MessagePackHubProtocol());
  const connection = builder.build();
  defer(() => connection.stop());
  return connection;
}

describe('write coalescing on WebSockets', () => {
  it('signalr dialect, JSON: the records of one turn arrive as one WebSocket message, in order', async () => {
    const svc = await service();
    const client = await SignalRRawClient.open(svc.url, 'chat', 'ann');
    defer(() => client.close());
    // One client message with five refused invocations: five Completions written during one turn.
    client.ws.send(refusedInvocations(5).map(writeHubMessage).join(''));
    for (let i = 0; i < 5; i++) await client.next();
    expect(idsOf(client.messages)).toEqual(['1', '2', '3', '4', '5'].map((id) => [3, id]));
    for (const m of client.messages) expect((m as { error?: string }).error).toMatch(/^Invocation refused/);
    expect(client.frames).toHaveLength(1);
    expect(client.frames[0]?.split('\x1e')).toHaveLength(6); // five records, each ended by 0x1E
  });

  it('signalr dialect, MessagePack: the records of one turn arrive as one binary WebSocket message, in order', async () => {
    const svc = await service();
    const { wsUrl } = await negotiated(svc, 'ann');
    const socket = rawSocket(wsUrl);
    await once(socket.ws, 'open');
    socket.ws.send(Buffer.from('{"protocol":"messagepack","version":1}\x1e'), { binary: true });
    await socket.received(1);
    expect(socket.messages[0]?.toString('utf8')).toBe('{}\x1e');
    socket.ws.send(Buffer.concat(refusedInvocations(5).map((m) => writeMessagePackMessage(m))), {
      binary: true,
    });
    await socket.received(2);
    expect(socket.messages).toHaveLength(2);
    const records = parseMessagePackMessages(socket.messages[1] as Buffer);
    expect(idsOf(records)).toEqual(['1', '2', '3', '4', '5'].map((id) => [3, id]));
  });

  it('a burst of REST broadcasts reaches official JSON and MessagePack clients complete and in the order a raw client sees', async () => {
    const svc = await service();
    const count = 60;
    const clients = [officialClient(svc, 'json', 'ann'), officialClient(svc, 'messagepack', 'bob')];
    const seen = clients.map((connection) => {
      const texts: number[] = [];
      const all = new Promise<void>((resolve) =>
        connection.on('message', (n: number) => {
          texts.push(n);
          if (texts.length === count) resolve();
        }),
      );
      return { texts, all };
    });
    await Promise.all(clients.map((c) => c.start()));
    const raw = await SignalRRawClient.open(svc.url, 'chat', 'cyd');
    defer(() => raw.close());

    // Sent at once: the service reads many of them in the same turn.
    await Promise.all(
      Array.from({ length: count }, (_, n) =>
        restPost(svc, '/api/v1/hubs/chat', JSON.stringify({ target: 'message', arguments: [n] })),
      ),
    );
    await Promise.all(seen.map((s) => s.all));
    while (raw.messages.length < count) await raw.next();
    const order = raw.messages.map((m) => (m as { arguments?: number[] }).arguments?.[0]);
    expect([...order].sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(
      Array.from({ length: count }, (_, n) => n),
    );
    for (const s of seen) expect(s.texts).toEqual(order);
    // However they were grouped, the raw client's messages hold every record exactly once.
    expect(raw.frames.flatMap((frame) => parseHubMessages(frame))).toHaveLength(count);
  });

  it('Web PubSub, plain WebSocket: still one chat message per WebSocket message, complete and in the same order for every connection', async () => {
    const svc = await service();
    const webPubSub = new WebPubSubServiceClient(
      `Endpoint=${svc.endpoint};AccessKey=${DEV_WEBPUBSUB_ACCESS_KEY};Version=1.0;`,
      'chat',
      { allowInsecureConnection: true },
    );
    const { url } = await webPubSub.getClientAccessToken({ userId: 'ann' });
    const clients = [new TestClient(url), new TestClient(url)];
    for (const c of clients) defer(() => c.close());
    await Promise.all(clients.map((c) => c.opened));
    const count = 60;
    const bodies = Array.from({ length: count }, (_, n) => `message ${n} ${'x'.repeat(n * 10)}`);
    await Promise.all(bodies.map((body) => webPubSub.sendToUser('ann', body, { contentType: 'text/plain' })));
    const received = await Promise.all(
      clients.map(async (c) => {
        const texts: string[] = [];
        for (let i = 0; i < count; i++) texts.push((await c.next()).text);
        return texts;
      }),
    );
    expect([...(received[0] ?? [])].sort()).toEqual([...bodies].sort());
    expect(received[1]).toEqual(received[0]);
  });

  it('counts the records held for the end of the turn as buffered: a slow-consumer close at maxOutboundBytes, after what was sent before it', async () => {
    const svc = await service({ maxOutboundBytes: 10_000 });
    const client = await SignalRRawClient.open(svc.url, 'chat', 'ann');
    defer(() => client.close());
    // Eight Completions of about 2 100 bytes each in one turn: the fifth would pass 10 000 bytes waiting.
    const id = (i: number) => `${i}`.padEnd(2000, '-');
    client.ws.send(refusedInvocations(8, id).map(writeHubMessage).join(''));
    const closed = await client.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toContain('Slow consumer');
    expect(idsOf(client.messages)).toEqual([
      [3, id(1)],
      [3, id(2)],
      [3, id(3)],
      [3, id(4)],
      [7, undefined],
    ]);
    expect((client.messages[4] as { error?: string }).error).toContain('Slow consumer');
    expect(client.frames).toHaveLength(1); // the Close message is queued behind the records, not before them
  });

  it('stateful reconnect: the Sequence message and every unacknowledged record are resent exactly, in one message', async () => {
    const svc = await service();
    const { connectionId, wsUrl } = await negotiated(svc, 'ann', '&useStatefulReconnect=true');
    const first = rawSocket(wsUrl);
    await once(first.ws, 'open');
    first.ws.send('{"protocol":"json","version":2}\x1e');
    await first.received(1);
    expect(first.messages[0]?.toString('utf8')).toBe('{}\x1e');
    for (const text of ['one', 'two', 'three']) {
      await restPost(
        svc,
        `/api/v1/hubs/chat/connections/${connectionId}`,
        JSON.stringify({ target: 'message', arguments: [text] }),
      );
    }
    while (first.messages.flatMap((m, i) => (i === 0 ? [] : jsonRecords(m))).length < 3)
      await first.received(first.messages.length + 1);
    // Nothing acknowledged; the client vanishes and comes back on a new WebSocket with the same token.
    first.ws.terminate();
    const second = rawSocket(wsUrl);
    await second.received(1);
    expect(second.messages).toHaveLength(1);
    expect(jsonRecords(second.messages[0] as Buffer)).toEqual([
      { type: 9, sequenceId: 1 },
      { type: 1, target: 'message', arguments: ['one'] },
      { type: 1, target: 'message', arguments: ['two'] },
      { type: 1, target: 'message', arguments: ['three'] },
    ]);
  });
});
