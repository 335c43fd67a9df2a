/** Loopback listening for the bench's own servers (baselines, proxies, port probes). */
import { once } from 'node:events';
import type { Server } from 'node:net';

/** Listens on a free loopback port and resolves with it. */
export async function listenOnLoopback(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}
