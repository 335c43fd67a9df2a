/**
 * A TCP proxy in front of a server, for tests that need a network failure: `cut()` drops every connection at
 * once without any close (no WebSocket close frame, no hub Close message: what a lost network looks like to
 * both ends), and `hold()` keeps new connections waiting until `release()`, so a client's reconnect can be
 * made to wait while the test does something.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Destroys every open connection, both sides. */
  cut(): void;
  /** New connections wait (accepted, not forwarded) until {@link release}. */
  hold(): void;
  release(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let held: Array<() => void> | undefined;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = createServer((client) => {
    track(client);
    const forward = () => {
      if (client.destroyed) return;
      const target = connect(targetPort, '127.0.0.1');
      track(target);
      client.pipe(target);
      target.pipe(client);
      client.on('close', () => target.destroy());
      target.on('close', () => client.destroy());
    };
    if (held) held.push(forward);
    else forward();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut() {
      for (const socket of sockets) socket.destroy();
    },
    hold() {
      held ??= [];
    },
    release() {
      const waiting = held ?? [];
      held = undefined;
      for (const forward of waiting) forward();
    },
    close: async () => {
      held = undefined;
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
