import { describe, expect, it } from 'vitest';
import { unmaskedFrame } from '../../src/local/service/transports/shared-frames.js';
import type { WebPubSubOutbound } from '../../src/local/service/webpubsub/hub.js';
import {
  jsonFrame,
  MAX_WHOLE_RELIABLE_FRAME_BYTES,
  plainBytes,
  plainFrame,
  reliableFrame,
  sequencedBytes,
  sequencedFrame,
  sequencedPayload,
  soleJsonFrame,
} from '../../src/local/service/webpubsub/outbound-frames.js';
import { ReliableOutbox } from '../../src/local/service/webpubsub/reliable.js';

const text = (s: string) => Buffer.from(s, 'utf8');

describe('Web PubSub outbound frames', () => {
  // The message shapes of Learn's "Azure Web PubSub supported JSON WebSocket subprotocol" (server and group
  // messages) and "Create reliable WebSocket clients" (the same with `sequenceId`).
  it('writes the server and group messages Learn shows, for text, JSON and binary data', () => {
    expect(jsonFrame({ from: 'server', dataType: 'text', data: text('Hello World') }).toString()).toBe(
      '{"type":"message","from":"server","dataType":"text","data":"Hello World"}',
    );
    expect(jsonFrame({ from: 'server', dataType: 'json', data: text('{"hello":"world"}') }).toString()).toBe(
      '{"type":"message","from":"server","dataType":"json","data":{"hello":"world"}}',
    );
    expect(
      jsonFrame({
        from: 'group',
        group: 'g1',
        fromUserId: 'abc',
        dataType: 'binary',
        data: Buffer.from([1, 2, 3]),
      }).toString(),
    ).toBe(
      '{"type":"message","from":"group","group":"g1","fromUserId":"abc","dataType":"binary","data":"AQID"}',
    );
  });

  it('ends a reliable frame with its own sequenceId, the rest byte for byte the shared frame', () => {
    const message: WebPubSubOutbound = {
      from: 'group',
      group: 'g',
      dataType: 'text',
      data: text('ü "q" 🚀'),
    };
    expect(sequencedFrame(message, 1).toString()).toBe(
      '{"type":"message","from":"group","group":"g","dataType":"text","data":"ü \\"q\\" 🚀","sequenceId":1}',
    );
    const big = sequencedFrame(message, Number.MAX_SAFE_INTEGER).toString();
    expect(JSON.parse(big)).toMatchObject({ data: 'ü "q" 🚀', sequenceId: Number.MAX_SAFE_INTEGER });
    // Two connections at different points get different numbers on the same message.
    expect(JSON.parse(sequencedFrame(message, 7).toString()).sequenceId).toBe(7);
    expect(JSON.parse(sequencedFrame(message, 1).toString()).sequenceId).toBe(1);
  });

  it('writes a reliable frame whole per sequence id (small) or as a shared head and a tail of its own (large), the frame a receiver reads', () => {
    // Payloads under 126 bytes, under 64 KiB and above it: the three length forms of RFC 6455, 5.2.
    for (const size of [10, 200, 70_000]) {
      const message: WebPubSubOutbound = { from: 'server', dataType: 'text', data: text('x'.repeat(size)) };
      for (const sequenceId of [7, 42, 1_000]) {
        const frame = reliableFrame(message, sequenceId);
        const payload = sequencedFrame(message, sequenceId);
        expect(frame.length).toBe(payload.length);
        expect(frame.payload().equals(payload)).toBe(true);
        expect(Buffer.concat(frame.parts).equals(unmaskedFrame(payload, false))).toBe(true);
        expect(JSON.parse(payload.toString())).toEqual({
          type: 'message',
          from: 'server',
          dataType: 'text',
          data: 'x'.repeat(size),
          sequenceId,
        });
      }
      if (size + 60 <= MAX_WHOLE_RELIABLE_FRAME_BYTES) {
        // A small message: one buffer per sequence id, shared by the recipients at that id.
        expect(reliableFrame(message, 42).parts).toHaveLength(1);
        expect(reliableFrame(message, 42)).toBe(reliableFrame(message, 42));
        expect(reliableFrame(message, 42).parts[0]).not.toBe(reliableFrame(message, 43).parts[0]);
      } else {
        // A large one: recipients whose numbers have as many digits share the head; only the tail is their own.
        expect(reliableFrame(message, 42).parts).toHaveLength(2);
        expect(reliableFrame(message, 42).parts[0]).toBe(reliableFrame(message, 43).parts[0]);
        expect(reliableFrame(message, 42).parts[0]).not.toBe(reliableFrame(message, 100).parts[0]);
      }
    }
  });

  it('counts the bytes of a reliable frame as many as it has, for every number of digits', () => {
    const json = jsonFrame({ from: 'server', dataType: 'text', data: text('ü') });
    for (const sequenceId of [0, 1, 9, 10, 99, 100, 999_999, 1_000_000, 10 ** 15, Number.MAX_SAFE_INTEGER]) {
      expect(sequencedBytes(json, sequenceId)).toBe(sequencedPayload(json, sequenceId).length);
    }
  });

  it("writes a sole recipient's frame byte for byte as the shared one, behind its WebSocket header", () => {
    const messages: WebPubSubOutbound[] = [
      { from: 'server', dataType: 'text', data: text('ü "q" 🚀'.repeat(20)) },
      { from: 'server', dataType: 'json', data: text('{"a":[1,2]}') },
      { from: 'group', group: 'g', fromUserId: 'u', dataType: 'binary', data: Buffer.from([0, 255]) },
    ];
    for (const message of messages) {
      const frame = soleJsonFrame(message);
      const payload = frame.payload();
      expect(payload.equals(jsonFrame({ ...message }))).toBe(true);
      expect(frame.length).toBe(payload.length);
      expect(Buffer.concat(frame.parts).equals(unmaskedFrame(payload, false))).toBe(true);
    }
    const bytes = Buffer.from([0x68, 0x69, 0xff]);
    expect(plainBytes({ from: 'server', dataType: 'text', data: bytes }).toString()).toBe('hi\uFFFD');
    expect(plainBytes({ from: 'server', dataType: 'binary', data: bytes })).toBe(bytes);
  });

  it('frames a message once per framing, whatever the number of recipients', () => {
    const message: WebPubSubOutbound = { from: 'server', dataType: 'text', data: text('once') };
    expect(jsonFrame(message)).toBe(jsonFrame(message));
    expect(plainFrame(message)).toBe(plainFrame(message));
    const same: WebPubSubOutbound = { from: 'server', dataType: 'text', data: text('once') };
    expect(jsonFrame(same)).not.toBe(jsonFrame(message));
  });

  it('gives a plain client the bytes, with bytes that are not UTF-8 replaced in a text frame', () => {
    const bytes = Buffer.from([0x68, 0x69, 0xff]);
    expect(plainFrame({ from: 'server', dataType: 'binary', data: bytes })).toBe(bytes);
    expect(plainFrame({ from: 'server', dataType: 'text', data: text('hé') }).toString()).toBe('hé');
    expect(plainFrame({ from: 'server', dataType: 'text', data: bytes }).toString()).toBe('hi\uFFFD');
  });
});

