import { describe, expect, it } from 'vitest';
import { HUB_CODECS } from '../../src/lib/signalr/hub-codec.js';
import { invocationFrame } from '../../src/local/service/signalr/outbound-frames.js';

describe('REST messages framed for signalr-dialect recipients', () => {
  it('are framed once per protocol: every recipient of one message shares the same bytes', () => {
    const message = { kind: 'invocation', target: 'news', arguments: [{ text: 'hi' }] } as const;
    const json = invocationFrame(message, HUB_CODECS.json);
    const msgpack = invocationFrame(message, HUB_CODECS.messagepack);
    expect(json.toString()).toBe('{"type":1,"target":"news","arguments":[{"text":"hi"}]}\x1e');
    // [1, {}, nil, "news", [{"text": "hi"}]] behind its length prefix.
    expect([...msgpack]).toEqual([
      19,
      0x95,
      0x01,
      0x80,
      0xc0,
      0xa4,
      ...Buffer.from('news'),
      0x91,
      0x81,
      0xa4,
      ...Buffer.from('text'),
      0xa2,
      ...Buffer.from('hi'),
    ]);
    expect(invocationFrame(message, HUB_CODECS.json)).toBe(json);
    expect(invocationFrame(message, HUB_CODECS.messagepack)).toBe(msgpack);
    // Another message, even an equal one, is another frame.
    expect(invocationFrame({ ...message }, HUB_CODECS.json)).not.toBe(json);
  });
});
