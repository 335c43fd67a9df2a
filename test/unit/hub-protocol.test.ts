import { describe, expect, it } from 'vitest';
import { writeCompletion } from '../../src/lib/signalr/hub-codec.js';
import {
  HubProtocolError,
  parseHandshakeRequest,
  parseHandshakeResponse,
  parseHubMessages,
  writeHandshakeRequest,
  writeHandshakeResponse,
  writeHubMessage,
} from '../../src/lib/signalr/hub-protocol.js';
import {
  announcedFrameLength,
  parseMessagePackMessages,
  splitFrames,
  withLengthPrefix,
  withoutLengthPrefix,
  writeMessagePackMessage,
} from '../../src/lib/signalr/messagepack.js';

function protocolError(fn: () => unknown): HubProtocolError {
  try {
    fn();
  } catch (error) {
    if (error instanceof HubProtocolError) return error;
    throw error;
  }
  throw new Error('expected a HubProtocolError');
}

describe('JSON hub protocol framing', () => {
  it('answers the json handshake request with {}\\x1e', () => {
    const parsed = parseHandshakeRequest('{"protocol":"json","version":1}\x1e');
    expect(parsed.request).toEqual({ protocol: 'json', version: 1 });
    expect(parsed.rest).toBe('');
    expect(writeHandshakeResponse()).toBe('{}\x1e');
  });

  it('writes the handshake request the official clients send', () => {
    expect(writeHandshakeRequest()).toBe('{"protocol":"json","version":1}\x1e');
  });

  it('keeps records that arrive in the same frame as the handshake', () => {
    const parsed = parseHandshakeRequest('{"protocol":"json","version":1}\x1e{"type":6}\x1e');
    expect(parseHubMessages(parsed.rest)).toEqual([{ type: 6 }]);
  });

  it("accepts the messagepack handshake and refuses other protocols in ASP.NET Core's words, with a hint that names both", () => {
    expect(parseHandshakeRequest('{"protocol":"messagepack","version":1}\x1e').request).toEqual({
      protocol: 'messagepack',
      version: 1,
    });
    const error = protocolError(() => parseHandshakeRequest('{"protocol":"xml","version":1}\x1e'));
    expect(error.code).toBe('unsupported-protocol');
    expect(writeHandshakeResponse(error.message)).toBe(
      `{"error":"The protocol 'xml' is not supported."}\x1e`,
    );
    expect(error.hint).toBe(
      `The protocol 'xml' is not supported: this service speaks the "json" and "messagepack" hub protocols`,
    );
  });

  it('refuses incomplete, non-JSON and shapeless handshakes with typed errors', () => {
    expect(protocolError(() => parseHandshakeRequest('{"protocol":"json","version":1}')).code).toBe(
      'incomplete',
    );
    expect(protocolError(() => parseHandshakeRequest('{protocol\x1e')).code).toBe('invalid-json');
    expect(protocolError(() => parseHandshakeRequest('null\x1e')).code).toBe('invalid-handshake');
    expect(protocolError(() => parseHandshakeRequest('{"protocol":"json","version":3}\x1e')).code).toBe(
      'unsupported-protocol',
    );
    // Version 2 is what @microsoft/signalr sends when it uses stateful reconnect.
    expect(parseHandshakeRequest('{"protocol":"json","version":2}\x1e').request.version).toBe(2);
  });

  it('parses handshake responses with and without an error', () => {
    expect(parseHandshakeResponse('{}\x1e')).toEqual({ rest: '' });
    expect(parseHandshakeResponse('{"error":"no"}\x1e{"type":6}\x1e')).toEqual({
      error: 'no',
      rest: '{"type":6}\x1e',
    });
    expect(protocolError(() => parseHandshakeResponse('{"type":6}\x1e')).code).toBe('invalid-handshake');
  });

  it('writes a Ping as exactly {"type":6}\\x1e', () => {
    expect(writeHubMessage({ type: 6 })).toBe('{"type":6}\x1e');
  });

  it('writes a Close with an error', () => {
    expect(writeHubMessage({ type: 7, error: 'Server is shutting down', allowReconnect: true })).toBe(
      '{"type":7,"error":"Server is shutting down","allowReconnect":true}\x1e',
    );
  });

  it('writes Invocations and Completions byte for byte', () => {
    expect(writeHubMessage({ type: 1, target: 'message', arguments: [{ text: 'hi' }] })).toBe(
      '{"type":1,"target":"message","arguments":[{"text":"hi"}]}\x1e',
    );
    expect(writeHubMessage({ type: 3, invocationId: '7', result: 42 })).toBe(
      '{"type":3,"invocationId":"7","result":42}\x1e',
    );
    expect(writeHubMessage({ type: 3, invocationId: '8', error: 'nope' })).toBe(
      '{"type":3,"invocationId":"8","error":"nope"}\x1e',
    );
  });

  it('parses several records of one frame', () => {
    const text =
      '{"type":1,"invocationId":"1","target":"send","arguments":["a",2]}\x1e{"type":6}\x1e{"type":7,"error":"bye"}\x1e';
    expect(parseHubMessages(text)).toEqual([
      { type: 1, invocationId: '1', target: 'send', arguments: ['a', 2] },
      { type: 6 },
      { type: 7, error: 'bye' },
    ]);
  });

  it('skips unknown message types as the protocol requires', () => {
    expect(parseHubMessages('{"type":99}\x1e{"type":6}\x1e')).toEqual([{ type: 6 }]);
  });

  it('raises typed errors for malformed records instead of crashing', () => {
    const cases: Array<[string, string]> = [
      ['{"type":6}', 'incomplete'],
      ['{"type":\x1e', 'invalid-json'],
      ['null\x1e', 'invalid-message'],
      ['[]\x1e', 'invalid-message'],
      ['{"type":"1"}\x1e', 'invalid-message'],
      ['{"type":1,"arguments":[]}\x1e', 'invalid-message'],
      ['{"type":1,"target":"send"}\x1e', 'invalid-message'],
      ['{"type":1,"target":"send","arguments":{}}\x1e', 'invalid-message'],
      ['{"type":3}\x1e', 'invalid-message'],
      ['{"type":7,"error":5}\x1e', 'invalid-message'],
    ];
    for (const [text, code] of cases) {
      expect(protocolError(() => parseHubMessages(text)).code, JSON.stringify(text)).toBe(code);
    }
  });

  it('parses the empty string as no messages', () => {
    expect(parseHubMessages('')).toEqual([]);
  });
});

