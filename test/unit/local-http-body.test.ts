import { once } from 'node:events';
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BodyTooLargeError, readCappedBody } from '../../src/local/http-body.js';

const LIMIT = 16;
let server: Server;
let origin = '';

// A real server on port 0: answers 200 with the byte count, or 413 with the error's code.
beforeAll(async () => {
  server = createServer(async (req, res) => {
    try {
      const body = await readCappedBody(req, LIMIT);
      res.writeHead(200).end(String(body.length));
    } catch (error) {
      res
        .writeHead(413)
        .end(error instanceof BodyTooLargeError ? `${error.code} ${error.maxBytes}` : 'other');
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await once(server, 'close');
});

/** Sends `chunks` one write each; `contentLength` undefined means chunked transfer encoding. */
async function post(chunks: string[], contentLength?: number): Promise<{ status: number; text: string }> {
  const req = request(`${origin}/`, {
    method: 'POST',
    headers: contentLength === undefined ? {} : { 'Content-Length': contentLength },
  });
  req.on('error', () => {}); // the server may answer before the whole body is written
  for (const chunk of chunks) req.write(chunk);
  req.end();
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  let text = '';
  for await (const chunk of res) text += String(chunk);
  return { status: res.statusCode ?? 0, text };
}

describe('readCappedBody', () => {
  it('reads a body of exactly the limit, declared or chunked', async () => {
    expect(await post(['x'.repeat(LIMIT)], LIMIT)).toEqual({ status: 200, text: String(LIMIT) });
    expect(await post(['x'.repeat(8), 'x'.repeat(8)])).toEqual({ status: 200, text: String(LIMIT) });
  });

  it('refuses a declared Content-Length over the limit with BodyTooLargeError', async () => {
    expect(await post(['x'.repeat(LIMIT + 1)], LIMIT + 1)).toEqual({
      status: 413,
      text: `body-too-large ${LIMIT}`,
    });
  });

  it('counts the bytes of a chunked body that has no Content-Length', async () => {
    expect(await post(['x'.repeat(10), 'x'.repeat(7)])).toEqual({
      status: 413,
      text: `body-too-large ${LIMIT}`,
    });
  });
});
