/**
 * Input a hostile or careless client sends the local service: invocation targets that cannot travel upstream,
 * records split into thousands of tiny frames, and MessagePack that declares more than it holds.
 */
import { once } from 'node:events';
import { type IncomingMessage, request } from 'node:http';
import { HttpTransportType, HubConnectionBuilder, LogLevel } from '@microsoft/signalr';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { HubMessageType } from '../../src/lib/signalr/hub-protocol.js';
import { withLengthPrefix } from '../../src/lib/signalr/messagepack.js';
import { clientUrl, createClientToken } from '../../src/lib/signalr/tokens.js';
import {
  acceptEveryEvent,
  PRIMARY_KEY,
  recordingLog,
  type TestUpstream,
  useServiceTest,
  webPubSubClientUrl,
  webPubSubEventsTo,
} from '../support/local-service.js';
import { SignalRRawClient } from '../support/signalr-raw-client.js';

const { upstream, service, defer } = useServiceTest();

/** Targets that cannot be an `X-ASRS-Event` header or an `{event}` URL segment unchanged. */
const BAD_TARGETS = [
  'sénd',
  '消息',
  'a\rb',
  'a\nb',
  'a\u0000b',
  'a\u0007b',
  'a\u007fb',
  ' send',
  'send ',
  '.',
  '..',
];

describe('invocation targets the upstream cannot receive', () => {
  it('are answered with a Completion error when the client waits, dropped with a logged reason otherwise, and the connection stays open', async () => {
    const up = await upstream();
    const log = recordingLog();
    const svc = await service({ upstream: `${up.url}/api/{event}`, log: log.log });
    const client = await SignalRRawClient.open(svc.url, 'chat', 'ann');
    defer(() => client.close());
    await up.waitFor((c) => c.event === 'connected');

    for (const [i, target] of BAD_TARGETS.entries()) {
      client.send({ type: 1, invocationId: `bad-${i}`, target, arguments: [] });
      const completion = await client.next((m) => m.type === 3 && m.invocationId === `bad-${i}`);
      expect(completion).toMatchObject({ type: 3, invocationId: `bad-${i}` });
      expect((completion as { error?: string }).error).toMatch(/^Invocation refused: the target/);
    }
    for (const target of BAD_TARGETS) client.send({ type: 1, target, arguments: [] });
    // A good invocation after all of them still reaches the upstream: the connection is open and in order.
    client.send({ type: 1, invocationId: 'good', target: 'send', arguments: [{ text: 'still here' }] });
    expect(await client.next((m) => m.type === 3 && m.invocationId === 'good')).toEqual({
      type: 3,
      invocationId: 'good',
    });
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
    expect(up.calls.filter((c) => c.event !== 'connected').map((c) => c.event)).toEqual(['send']);
    expect(up.calls.every((c) => c.path === '/api/connected' || c.path === '/api/send')).toBe(true);
    const drops = log.entries.filter((e) => e.message.startsWith('Dropped an invocation'));
    expect(drops).toHaveLength(BAD_TARGETS.length);
    expect(drops[2]?.fields).toMatchObject({ target: '"a\\rb"' });
  });

  it('are refused to the official @microsoft/signalr client, whose connection stays usable', async () => {
    const up = await upstream();
    const svc = await service({ upstream: `${up.url}/api/{event}` });
    const url = clientUrl(svc.url, 'chat');
    const token = await createClientToken(PRIMARY_KEY, url, { userId: 'ann' });
    const connection = new HubConnectionBuilder()
      .withUrl(url, { transport: HttpTransportType.WebSockets, accessTokenFactory: () => token })
      .configureLogging(LogLevel.None)
      .build();
    defer(() => connection.stop());
    await connection.start();
    await expect(connection.invoke('sénd', 1)).rejects.toThrow(/Invocation refused: the target/);
    await expect(connection.invoke('a\r\nX-Injected: 1', 1)).rejects.toThrow(/control characters/);
    await expect(connection.invoke('..', 1)).rejects.toThrow(/dot segment/);
    await connection.send('sénd', 1); // dropped, logged
    await connection.invoke('ask'); // an empty 200: a Completion without a result
    expect(up.calls.map((c) => c.event)).toEqual(['connected', 'ask']);
    expect(connection.state).toBe('Connected');
  });
});

