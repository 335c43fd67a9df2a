import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpPost, listenOnLoopback } from '../../bench/net.js';

/** A loopback server that echoes what it got as JSON, or answers 500 with a reason at `/fail`. */
let server: Server;
let origin = '';

function bodyOf(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const body = await bodyOf(req);
    if (req.url === '/fail') {
      res.writeHead(500, { 'content-type': 'text/plain' }).end('no room for you');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        method: req.method,
        url: req.url,
        body,
        length: req.headers['content-length'],
        type: req.headers['content-type'] ?? null,
        auth: req.headers.authorization ?? null,
      }),
    );
  });
  origin = `http://127.0.0.1:${await listenOnLoopback(server)}`;
});

afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe('bench httpPost', () => {
  it('POSTs no body with content-length 0 and the given headers, and resolves with the answer text', async () => {
    const url = new URL(`${origin}/negotiate`);
    url.searchParams.set('name', 'ada');
    const answer = JSON.parse(await httpPost(url, 'negotiate', { headers: { authorization: 'Bearer t' } }));
    expect(answer).toEqual({
      method: 'POST',
      url: '/negotiate?name=ada',
      body: '',
      length: '0',
      type: null,
      auth: 'Bearer t',
    });
  });

  it('sends a text body (UTF-8, its byte length) as text/plain', async () => {
    const answer = JSON.parse(await httpPost(`${origin}/broadcast`, 'broadcast', { body: 'héllo' }));
    expect(answer).toMatchObject({ body: 'héllo', length: '6', type: 'text/plain;charset=UTF-8' });
  });

  it('rejects a non-2xx answer with what was asked, the status and the answer text', async () => {
    await expect(httpPost(`${origin}/fail`, 'negotiate for ada')).rejects.toThrow(
      'negotiate for ada: HTTP 500 no room for you',
    );
  });

  it('reuses its kept-alive socket for calls one after another', async () => {
    const sockets = new Set<unknown>();
    const count = (_req: IncomingMessage, res: { socket: unknown }) => sockets.add(res.socket);
    server.on('request', count);
    try {
      for (let i = 0; i < 3; i++) await httpPost(`${origin}/again`, 'again');
    } finally {
      server.off('request', count);
    }
    expect(sockets.size).toBe(1);
  });
});