describe('the reliable outbox', () => {
  // Kept as shared JSON frames; counted and sent again as the connection's own frames, `,"sequenceId":n}` ending each.
  const json = (s: string) => text(`{"d":"${s}"}`); // 8 bytes + s; its frame: 22 + s + digits
  it('numbers from 1, keeps what is not acknowledged, and refuses what would pass its limit', () => {
    const outbox = new ReliableOutbox(60);
    expect(outbox.nextSequenceId).toBe(1);
    expect(outbox.keep(json('aaaa'))).toBe(true); // 27 bytes
    expect(outbox.nextSequenceId).toBe(2);
    expect(outbox.keep(json('bbbb'))).toBe(true); // 27 bytes
    expect(outbox.keep(json('ccc'))).toBe(false);
    expect(outbox.nextSequenceId).toBe(3);
    expect(outbox.keptBytes).toBe(54);
    outbox.ack(1);
    expect(outbox.unacknowledged().map(String)).toEqual(['{"d":"bbbb","sequenceId":2}']);
    expect(outbox.keep(json('ccc'))).toBe(true); // 26 bytes
    expect(outbox.nextSequenceId).toBe(4);
    outbox.ack(1); // an old ack changes nothing
    expect(outbox.keptBytes).toBe(53);
    expect(outbox.unacknowledged().map((f) => JSON.parse(String(f)))).toEqual([
      { d: 'bbbb', sequenceId: 2 },
      { d: 'ccc', sequenceId: 3 },
    ]);
    outbox.ack(99);
    expect(outbox.unacknowledged()).toEqual([]);
    expect(outbox.keptBytes).toBe(0);
    expect(outbox.nextSequenceId).toBe(4);
  });

  it('counts the digits of each number: a frame numbered 10 is a byte longer than one numbered 9', () => {
    const outbox = new ReliableOutbox(10_000);
    for (let i = 1; i <= 9; i++) outbox.keep(json('x'));
    expect(outbox.keptBytes).toBe(9 * 24);
    outbox.keep(json('x'));
    expect(outbox.keptBytes).toBe(9 * 24 + 25);
    outbox.ack(9);
    expect(outbox.keptBytes).toBe(25);
    expect(String(outbox.unacknowledged()[0])).toBe('{"d":"x","sequenceId":10}');
  });
});
