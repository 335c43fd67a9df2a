import { describe, expect, it } from 'vitest';
import {
  closeConnectionBody,
  isDialect,
  isUpstreamCategory,
  openConnectionBody,
  UPSTREAM_HEADERS,
} from '../../src/lib/signalr/upstream-contract.js';
import { upstreamHeaders } from '../../src/local/service/upstream/asrs-headers.js';

// Known answers: the header names and bodies as Azure SignalR's upstream documentation spells them.
describe('the upstream contract', () => {
  it('names the headers as the service sends them', () => {
    expect(Object.values(UPSTREAM_HEADERS).sort()).toEqual(
      [
        'X-ASRS-Category',
        'X-ASRS-Client-Query',
        'X-ASRS-Connection-Id',
        'X-ASRS-Event',
        'X-ASRS-Hub',
        'X-ASRS-Signature',
        'X-ASRS-User-Claims',
        'X-ASRS-User-Id',
      ].sort(),
    );
  });

  it('writes the connected and disconnected bodies of the signalr dialect', () => {
    expect(JSON.stringify(openConnectionBody())).toBe('{"type":10}');
    expect(JSON.stringify(closeConnectionBody())).toBe('{"type":11}');
    expect(JSON.stringify(closeConnectionBody('Connection reset'))).toBe(
      '{"type":11,"error":"Connection reset"}',
    );
  });

  it('knows exactly two dialects and two categories', () => {
    expect(['signalr', 'websocket', 'SignalR', 'sse', ''].map(isDialect)).toEqual([
      true,
      true,
      false,
      false,
      false,
    ]);
    expect(['connections', 'messages', 'Messages', 'events'].map(isUpstreamCategory)).toEqual([
      true,
      true,
      false,
      false,
    ]);
  });

  it('is what the local service writes', () => {
    const headers = upstreamHeaders(
      {
        hub: 'chat',
        category: 'connections',
        event: 'connect',
        connectionId: 'c1',
        userId: 'ann',
        claims: [['role', 'a']],
        clientQuery: '?a=1',
      },
      ['key'],
    );
    expect(Object.keys(headers).sort()).toEqual([
      'X-ASRS-Category',
      'X-ASRS-Client-Query',
      'X-ASRS-Connection-Id',
      'X-ASRS-Event',
      'X-ASRS-Hub',
      'X-ASRS-Signature',
      'X-ASRS-User-Claims',
      'X-ASRS-User-Id',
    ]);
    expect(headers['X-ASRS-User-Claims']).toBe('role: a');
  });
});
