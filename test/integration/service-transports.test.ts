/**
 * The signalr dialect's three transports (WebSockets, Server-Sent Events, Long Polling) in the local service:
 * the official `@microsoft/signalr` client forced onto each one, and raw HTTP requests that check the
 * answers of ASP.NET Core's transport protocol (SSE framing, long-poll codes, texts) and that limits,
 * keep-alive and close reasons hold on every transport.
 */
import { once } from 'node:events';
import { type IncomingMessage, request } from 'node:http';
import { HttpTransportType, HubConnectionBuilder, LogLevel } from '@microsoft/signalr';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { writeCompletion } from '../../src/lib/signalr/hub-codec.js';
import { clientUrl, createClientToken, createRestToken } from '../../src/lib/signalr/tokens.js';
import type { RunningService } from '../../src/local/service/index.js';
import { formatEvent } from '../../src/local/service/transports/server-sent-events.js';
import { http, PRIMARY_KEY, refusedHandshake, useServiceTest } from '../support/local-service.js';

const { upstream, service, defer } = useServiceTest();

const TRANSPORTS = [
  ['WebSockets', HttpTransportType.WebSockets],
  ['ServerSentEvents', HttpTransportType.ServerSentEvents],
  ['LongPolling', HttpTransportType.LongPolling],
] as const;

function officialClient(svc: RunningService, transport: HttpTransportType, user = 'ann') {
  const url = clientUrl(svc.url, 'chat');
  const connection = new HubConnectionBuilder()
    .withUrl(url, {
      transport,
      accessTokenFactory: () => createClientToken(PRIMARY_KEY, url, { userId: user }),
    })
    .configureLogging(LogLevel.None)
    .build();
  defer(() => connection.stop());
  return connection;
}