describe('a call whose headers cannot be sent', () => {
  it('fails with a Completion error that names the header, and the connection stays open', async () => {
    const up = await upstream();
    const log = recordingLog();
    const svc = await service({ upstream: `${up.url}/api/{event}`, log: log.log });
    // A claim value outside Latin-1 cannot be an X-ASRS-User-Claims header value.
    const client = await SignalRRawClient.open(svc.url, 'chat', 'ann', { claims: { nick: '名前' } });
    defer(() => client.close());
    client.send({ type: 1, invocationId: '1', target: 'send', arguments: [] });
    const completion = await client.next((m) => m.type === 3);
    expect((completion as { error?: string }).error).toBe(
      'Invocation failed, the call cannot be sent upstream: its X-ASRS-User-Claims header would not be valid HTTP',
    );
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
    expect(up.calls).toEqual([]);
  });
});

describe('a record split into tiny frames', () => {
  it('is reassembled whole, and one over maxMessageBytes sent as 22 000 frames is closed with 1009', async () => {
    const up = await upstream();
    const svc = await service({ upstream: `${up.url}/api/{event}`, maxMessageBytes: 64 * 1024 });
    const client = await SignalRRawClient.open(svc.url, 'chat', 'ann');
    defer(() => client.close());

    const record = JSON.stringify({ type: 1, target: 'send', arguments: [{ text: 'é'.repeat(2000) }] });
    const bytes = Buffer.from(record, 'utf8');
    // Frames must be valid UTF-8 on their own: split only before a byte that starts a character.
    for (let start = 0; start < bytes.length; ) {
      let end = Math.min(start + 3, bytes.length);
      while (end < bytes.length && ((bytes[end] as number) & 0xc0) === 0x80) end++;
      client.ws.send(bytes.subarray(start, end).toString('utf8'));
      start = end;
    }
    client.ws.send('\x1e');
    const [send] = await up.waitFor((c) => c.event === 'send');
    expect(send?.text).toBe(record);

    const frame = 'x'.repeat(3);
    for (let i = 0; i < 22_000; i++) client.ws.send(frame);
    const closed = await client.closed;
    expect(closed.code).toBe(1009);
    expect(closed.reason).toContain('maxMessageBytes');
    const [disconnected] = await up.waitFor((c) => c.event === 'disconnected');
    expect(JSON.parse(disconnected?.text ?? '{}').error).toContain('maxMessageBytes');
  });
});

describe('a MessagePack message that declares more than it holds, or nests too deep', () => {
  async function twoClients(svc: { url: string }) {
    const open = (user: string) => SignalRRawClient.open(svc.url, 'chat', user, { protocol: 'messagepack' });
    const [bob, eve] = await Promise.all([open('bob'), open('eve')]);
    defer(() => bob.close());
    defer(() => eve.close());
    return { bob, eve };
  }

  /** The Close message, the WebSocket close and the `disconnected` upstream `eve` gets for a refused message. */
  async function refusalOf(eve: SignalRRawClient, up: TestUpstream) {
    const close = (await eve.next((m) => m.type === HubMessageType.Close)) as { error?: string };
    const closed = await eve.closed;
    const [disconnected] = await up.waitFor(
      (c) => c.event === 'disconnected' && c.connectionId === eve.connectionId,
    );
    return {
      error: close.error,
      closed,
      upstreamError: JSON.parse(disconnected?.text ?? '{}').error as string,
    };
  }

  it('closes the connection of 8 000 nested array32 headers declaring 99 999 elements each; the service and others carry on', async () => {
    const up = await upstream();
    const svc = await service({ upstream: `${up.url}/api/{event}` });
    const { bob, eve } = await twoClients(svc);
    const header = [0xdd, 0x00, 0x01, 0x86, 0x9f];
    eve.ws.send(withLengthPrefix(Uint8Array.from(new Array<number[]>(8000).fill(header).flat())));

    const refused = await refusalOf(eve, up);
    const reason =
      'Invalid MessagePack hub message: the array at byte 0 declares 99999 elements but only 39995 bytes follow (an element takes at least one)';
    expect(refused.error).toBe(reason);
    expect(refused.closed.code).toBe(1002);
    // The close reason is the same text, cut to the 123 bytes a WebSocket close frame holds.
    expect(refused.closed.reason).toBe(reason.slice(0, 123));
    expect(refused.upstreamError).toBe(reason);

    bob.send({ type: 1, invocationId: '1', target: 'send', arguments: [{ text: 'still here' }] });
    const answer = (await bob.next((m) => m.type === 3 && m.invocationId === '1')) as { error?: string };
    expect(answer).toMatchObject({ type: 3, invocationId: '1' });
    expect(answer.error).toBeUndefined();
    expect(bob.ws.readyState).toBe(WebSocket.OPEN);
    expect(up.calls.filter((c) => c.event === 'send').map((c) => c.connectionId)).toEqual([bob.connectionId]);
  });

  it('sends 500 nested arrays in an argument upstream unchanged and closes a connection that sends 501 (maxMessagePackDepth)', async () => {
    const up = await upstream();
    const svc = await service({ upstream: `${up.url}/api/{event}` });
    const { bob, eve } = await twoClients(svc);
    // [1, {}, "1", "send", [argument]] with an argument of `levels` nested arrays around 42.
    const invocation = (levels: number) =>
      Uint8Array.from([
        ...[0x95, 0x01, 0x80, 0xa1, 0x31, 0xa4, ...Buffer.from('send'), 0x91],
        ...new Array<number>(levels).fill(0x91),
        0x2a,
      ]);
    bob.ws.send(withLengthPrefix(invocation(500)));
    await bob.next((m) => m.type === 3 && m.invocationId === '1');
    const [sent] = await up.waitFor((c) => c.event === 'send');
    expect(sent?.headers['content-type']).toBe('application/x-msgpack');
    expect(sent?.body.equals(invocation(500))).toBe(true);

    eve.ws.send(withLengthPrefix(invocation(501)));
    const refused = await refusalOf(eve, up);
    expect(refused.error).toBe(
      'Invalid MessagePack hub message: the array at byte 511 nests more than 500 arrays and maps deep in one value (maxMessagePackDepth)',
    );
    expect(refused.closed.code).toBe(1002);
    expect(up.calls.filter((c) => c.event === 'send')).toHaveLength(1);
    expect(bob.ws.readyState).toBe(WebSocket.OPEN);
  });
});

