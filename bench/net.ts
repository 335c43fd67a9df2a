/** Loopback networking for the bench: listening for its own servers, and the clients' plain POSTs. */
import { once } from 'node:events';
import { Agent, request } from 'node:http';
import type { Server } from 'node:net';

/** Listens on a free loopback port and resolves with it. */
export async function listenOnLoopback(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

/**
 * Keep-alive sockets for {@link httpPost}: the joins' negotiates come 50 at a time, so they reuse a socket each
 * instead of a handshake per call. Idle sockets do not hold a process open.
 */
const keepAlive = new Agent({ keepAlive: true });

/**
 * POSTs `body` (none by default) to an http:// `url` on a kept-alive socket and resolves with the answer's
 * text. A non-2xx answer rejects with `${what}: HTTP ${status} ${text}`. Plain `node:http`: `fetch` costs the
 * client process several times the CPU per call, and that process shares the cores with the stack it measures.
 */
export function httpPost(
  url: URL | string,
  what: string,
  options: { body?: string; headers?: Record<string, string> } = {},
): Promise<string> {
  const body = options.body ?? '';
  const headers: Record<string, string | number> = {
    'content-length': Buffer.byteLength(body),
    ...options.headers,
  };
  if (options.body !== undefined && headers['content-type'] === undefined)
    headers['content-type'] = 'text/plain;charset=UTF-8';
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent: keepAlive, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = response.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve(text);
        else reject(new Error(`${what}: HTTP ${status} ${text}`));
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}
