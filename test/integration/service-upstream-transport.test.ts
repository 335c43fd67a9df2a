import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { verifySignature } from '../../src/lib/signalr/signature.js';
import { DEFAULTS, resolveOptions, ServiceOptionsError } from '../../src/local/service/options.js';
import { SIGNALR_UPSTREAM } from '../../src/local/service/signalr/upstream-codec.js';
import { Upstream } from '../../src/local/service/upstream/upstream.js';
import { UpstreamTransport } from '../../src/local/service/upstream/upstream-transport.js';
import { PRIMARY_KEY, useServiceTest } from '../support/local-service.js';
import { SignalRRawClient } from '../support/signalr-raw-client.js';

/** A real upstream on port 0 that remembers every TCP connection it accepted. */
async function countingServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ url: string; server: Server; sockets: Socket[] }> {
  const server = createServer(handler);
  const sockets: Socket[] = [];
  server.on('connection', (socket) => sockets.push(socket));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, sockets };
}

const servers: Server[] = [];
const transports: UpstreamTransport[] = [];
afterEach(async () => {
  for (const transport of transports.splice(0)) transport.close();
  await Promise.all(
    servers.splice(0).map((server) => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    }),
  );
});

function transport(maxSockets: number = DEFAULTS.upstreamMaxSockets): UpstreamTransport {
  const made = new UpstreamTransport({ maxSockets });
  transports.push(made);
  return made;
}

/** Answers every request with its own body, after reading it. */
function echo(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => res.end(Buffer.concat(chunks)));
}

describe('upstream transport (node:http through a keep-alive agent)', () => {
  it('writes the request as Node writes one from a URL: path and query, Host, length, the headers as given', async () => {
    const seen: Array<{ url?: string; raw: string[] }> = [];
    const up = await countingServer((req, res) => {
      seen.push({ url: req.url, raw: req.rawHeaders });
      echo(req, res);
    });
    const t = transport();
    const url = new URL(`${up.url}/up/x?event=a%20b`);
    const withUser = new URL(`${up.url.replace('http://', 'http://us%20er:p%40ss@')}/u`);
    for (const target of [url, url, withUser]) {
      const result = await t.post(
        target,
        { 'ce-Type': 'a', 'Content-Type': 'text/plain' },
        'héllo',
        10_000,
        64,
      );
      expect(result.kind === 'response' && result.body.toString()).toBe('héllo');
    }
    const host = new URL(up.url).host;
    const expected = ['ce-Type', 'a', 'Content-Type', 'text/plain', 'Content-Length', '6', 'Host', host];
    expect(seen[0]).toEqual({ url: '/up/x?event=a%20b', raw: [...expected, 'Connection', 'keep-alive'] });
    expect(seen[1]).toEqual(seen[0]);
    // A URL's user and password go as Basic credentials, decoded, as Node sends them.
    const basic = `Basic ${Buffer.from('us er:p@ss').toString('base64')}`;
    expect(seen[2]?.raw).toEqual([...expected, 'Authorization', basic, 'Connection', 'keep-alive']);
    // A call's own Authorization (a managed identity's token) wins, given by name or in a list.
    await t.post(withUser, { Authorization: 'Bearer t' }, '', 10_000, 64);
    expect(seen[3]?.raw).toContain('Bearer t');
    expect(seen[3]?.raw).not.toContain(basic);
    await t.post(withUser, ['ce-Type', 'a', 'authorization', 'Bearer u'], '', 10_000, 64);
    expect(seen[4]?.raw).toEqual([
      'ce-Type',
      'a',
      'authorization',
      'Bearer u',
      'Content-Length',
      '0',
      'Host',
      host,
      'Connection',
      'keep-alive',
    ]);
  });

  it('sends calls one after another over one kept-alive connection', async () => {
    const up = await countingServer(echo);
    const t = transport();
    for (const text of ['one', 'two', 'three']) {
      const result = await t.post(new URL(`${up.url}/u`), {}, text, 10_000, 1024);
      expect(result).toMatchObject({ kind: 'response', status: 200 });
      expect(result.kind === 'response' && result.body.toString()).toBe(text);
    }
    expect(up.sockets).toHaveLength(1);
  });

  it('opens at most maxSockets connections; further calls wait for a free one', async () => {
    const up = await countingServer(echo);
    const t = transport(1);
    const results = await Promise.all(
      ['a', 'b', 'c'].map((text) => t.post(new URL(`${up.url}/u`), {}, text, 10_000, 1024)),
    );
    expect(results.map((r) => r.kind === 'response' && r.body.toString())).toEqual(['a', 'b', 'c']);
    expect(up.sockets).toHaveLength(1);
  });

  it('closes a pooled connection idle for idleSocketMs, and a slower call in flight still gets its answer', async () => {
    const up = await countingServer((req, res) => {
      req.resume();
      setTimeout(() => res.end('late'), 100);
    });
    // No idle timeout on the server's side: only the transport can end the idle connection.
    up.server.keepAliveTimeout = 0;
    const t = new UpstreamTransport({ maxSockets: 1, idleSocketMs: 20 });
    transports.push(t);
    const result = await t.post(new URL(`${up.url}/u`), {}, 'x', 10_000, 1024);
    expect(result.kind === 'response' && result.body.toString()).toBe('late');
    const [socket] = up.sockets;
    if (socket && !socket.destroyed) await once(socket, 'close');
    expect(socket?.destroyed).toBe(true);
  });

  it('gives response headers by any-case name, repeated ones joined', async () => {
    const up = await countingServer((_req, res) => {
      res.setHeader('X-ASRS-User-Id', 'ann');
      res.setHeader('Set-Cookie', ['a=1', 'b=2']);
      res.end();
    });
    const result = await transport().post(new URL(`${up.url}/u`), {}, '', 10_000, 1024);
    if (result.kind !== 'response') throw new Error(`expected a response, got ${result.kind}`);
    expect(result.headers.get('X-ASRS-User-Id')).toBe('ann');
    expect(result.headers.get('set-cookie')).toBe('a=1, b=2');
    expect(result.headers.get('content-type')).toBeNull();
  });

  it('refuses a declared Content-Length over the cap without reading it, and ends that connection', async () => {
    const up = await countingServer((_req, res) => {
      res.writeHead(200, { 'Content-Length': 10_000_000 });
      res.write(Buffer.alloc(1024));
      // Never finished: only ending the connection releases it.
    });
    const result = await transport().post(new URL(`${up.url}/u`), {}, 'x', 10_000, 1024);
    expect(result).toEqual({ kind: 'too-large' });
    const [socket] = up.sockets;
    if (socket && !socket.destroyed) await once(socket, 'close');
  });

  it('reports a call that gets no answer within its timeout as a timeout', async () => {
    const up = await countingServer(() => {
      // Never answers.
    });
    expect(await transport().post(new URL(`${up.url}/u`), {}, 'x', 50, 1024)).toEqual({ kind: 'timeout' });
  });

  it('reports a refused connection as unreachable with its code', async () => {
    const up = await countingServer(echo);
    const url = new URL(`${up.url}/u`);
    await new Promise((resolve) => up.server.close(resolve));
    expect(await transport().post(url, {}, 'x', 10_000, 1024)).toEqual({
      kind: 'unreachable',
      code: 'ECONNREFUSED',
    });
  });
});