describe('a Web PubSub message split into many fragments', () => {
  async function fragmentingClient(options: { maxMessageBytes: number; maxMessageFragments?: number }) {
    const up = await upstream(acceptEveryEvent);
    const svc = await service({ ...webPubSubEventsTo(up), ...options });
    const ws = new WebSocket(await webPubSubClientUrl(svc, 'ann'));
    defer(() => ws.terminate());
    await once(ws, 'open');
    const closed = (once(ws, 'close') as Promise<[number, Buffer]>).then(
      ([code, reason]) => `${code} ${reason.toString()}`,
    );
    return { up, ws, closed };
  }

  it('reaches the upstream whole; more than maxMessageFragments fragments close with 1008 and a reason', async () => {
    const { up, ws, closed } = await fragmentingClient({ maxMessageBytes: 1024 * 1024 });
    // One message as 10 000 continuation frames of 4 bytes each.
    for (let i = 0; i < 10_000; i++) ws.send(Buffer.from('abcd'), { binary: true, fin: i === 9_999 });
    const [message] = await up.waitFor((c) => c.event === 'message');
    expect(message?.body.equals(Buffer.alloc(40_000, 'abcd'))).toBe(true);
    for (let i = 0; i < 22_000; i++) ws.send(Buffer.from('abc'), { binary: true, fin: false });
    expect(await closed).toBe('1008 A message is split into too many frames (maxMessageFragments)');
  });

  it('closes a message over maxMessageBytes with 1009 however it is split', async () => {
    const { ws, closed } = await fragmentingClient({ maxMessageBytes: 64 * 1024 });
    for (let i = 0; i < 10_000; i++) ws.send(Buffer.from('abcdefgh'), { binary: true, fin: false });
    expect(await closed).toBe('1009 A message is larger than 65536 bytes (maxMessageBytes)');
  });
});

describe('bodies of unauthenticated requests', () => {
  it('are never read: the REST API and negotiate answer 401 before the body arrives', async () => {
    const svc = await service();
    for (const path of [
      '/api/v1/hubs/chat',
      '/api/hubs/chat/users/ann/:send?api-version=2024-12-01',
      '/client/negotiate?hub=chat',
    ]) {
      const req = request(`${svc.url}${path}`, {
        method: 'POST',
        headers: { 'Content-Length': String(50 * 1024 * 1024), 'Content-Type': 'application/json' },
      });
      req.on('error', () => {});
      req.write('{"target":');
      const [res] = (await once(req, 'response')) as [IncomingMessage];
      res.resume();
      req.destroy();
      expect(res.statusCode, path).toBe(401);
    }
  });
});
