/**
 * How WebSocketTransport groups what one connection is sent in a turn (transports/websocket.ts), against a
 * stand-in for a `ws` socket that records each send: the cases the service itself never produces (text and
 * binary on one connection, a turn larger than `maxCoalescedBytes`, a stream without cork).
 */
import { EventEmitter } from 'node:events';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { type Coalescing, WebSocketTransport } from '../../src/local/service/transports/websocket.js';

interface Sent {
  data: string | Buffer;
  binary: boolean;
}

/** The part of a `ws` WebSocket the transport uses; sends are recorded and called back at once. */
class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  isPaused = false;
  bufferedAmount = 0;
  readonly sent: Sent[] = [];
  readonly corks: string[] = [];
  _socket: { cork(): void; uncork(): void } | undefined = {
    cork: () => this.corks.push('cork'),
    uncork: () => this.corks.push('uncork'),
  };
  send(data: string | Buffer, options: { binary: boolean }, done?: (error?: Error) => void): void {
    this.sent.push({ data, binary: options.binary });
    done?.();
  }
  close(): void {
    this.readyState = 3;
  }
  terminate(): void {
    this.readyState = 3;
  }
}

function transport(coalescing: Coalescing, maxCoalescedBytes = 64 * 1024, socket = new FakeSocket()) {
  const t = new WebSocketTransport(socket as unknown as WebSocket, { coalescing, maxCoalescedBytes });
  return { t, socket };
}

const text = (s: Sent) => (typeof s.data === 'string' ? s.data : s.data.toString('utf8'));

describe('WebSocketTransport coalescing', () => {
  it('records: one message per turn, a lone frame as it is, each callback once written', async () => {
    const { t, socket } = transport('records');
    const done: string[] = [];
    const lone = Buffer.from('a\x1e');
    t.send(lone, false, () => done.push('a'));
    expect(socket.sent).toEqual([]);
    expect(t.bufferedAmount).toBe(2);
    await nextTurn();
    expect(socket.sent[0]?.data).toBe(lone); // not copied
    t.send('b\x1e', false, () => done.push('b'));
    t.send(Buffer.from('c\x1e'), false, () => done.push('c'));
    await nextTurn();
    expect(socket.sent.slice(1).map(text)).toEqual(['b\x1ec\x1e']);
    expect(done).toEqual(['a', 'b', 'c']);
    expect(t.bufferedAmount).toBe(0);
  });

  it('records: text and binary are never joined, and a turn is split at maxCoalescedBytes', async () => {
    const { t, socket } = transport('records', 6);
    t.send('aa\x1e', false);
    t.send('bb\x1e', false);
    t.send('cc\x1e', false); // would make 9 bytes: a new message
    t.send(Buffer.from([1, 2]), true);
    t.send(Buffer.from([3]), true);
    t.send('dddddddd\x1e', false); // larger than the limit: alone
    await nextTurn();
    expect(socket.sent.map((s) => [s.binary, [...Buffer.from(s.data)]])).toEqual([
      [false, [...Buffer.from('aa\x1ebb\x1e')]],
      [false, [...Buffer.from('cc\x1e')]],
      [true, [1, 2, 3]],
      [false, [...Buffer.from('dddddddd\x1e')]],
    ]);
  });

  it('records: close sends what was held first; terminate drops it and still calls back', async () => {
    const { t, socket } = transport('records');
    t.send('a\x1e', false);
    t.close(1000, '');
    expect(socket.sent.map(text)).toEqual(['a\x1e']);
    const other = transport('records');
    let called = 0;
    other.t.send('b\x1e', false, () => called++);
    other.t.terminate();
    await nextTurn();
    expect(other.socket.sent).toEqual([]);
    expect(called).toBe(1);
  });

  it('frames: every frame its own message, the socket corked until the end of the turn (or the byte limit)', async () => {
    const { t, socket } = transport('frames', 4);
    t.send('ab', false);
    expect(socket.corks).toEqual(['cork']);
    t.send('cd', false); // 4 bytes under this cork: written out now
    expect(socket.corks).toEqual(['cork', 'uncork']);
    t.send('e', false);
    await nextTurn();
    expect(socket.sent.map(text)).toEqual(['ab', 'cd', 'e']);
    expect(socket.corks).toEqual(['cork', 'uncork', 'cork', 'uncork']);
  });

  it('frames: without a socket to cork, frames are written one by one', async () => {
    const socket = new FakeSocket();
    socket._socket = undefined;
    const { t } = transport('frames', 64, socket);
    t.send('a', false);
    expect(socket.sent.map(text)).toEqual(['a']);
    await nextTurn();
    expect(socket.corks).toEqual([]);
  });
});