async function restCall(svc: RunningService, method: string, path: string, body?: unknown) {
  const url = `${svc.url}/api/v1/hubs/chat${path}`;
  const [bare] = url.split('?');
  return http(method, url, {
    headers: {
      Authorization: `Bearer ${await createRestToken(PRIMARY_KEY, bare ?? url)}`,
      'Content-Type': 'application/json',
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** A negotiated connection token and the token for the requests that use it. */
async function negotiate(svc: RunningService, user = 'ann') {
  const token = await createClientToken(PRIMARY_KEY, clientUrl(svc.url, 'chat'), {
    userId: user,
  });
  const res = await http('POST', `${svc.url}/client/negotiate?hub=chat&negotiateVersion=1`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  const body = JSON.parse(res.text) as { connectionId: string; connectionToken: string };
  return {
    ...body,
    token,
    url: `${svc.url}/client/?hub=chat&id=${body.connectionToken}`,
    auth: { Authorization: `Bearer ${token}` },
  };
}

/** An event stream read as it arrives. */
async function openEventStream(url: string) {
  const req = request(url, { headers: { Accept: 'text/event-stream' } });
  req.end();
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  let text = '';
  const waiters: Array<() => void> = [];
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    text += chunk;
    for (const wake of waiters.splice(0)) wake();
  });
  const ended = once(res, 'end').then(() => undefined);
  defer(() => req.destroy());
  return {
    res,
    ended,
    get text() {
      return text;
    },
    async until(predicate: (text: string) => boolean): Promise<string> {
      while (!predicate(text)) await new Promise<void>((resolve) => waiters.push(resolve));
      return text;
    },
  };
}

describe('transports of the signalr dialect', () => {
  for (const [name, transport] of TRANSPORTS) {
    it(`carries send, invoke and a REST broadcast for the official client over ${name}`, async () => {
      // A framed Completion, as the Functions SignalR extension answers an invocation.
      const up = await upstream((call) =>
        call.event === 'ask'
          ? { body: writeCompletion('json', JSON.parse(call.text).invocationId, { result: { answer: 42 } }) }
          : undefined,
      );
      const svc = await service({ upstream: `${up.url}/api/messages?event={event}` });
      const connection = officialClient(svc, transport);
      const received = new Promise<unknown[]>((resolve) => {
        connection.on('message', (...args: unknown[]) => resolve(args));
      });
      await connection.start();
      const [connected] = await up.waitFor((c) => c.event === 'connected');
      expect(connected?.connectionId).toBe(connection.connectionId);

      await connection.send('send', { text: 'hello\nworld' });
      const [send] = await up.waitFor((c) => c.event === 'send');
      expect(JSON.parse(send?.text ?? '')).toEqual({
        type: 1,
        target: 'send',
        arguments: [{ text: 'hello\nworld' }],
      });
      expect(await connection.invoke('ask', 1)).toEqual({ answer: 42 });

      const broadcast = await restCall(svc, 'POST', '', {
        target: 'message',
        arguments: [{ text: 'line one\nline two\r\nline three' }],
      });
      expect(broadcast.status).toBe(202);
      expect(await received).toEqual([{ text: 'line one\nline two\r\nline three' }]);

      await connection.stop();
      const [disconnected] = await up.waitFor((c) => c.event === 'disconnected');
      expect(disconnected?.text).toBe('{"type":11}');
    });

    it(`surfaces a REST close reason to the official client over ${name}`, async () => {
      const up = await upstream();
      const svc = await service({ upstream: `${up.url}/u` });
      const connection = officialClient(svc, transport);
      const closed = new Promise<Error | undefined>((resolve) => connection.onclose(resolve));
      await connection.start();
      const res = await restCall(svc, 'DELETE', `/connections/${connection.connectionId}?reason=maintenance`);
      expect(res.status).toBe(202); // v1 CloseClientConnection answers 202 (data-plane v1 spec)
      expect(String(await closed)).toContain('maintenance');
      const [disconnected] = await up.waitFor((c) => c.event === 'disconnected');
      expect(disconnected?.text).toBe('{"type":11,"error":"maintenance"}');
    });
  }

  it('frames each message as one event, one data line per line, as ASP.NET Core formats it', () => {
    expect(formatEvent('{"type":6}\x1e')).toBe('data: {"type":6}\x1e\r\n\r\n');
    expect(formatEvent('a\r\nb\nc')).toBe('data: a\r\ndata: b\r\ndata: c\r\n\r\n');
    expect(formatEvent('')).toBe('data: \r\n\r\n');
  });

  it('answers Server-Sent Events as ASP.NET Core does: headers, the opening comment, events, POST sends', async () => {
    const up = await upstream();
    const svc = await service({ upstream: `${up.url}/u` });
    const n = await negotiate(svc);
    const stream = await openEventStream(`${n.url}&access_token=${n.token}`);
    expect(stream.res.statusCode).toBe(200);
    expect(stream.res.headers).toMatchObject({
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache, no-store',
      'content-encoding': 'identity',
    });
    await stream.until((t) => t.startsWith(':\r\n'));
    // A POST without the Authorization header is refused: the query token counts on the event stream only.
    const noHeader = await http('POST', `${n.url}&access_token=${n.token}`, {
      body: '{"protocol":"json","version":1}\x1e',
    });
    expect(noHeader.status).toBe(401);
    const posted = await http('POST', n.url, {
      headers: n.auth,
      body: '{"protocol":"json","version":1}\x1e{"type":1,"target":"hi","arguments":[]}\x1e',
    });
    expect(posted.status).toBe(200);
    expect(posted.text).toBe('');
    await stream.until((t) => t.includes('data: {}\x1e\r\n\r\n'));
    await up.waitFor((c) => c.event === 'hi');
    // A second event stream for the same connection, and a long poll on it, are refused.
    const second = await http('GET', n.url, { headers: { ...n.auth, Accept: 'text/event-stream' } });
    expect(second.status).toBe(409);
    const poll = await http('GET', n.url, { headers: n.auth });
    expect(poll.status).toBe(400);
    expect(poll.text).toBe('Cannot change transports mid-connection');
    const del = await http('DELETE', n.url, { headers: n.auth });
    expect(del.status).toBe(400);
    expect(del.text).toBe('Cannot terminate this connection using the DELETE endpoint.');
    // The client leaves by dropping the stream: a normal close.
    stream.res.destroy();
    const [disconnected] = await up.waitFor((c) => c.event === 'disconnected');
    expect(disconnected?.text).toBe('{"type":11}');
  });

  it('answers long polls as ASP.NET Core does: 200 at once, 200 with data, 200 empty on timeout, 204 once closed, DELETE 202', async () => {
    const up = await upstream();
    const svc = await service({ upstream: `${up.url}/u`, longPollingTimeoutMs: 50 });
    const n = await negotiate(svc);
    const first = await http('GET', n.url, { headers: n.auth });
    expect(first.status).toBe(200);
    expect(first.text).toBe('');
    expect(first.headers['content-type']).toBe('application/octet-stream');
    expect(first.headers['cache-control']).toBe('no-cache, no-store');
    expect(first.headers.expires).toBe('Thu, 01 Jan 1970 00:00:00 GMT');
    const handshake = await http('POST', n.url, {
      headers: n.auth,
      body: '{"protocol":"json","version":1}\x1e',
    });
    expect(handshake.status).toBe(200);
    const answered = await http('GET', n.url, { headers: n.auth });
    expect(answered.status).toBe(200);
    expect(answered.text).toBe('{}\x1e');
    // Nothing to send within longPollingTimeoutMs: 200, empty, so the client polls again.
    const idle = await http('GET', n.url, { headers: n.auth });
    expect(idle.status).toBe(200);
    expect(idle.text).toBe('');
    expect(idle.headers['content-type']).toBe('text/plain');
    // Two messages sent at once leave in one response.
    await up.waitFor((c) => c.event === 'connected');
    const poll = http('GET', n.url, { headers: n.auth });
    await restCall(svc, 'POST', `/connections/${n.connectionId}`, { target: 'a', arguments: [1] });
    const both = await poll;
    expect(both.status).toBe(200);
    expect(both.text).toContain('{"type":1,"target":"a","arguments":[1]}\x1e');
    // DELETE ends the connection: the poll still waiting gets 204, and the connection is gone.
    const waiting = http('GET', n.url, { headers: n.auth });
    const deleted = await http('DELETE', n.url, { headers: n.auth });
    expect(deleted.status).toBe(202);
    expect((await waiting).status).toBe(204);
    const [disconnected] = await up.waitFor((c) => c.event === 'disconnected');
    expect(disconnected?.text).toBe('{"type":11}');
    expect((await http('GET', n.url, { headers: n.auth })).status).toBe(404);
  });

  it('refuses what ASP.NET Core refuses, with its texts: no id, unknown id, a long poll without a header', async () => {
    const svc = await service();
    const n = await negotiate(svc);
    const noId = await http('GET', `${svc.url}/client/?hub=chat`, { headers: n.auth });
    expect(noId.status).toBe(400);
    expect(noId.text).toBe('Connection ID required');
    const unknown = await http('GET', `${svc.url}/client/?hub=chat&id=nope`, { headers: n.auth });
    expect(unknown.status).toBe(404);
    expect(unknown.text).toBe('No Connection with that ID');
    const post = await http('POST', `${svc.url}/client/?hub=chat&id=nope`, { headers: n.auth, body: 'x' });
    expect(post.status).toBe(404);
    const queryToken = await http('GET', `${n.url}&access_token=${n.token}`);
    expect(queryToken.status).toBe(401);
    const other = await createClientToken(PRIMARY_KEY, clientUrl(svc.url, 'chat'), {
      userId: 'bob',
    });
    const mismatch = await http('GET', n.url, { headers: { Authorization: `Bearer ${other}` } });
    expect(mismatch.status).toBe(401);
    // A WebSocket connection takes no POSTs, and no second WebSocket (without stateful reconnect).
    const ws = await negotiate(svc);
    const socketUrl = `${ws.url.replace('http', 'ws')}&access_token=${ws.token}`;
    const socket = new WebSocket(socketUrl);
    defer(() => socket.terminate());
    await once(socket, 'open');
    const posted = await http('POST', ws.url, { headers: ws.auth, body: '{"type":6}\x1e' });
    expect(posted.status).toBe(405);
    expect(posted.text).toBe('POST requests are not allowed for WebSocket connections.');
    expect((await refusedHandshake(socketUrl)).status).toBe(409);
  });

  it('sends Pings on Server-Sent Events and none on Long Polling, and times out a silent event-stream client', async () => {
    const up = await upstream();
    const svc = await service({
      upstream: `${up.url}/u`,
      keepAliveIntervalMs: 20,
      clientTimeoutMs: 200,
      longPollingTimeoutMs: 300,
      shutdownGraceMs: 50,
    });
    const sse = await negotiate(svc);
    const stream = await openEventStream(`${sse.url}&access_token=${sse.token}`);
    await http('POST', sse.url, { headers: sse.auth, body: '{"protocol":"json","version":1}\x1e' });
    await stream.until((t) => t.includes('data: {"type":6}\x1e'));
    await stream.ended;
    expect(stream.text).toContain(
      'data: {"type":7,"error":"Server timeout: no message from the client within 200 ms"}\x1e',
    );
    const [timedOut] = await up.waitFor((c) => c.event === 'disconnected');
    expect(JSON.parse(timedOut?.text ?? '').error).toBe(
      'No message from the client within 200 ms (clientTimeoutMs)',
    );

    // Long Polling: the client polls but sends nothing, for longer than clientTimeoutMs; it is not cut off.
    const lp = await negotiate(svc, 'bo');
    await http('GET', lp.url, { headers: lp.auth });
    await http('POST', lp.url, { headers: lp.auth, body: '{"protocol":"json","version":1}\x1e' });
    expect((await http('GET', lp.url, { headers: lp.auth })).text).toBe('{}\x1e');
    for (let i = 0; i < 2; i++) {
      const poll = await http('GET', lp.url, { headers: lp.auth });
      expect(poll.status).toBe(200);
      expect(poll.text).toBe('');
    }
    expect(up.calls.filter((c) => c.event === 'disconnected')).toHaveLength(1);
  });

  it('gives up a long-polling client that stops polling, after longPollingDisconnectTimeoutMs', async () => {
    const up = await upstream();
    const svc = await service({ upstream: `${up.url}/u`, longPollingDisconnectTimeoutMs: 100 });
    const n = await negotiate(svc);
    await http('GET', n.url, { headers: n.auth });
    await http('POST', n.url, { headers: n.auth, body: '{"protocol":"json","version":1}\x1e' });
    await up.waitFor((c) => c.event === 'connected');
    const [disconnected] = await up.waitFor((c) => c.event === 'disconnected');
    expect(JSON.parse(disconnected?.text ?? '')).toEqual({
      type: 11,
      error:
        'The connection closed abnormally (code 1006: No poll within 100 ms (longPollingDisconnectTimeoutMs))',
    });
    expect((await http('GET', n.url, { headers: n.auth })).status).toBe(404);
  });

  it('closes a long-polling slow consumer, with the reason in its Close message', async () => {
    const up = await upstream();
    const svc = await service({ upstream: `${up.url}/u`, maxOutboundMessages: 3 });
    const n = await negotiate(svc);
    await http('GET', n.url, { headers: n.auth });
    await http('POST', n.url, { headers: n.auth, body: '{"protocol":"json","version":1}\x1e' });
    await up.waitFor((c) => c.event === 'connected');
    // The handshake answer waits for a poll, then three more messages: the fourth is one too many.
    for (let i = 0; i < 3; i++) {
      await restCall(svc, 'POST', `/connections/${n.connectionId}`, { target: 'm', arguments: [i] });
    }
    const poll = await http('GET', n.url, { headers: n.auth });
    expect(poll.text).toContain(
      '{"type":7,"error":"Slow consumer: more than 3 messages or 16777216 bytes waiting to be read"}\x1e',
    );
    expect((await http('GET', n.url, { headers: n.auth })).status).toBe(204);
    const [disconnected] = await up.waitFor((c) => c.event === 'disconnected');
    expect(JSON.parse(disconnected?.text ?? '').error).toContain('Slow consumer');
  });

  it('refuses a POST body over maxMessageBytes with 413 and a record over it with a Close message', async () => {
    const up = await upstream();
    const svc = await service({ upstream: `${up.url}/u`, maxMessageBytes: 512, shutdownGraceMs: 50 });
    const n = await negotiate(svc);
    await http('GET', n.url, { headers: n.auth });
    await http('POST', n.url, { headers: n.auth, body: '{"protocol":"json","version":1}\x1e' });
    const big = await http('POST', n.url, { headers: n.auth, body: 'x'.repeat(600) });
    expect(big.status).toBe(413);
    expect(JSON.parse(big.text).message).toContain('maxMessageBytes');
    // Records that span POSTs count together.
    for (let i = 0; i < 2; i++) {
      expect((await http('POST', n.url, { headers: n.auth, body: 'y'.repeat(300) })).status).toBe(200);
    }
    const poll = await http('GET', n.url, { headers: n.auth });
    expect(poll.text).toContain(
      '{"type":7,"error":"A record is larger than 512 bytes (maxMessageBytes)"}\x1e',
    );
  });

  it('on shutdown delivers disconnected, then tells event-stream and long-polling clients with a Close message', async () => {
    const up = await upstream();
    const svc = await service({ upstream: `${up.url}/u` });
    const sse = await negotiate(svc);
    const stream = await openEventStream(`${sse.url}&access_token=${sse.token}`);
    await http('POST', sse.url, { headers: sse.auth, body: '{"protocol":"json","version":1}\x1e' });
    const lp = await negotiate(svc, 'bo');
    await http('GET', lp.url, { headers: lp.auth });
    await http('POST', lp.url, { headers: lp.auth, body: '{"protocol":"json","version":1}\x1e' });
    await up.waitFor((c) => c.event === 'connected', 2);
    const poll = http('GET', lp.url, { headers: lp.auth });
    expect((await poll).text).toBe('{}\x1e');
    const waiting = http('GET', lp.url, { headers: lp.auth });
    // The poll must be waiting at the service when shutdown begins (a poll that comes after its connection
    // was shut down gets 404, as in ASP.NET Core): give the request time to arrive.
    await new Promise((resolve) => setTimeout(resolve, 200));
    await svc.close();
    const close = '{"type":7,"error":"The service is shutting down","allowReconnect":true}\x1e';
    expect((await waiting).text).toBe(close);
    await stream.ended;
    expect(stream.text).toContain(`data: ${close}\r\n\r\n`);
    expect(up.calls.filter((c) => c.event === 'disconnected').map((c) => c.text)).toEqual([
      '{"type":11}',
      '{"type":11}',
    ]);
  });
});