describe('upstream signatures', () => {
  it('every call of a connection carries its valid signature, and none is kept once the connection has ended', async () => {
    const seen: { connection: string; signature: string }[] = [];
    const up = await countingServer((req, res) => {
      seen.push({
        connection: String(req.headers['x-asrs-connection-id']),
        signature: String(req.headers['x-asrs-signature']),
      });
      req.resume();
      req.on('end', () => res.end());
    });
    const upstream = new Upstream(
      resolveOptions({ upstream: `${up.url}/u`, accessKeys: [PRIMARY_KEY, 'second-key'], log: () => {} }),
    );
    try {
      const call = (connectionId: 'c1' | 'c2', event: string, category: 'connections' | 'messages') => ({
        codec: SIGNALR_UPSTREAM,
        hub: 'chat',
        category,
        event,
        connectionId,
      });
      for (const id of ['c1', 'c2'] as const) {
        await upstream.call(call(id, 'connected', 'connections'));
        await upstream.call(call(id, 'send', 'messages'));
        await upstream.call(call(id, 'send', 'messages'));
      }
      expect(upstream.cachedSignatures).toBe(2);
      await upstream.notify(call('c1', 'disconnected', 'connections'));
      await upstream.notify(call('c2', 'disconnected', 'connections'));
      expect(upstream.cachedSignatures).toBe(0);
      expect(seen).toHaveLength(8);
      for (const { connection, signature } of seen) {
        expect(verifySignature(signature, connection, [PRIMARY_KEY])).toBe(true);
        expect(verifySignature(signature, connection, ['second-key'])).toBe(true);
      }
      expect(verifySignature(seen[0]?.signature, 'c2', [PRIMARY_KEY])).toBe(false);
    } finally {
      upstream.close();
    }
  });
});

describe('upstream connections of the local service', () => {
  const { service, defer } = useServiceTest();

  it('reuses one connection for a client’s calls and closes it when the service closes', async () => {
    const events: string[] = [];
    let sent: () => void = () => {};
    const threeSent = new Promise<void>((resolve) => {
      sent = resolve;
    });
    const up = await countingServer((req, res) => {
      events.push(String(req.headers['x-asrs-event']));
      if (events.filter((event) => event === 'send').length === 3) sent();
      echo(req, res);
    });
    // No idle timeout on the upstream's side: only the service's close() can end the kept-alive connection.
    up.server.keepAliveTimeout = 0;
    const svc = await service({ upstream: `${up.url}/u` });
    const c = await SignalRRawClient.open(svc.url, 'chat', 'ann');
    defer(() => c.close());
    // One call at a time per connection: each waits for the one before, over the same kept-alive socket.
    for (const text of ['m1', 'm2', 'm3']) c.send({ type: 1, target: 'send', arguments: [text] });
    await threeSent;
    expect(events).toEqual(['connected', 'send', 'send', 'send']);
    expect(up.sockets).toHaveLength(1);
    await svc.close();
    const [socket] = up.sockets;
    if (socket && !socket.destroyed) await once(socket, 'close');
    expect(socket?.destroyed).toBe(true);
  });

  it('upstreamMaxSockets defaults to 256 and must be a whole positive number', () => {
    expect(resolveOptions().upstreamMaxSockets).toBe(256);
    expect(() => resolveOptions({ upstreamMaxSockets: 1.5 })).toThrow(
      new ServiceOptionsError('upstreamMaxSockets must be a whole number'),
    );
    expect(() => resolveOptions({ upstreamMaxSockets: 0 })).toThrow(/upstreamMaxSockets must be a positive/);
  });
});