// Known answers from the MessagePack spec (msgpack/msgpack spec.md: fixarray 0x9N, positive fixint, fixmap
// 0x8N, fixstr 0xaN, nil 0xc0) and from the varint length prefix of dotnet/aspnetcore's HubProtocol.md
// ("Binary encoding"): 7 bits a byte, least significant group first, high bit set while more follow.
const INVOCATION = [1, {}, 'xyz', 'method', [42]] as const;
// [1, {}, "xyz", "method", [42]]
const INVOCATION_BYTES = [
  0x95, 0x01, 0x80, 0xa3, 0x78, 0x79, 0x7a, 0xa6, 0x6d, 0x65, 0x74, 0x68, 0x6f, 0x64, 0x91, 0x2a,
];

describe('MessagePack hub protocol framing', () => {
  it('frames an invocation as the spec encodes it, behind its varint length', () => {
    const written = writeMessagePackMessage({
      type: 1,
      invocationId: INVOCATION[2],
      target: INVOCATION[3],
      arguments: [...INVOCATION[4]],
    });
    expect([...written]).toEqual([INVOCATION_BYTES.length, ...INVOCATION_BYTES]);
    expect([...withoutLengthPrefix(written)]).toEqual(INVOCATION_BYTES);
  });

  it('parses the spec bytes, several per chunk, and skips unknown message types', () => {
    const framed = [16, ...INVOCATION_BYTES, 0x02, 0x91, 0x06, 0x03, 0x92, 0x63, 0x01];
    expect(parseMessagePackMessages(Uint8Array.from(framed))).toEqual([
      { type: 1, headers: {}, invocationId: 'xyz', target: 'method', arguments: [42], streamIds: [] },
      { type: 6 },
    ]);
  });

  it('writes completions with result, error and none as the three result kinds of the spec', () => {
    // [3, {}, "1", 3, 7] / [3, {}, "1", 1, "no"] / [3, {}, "1", 2]
    expect([...writeCompletion('messagepack', '1', { result: 7 })]).toEqual([
      7, 0x95, 0x03, 0x80, 0xa1, 0x31, 0x03, 0x07,
    ]);
    expect([...writeCompletion('messagepack', '1', { error: 'no' })]).toEqual([
      9, 0x95, 0x03, 0x80, 0xa1, 0x31, 0x01, 0xa2, 0x6e, 0x6f,
    ]);
    expect([...writeCompletion('messagepack', '1', {})]).toEqual([6, 0x94, 0x03, 0x80, 0xa1, 0x31, 0x02]);
    expect(writeCompletion('json', '1', { result: 7 }).toString()).toBe(
      '{"type":3,"invocationId":"1","result":7}\x1e',
    );
    expect(writeCompletion('json', '1', { error: 'no' }).toString()).toBe(
      '{"type":3,"invocationId":"1","error":"no"}\x1e',
    );
  });

  it('reads and writes varint prefixes at the 7-bit boundaries and refuses ones beyond 2^31 - 1', () => {
    expect([...withLengthPrefix(new Uint8Array(0x7f))].slice(0, 1)).toEqual([0x7f]);
    expect([...withLengthPrefix(new Uint8Array(0x80))].slice(0, 2)).toEqual([0x80, 0x01]);
    expect([...withLengthPrefix(new Uint8Array(0x3fff))].slice(0, 2)).toEqual([0xff, 0x7f]);
    expect([...withLengthPrefix(new Uint8Array(0x4000))].slice(0, 3)).toEqual([0x80, 0x80, 0x01]);
    expect(announcedFrameLength(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x07]))).toBe(5 + 0x7fffffff);
    expect(announcedFrameLength(Uint8Array.from([0x80]))).toBeUndefined();
    expect(
      protocolError(() => announcedFrameLength(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x08]))).code,
    ).toBe('invalid-message');
    expect(
      protocolError(() => announcedFrameLength(Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x80]))).code,
    ).toBe('invalid-message');
  });

  it('splits a byte stream at message boundaries, keeping a cut-off message for later', () => {
    const one = [16, ...INVOCATION_BYTES];
    const { frames, rest } = splitFrames(Uint8Array.from([...one, 0x02, 0x91, 0x06, 0x05, 0x95]));
    expect(frames.map((f) => [...f])).toEqual([one, [0x02, 0x91, 0x06]]);
    expect([...rest]).toEqual([0x05, 0x95]);
  });

  it('turns truncated, malformed and mistyped input into HubProtocolErrors', () => {
    expect(protocolError(() => parseMessagePackMessages(Uint8Array.from([5, 0x95, 0x01]))).code).toBe(
      'incomplete',
    );
    expect(protocolError(() => parseMessagePackMessages(Uint8Array.from([1, 0xc1]))).code).toBe(
      'invalid-message',
    );
    // [1, {}, nil, 5, []]: a target that is not a string.
    expect(
      protocolError(() => parseMessagePackMessages(Uint8Array.from([6, 0x95, 0x01, 0x80, 0xc0, 0x05, 0x90])))
        .message,
    ).toContain('target');
    // [1, {}, nil, "m", 1]: arguments that are not an array.
    expect(
      protocolError(() =>
        parseMessagePackMessages(Uint8Array.from([7, 0x95, 0x01, 0x80, 0xc0, 0xa1, 0x6d, 0x01])),
      ).message,
    ).toContain('arguments');
  });
});

describe('MessagePack Close from the server', () => {
  it("carries the error and allowReconnect, which the official client's parser reads", () => {
    const written = writeMessagePackMessage({ type: 7, error: 'bye', allowReconnect: true });
    // [7, "bye", true] (fixarray 3, fixint 7, fixstr "bye", true 0xc3)
    expect([...written]).toEqual([7, 0x93, 0x07, 0xa3, 0x62, 0x79, 0x65, 0xc3]);
    expect(parseMessagePackMessages(written)).toEqual([{ type: 7, error: 'bye', allowReconnect: true }]);
    expect([...writeMessagePackMessage({ type: 7 })]).toEqual([4, 0x93, 0x07, 0xc0, 0xc2]);
  });
});

describe('MessagePack input in pooled Buffers', () => {
  it('parses a message that sits inside a larger shared ArrayBuffer (as Node Buffers do)', () => {
    const pool = Buffer.alloc(64, 0xff);
    pool.set([2, 0x91, 0x06], 10);
    expect(parseMessagePackMessages(pool.subarray(10, 13))).toEqual([{ type: 6 }]);
  });
});
