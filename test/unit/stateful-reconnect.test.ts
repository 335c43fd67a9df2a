import { describe, expect, it } from 'vitest';
import { isSequenced, ReconnectBuffer } from '../../src/local/service/signalr/stateful-reconnect.js';

describe('stateful reconnect bookkeeping', () => {
  it('numbers the same hub message types as @microsoft/signalr (1–5), not Ping, Close, Ack or Sequence', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9].filter(isSequenced)).toEqual([1, 2, 3, 4, 5]);
  });

  it('keeps sent messages until acknowledged, refuses past its limit, and resends from the first kept', () => {
    const buffer = new ReconnectBuffer(10, () => {});
    expect(buffer.keep('aaaa', false)).toBe(true);
    expect(buffer.keep('bbbb', false)).toBe(true);
    expect(buffer.keep('ccc', false)).toBe(false);
    expect(buffer.resend()).toEqual({
      sequenceId: 1,
      messages: [expect.objectContaining({ data: 'aaaa' }), expect.objectContaining({ data: 'bbbb' })],
    });
    buffer.ack(1);
    expect(buffer.keptBytes).toBe(4);
    expect(buffer.keep('ccc', false)).toBe(true);
    buffer.ack(3);
    // Nothing kept: the next message the client will see is number 4.
    expect(buffer.resend()).toEqual({ sequenceId: 4, messages: [] });
    buffer.dispose();
  });

  it('after a drop, waits for the Sequence message and drops what it had already received', () => {
    const buffer = new ReconnectBuffer(100, () => {});
    expect([1, 1, 1].map((type) => buffer.accept(type))).toEqual([true, true, true]);
    buffer.disconnected();
    expect(buffer.accept(1)).toBe(false); // before the client's Sequence message
    expect(buffer.sequence(5)).toBe(false); // it cannot skip message 4
    buffer.disconnected();
    expect(buffer.sequence(2)).toBe(true); // resending from 2: 2 and 3 are repeats, 4 is new
    expect([1, 1, 1].map((type) => buffer.accept(type))).toEqual([false, false, true]);
    expect(buffer.accept(6)).toBe(true); // a Ping is never numbered
    buffer.dispose();
  });
});
