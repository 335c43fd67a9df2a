/**
 * The baselines: a bare `ws` server doing the least work each scenario asks of the service, in its own
 * process like the service. Mode (first argument):
 * - `broadcast`: `POST /broadcast` sends the request body as one text frame to every connected client
 *   (the fan-out baseline for a REST broadcast), and one event to every `GET /events` stream (the
 *   Server-Sent Events fan-out baseline); a text frame from a client is relayed to every client (the chat
 *   baseline).
 * - `echo`: every frame goes back to its sender (the upstream echo baseline).
 * - `idle`: accepts connections and does nothing (the memory baseline).
 */
import { createServer, type ServerResponse } from 'node:http';
import { WebSocketServer } from 'ws';
import { serveBaseline } from '../ipc.js';

type Mode = 'broadcast' | 'echo' | 'idle';
const mode = (process.argv[2] ?? 'broadcast') as Mode;

/** Open event streams. */
const streams = new Set<ServerResponse>();

const server = createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/broadcast') {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      for (const client of wss.clients) client.send(text);
      if (streams.size > 0) {
        const event = `data: ${text}\r\n\r\n`;
        for (const stream of streams) stream.write(event);
      }
      res.writeHead(202).end();
    });
    return;
  }
  if (req.method === 'GET' && req.url === '/events') {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write(':\r\n');
    streams.add(res);
    res.on('close', () => streams.delete(res));
    return;
  }
  res.writeHead(404, { 'content-type': 'text/plain' }).end('bare-ws serves POST /broadcast and WebSockets\n');
});

// perMessageDeflate off, as in the service: compression is not what the comparison is about.
const wss = new WebSocketServer({ server, perMessageDeflate: false });
wss.on('connection', (socket) => {
  if (mode === 'echo') socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
  else if (mode === 'broadcast')
    socket.on('message', (data, isBinary) => {
      for (const client of wss.clients) client.send(data, { binary: isBinary });
    });
});

await serveBaseline(server, wss, () => {
  for (const stream of streams) stream.destroy();
});
