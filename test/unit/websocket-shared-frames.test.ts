/**
 * Frames shared by every recipient (transports/shared-frames.ts): the bytes RFC 6455 gives for unmasked
 * frames, and a real `ws` client that reads them in order among the frames ws writes itself.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { markShared, sharedFrame, unmaskedFrame } from '../../src/local/service/transports/shared-frames.js';
import { WebSocketTransport } from '../../src/local/service/transports/websocket.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('shared WebSocket frames', () => {
  // RFC 6455, 5.7 "Examples".
  it('writes the unmasked frames of RFC 6455 5.7', () => {
    expect([...unmaskedFrame(Buffer.from('Hello'), false)]).toEqual([
      0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f,
    ]);
    const b256 = unmaskedFrame(Buffer.alloc(256, 7), true);
    expect([...b256.subarray(0, 4)]).toEqual([0x82, 0x7e, 0x01, 0x00]);
    expect(b256.length).toBe(4 + 256);
    const b64k = unmaskedFrame(Buffer.alloc(65_536, 9), true);
    expect([...b64k.subarray(0, 10)]).toEqual([0x82, 0x7f, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00]);
    expect(b64k.length).toBe(10 + 65_536);
    expect(b64k[10]).toBe(9);
  });

  it('frames a marked payload once per kind, and leaves an unmarked one to ws', () => {
    const payload = markShared(Buffer.from('x'));
    expect(sharedFrame(payload, false)).toBe(sharedFrame(payload, false));
    expect(sharedFrame(payload, true)?.[0]).toBe(0x82);
    expect(sharedFrame(Buffer.from('x'), false)).toBeUndefined();
  });

  it('reach a real client intact and in order among the frames ws writes itself', async () => {
    const wss = new WebSocketServer({ port: 0, perMessageDeflate: false });
    cleanups.push(() => new Promise<void>((resolve) => wss.close(() => resolve())));
    await once(wss, 'listening');
    const accepted = once(wss, 'connection');
    const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
    cleanups.push(() => client.terminate());
    const received: Array<{ binary: boolean; data: Buffer }> = [];
    client.on('message', (data: Buffer, binary: boolean) => received.push({ binary, data }));
    await once(client, 'open');
    const [socket] = (await accepted) as [WebSocket];
    const transport = new WebSocketTransport(socket, { coalescing: 'frames', maxCoalescedBytes: 64 * 1024 });
    // What reaches the TCP socket: a shared frame is written as the one buffer, not framed again by ws.
    const raw = (socket as unknown as { _socket: { write: (chunk: unknown, ...rest: never[]) => boolean } })
      ._socket;
    const written: unknown[] = [];
    const write = raw.write.bind(raw);
    raw.write = (chunk, ...rest) => {
      written.push(chunk);
      return write(chunk, ...rest);
    };
    const big = markShared(Buffer.alloc(70_000, 0x61));
    const medium = markShared(Buffer.from('é'.repeat(150)));
    const small = markShared(Buffer.from([1, 2, 3]));
    let done = 0;
    const count = () => done++;
    transport.send(medium, false, count);
    transport.send('from ws', false, count);
    transport.send(small, true, count);
    transport.send(big, false, count);
    transport.send(Buffer.from('unmarked'), false, count);
    transport.send(medium, false, count);
    await nextTurn();
    await expect.poll(() => received.length).toBe(6);
    expect(received.map((m) => [m.binary, m.data.length])).toEqual([
      [false, 300],
      [false, 7],
      [true, 3],
      [false, 70_000],
      [false, 8],
      [false, 300],
    ]);
    expect(received[0]?.data.toString()).toBe('é'.repeat(150));
    expect(received[3]?.data.equals(big)).toBe(true);
    expect(written.filter((chunk) => chunk === sharedFrame(medium, false))).toHaveLength(2);
    expect(written.filter((chunk) => chunk === sharedFrame(big, false))).toHaveLength(1);
    expect(done).toBe(6);
    expect(transport.bufferedAmount).toBe(0);
  });
});
