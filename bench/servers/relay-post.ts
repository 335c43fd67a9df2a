/**
 * The fair baseline of the upstream echo: the least code that does the service's job for one client
 * message. It receives a WebSocket frame, makes one HTTP POST with that frame to the same upstream the
 * service calls (keep-alive sockets, as the service keeps them), and sends the answer's body back to the
 * sender. No tokens, no protocol parsing, no signature: what remains of the service's CPU per round trip
 * above this is the service's own overhead. Argument: the upstream URL.
 */
import { Agent, createServer, request } from 'node:http';
import { WebSocketServer } from 'ws';
import { serveBaseline } from '../ipc.js';

const upstream = new URL(process.argv[2] ?? '');
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

const server = createServer((_req, res) => {
  res.writeHead(404, { 'content-type': 'text/plain' }).end('relay-post serves WebSockets only\n');
});
const wss = new WebSocketServer({ server, perMessageDeflate: false });
wss.on('connection', (socket) => {
  socket.on('message', (data, isBinary) => {
    const body = data as Buffer;
    const req = request(
      upstream,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': isBinary ? 'application/octet-stream' : 'text/plain',
          'content-length': body.length,
          'x-asrs-category': 'messages',
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => socket.send(Buffer.concat(chunks), { binary: isBinary }));
      },
    );
    req.on('error', () => socket.close(1011, 'upstream unreachable'));
    req.end(body);
  });
});

await serveBaseline(server, wss, () => agent.destroy());
