import { describe, expect, it } from 'vitest';
import {
  HubProtocolError,
  parseHandshakeRequest,
  parseHandshakeResponse,
  parseHubMessages,
  writeHandshakeRequest,
  writeHandshakeResponse,
  writeHubMessage,
} from '../../src/lib/signalr/hub-protocol.js';

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

  it('refuses another protocol with a message that names the supported one', () => {
    const error = protocolError(() => parseHandshakeRequest('{"protocol":"messagepack","version":1}\x1e'));
    expect(error.code).toBe('unsupported-protocol');
    expect(error.message).toContain('"json"');
    expect(writeHandshakeResponse(error.message)).toBe(
      `{"error":"The protocol 'messagepack' is not supported: this service speaks only the \\"json\\" hub protocol"}\x1e`,
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
