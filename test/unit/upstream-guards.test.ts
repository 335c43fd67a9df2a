import { describe, expect, it } from 'vitest';
import { UNCONFIGURED_BEARER_CHECK } from '../../src/lib/upstream/bearer.js';
import { UpstreamError } from '../../src/lib/upstream/errors.js';
import {
  createUpstreamHandler,
  DEFAULT_MAX_BODY_BYTES,
  type UpstreamHandlerOptions,
  type UpstreamHandlers,
} from '../../src/lib/upstream/index.js';
import {
  capturingContext,
  KNOWN_SIGNATURES,
  PRIMARY_KEY,
  responseText,
  SECONDARY_KEY,
  type UpstreamRequestInit,
  upstreamRequest,
} from '../support/upstream.js';

/** Runs one call; every handler records that it ran and accepts. */
async function call(init: UpstreamRequestInit, options: Partial<UpstreamHandlerOptions> = {}) {
  const ran: string[] = [];
  const handlers: UpstreamHandlers = {
    handleConnect: (_req, res) => {
      ran.push('handleConnect');
      res.accept();
    },
    handleMessage: (_req, res) => {
      ran.push('handleMessage');
      res.success();
    },
    handleInvocation: (_req, res) => {
      ran.push('handleInvocation');
      res.success();
    },
    onConnected: () => {
      ran.push('onConnected');
    },
    onDisconnected: () => {
      ran.push('onDisconnected');
    },
  };
  const request = upstreamRequest(init);
  const { context, logs } = capturingContext();
  const handler = createUpstreamHandler(handlers, { accessKeys: [PRIMARY_KEY, SECONDARY_KEY], ...options });
  const response = await handler(request, context);
  return { response, text: responseText(response), ran, logs, request };
}

const a1 = KNOWN_SIGNATURES.a1b2c3;
const conn = KNOWN_SIGNATURES['conn-01HZX5'];
// SignalR's `connected` notification: a signed call that runs a handler.
const connect: UpstreamRequestInit = { event: 'connected', category: 'connections' };

describe('upstream signature (issue 2 known answers)', () => {
  it('accepts the primary entry alone', async () => {
    const { response, ran } = await call({ ...connect, signature: `sha256=${a1.primary}` });
    expect(response.status).toBe(204);
    expect(ran).toEqual(['onConnected']);
  });

  it('accepts a call signed only with the secondary key', async () => {
    const { response, ran } = await call({
      ...connect,
      connectionId: 'conn-01HZX5',
      signature: `sha256=${conn.secondary}`,
    });
    expect(response.status).toBe(204);
    expect(ran).toEqual(['onConnected']);
  });

  it('accepts a header with both entries when only the secondary key is configured', async () => {
    const { response } = await call(connect, { accessKeys: [SECONDARY_KEY] });
    expect(response.status).toBe(204);
  });

  it('accepts uppercase hex', async () => {
    const { response } = await call({ ...connect, signature: `sha256=${a1.primary.toUpperCase()}` });
    expect(response.status).toBe(204);
  });

  it('rejects a connect whose signature header is missing with 401, before reading the body', async () => {
    const { response, text, ran, logs, request } = await call({
      ...connect,
      signature: null,
      body: '{not json',
    });
    expect(response.status).toBe(401);
    expect(text).toContain('X-ASRS-Signature header is missing');
    expect(ran).toEqual([]);
    expect(request.bodyUsed).toBe(false);
    expect(logs).toHaveLength(1);
    expect(logs[0]!.level).toBe('warning');
    expect(logs[0]!.message).toContain('missing-signature');
  });

  it('rejects a connect whose signature does not match either key with 401', async () => {
    // A real signature, but of another connection id.
    const { response, text, ran, request } = await call({
      ...connect,
      signature: `sha256=${conn.primary},sha256=${conn.secondary}`,
      body: '{not json',
    });
    expect(response.status).toBe(401);
    expect(text).toContain('matches none of the configured access keys');
    expect(ran).toEqual([]);
    expect(request.bodyUsed).toBe(false);
  });

  it('rejects a secondary-key signature when only the primary key is configured', async () => {
    const { response } = await call(
      { ...connect, signature: `sha256=${a1.secondary}` },
      { accessKeys: [PRIMARY_KEY] },
    );
    expect(response.status).toBe(401);
  });

  it('reads the keys from a function on every call, so a rotated key takes effect', async () => {
    let keys: readonly string[] = [PRIMARY_KEY];
    const options = { accessKeys: () => keys };
    const signedWithSecondary = { ...connect, signature: `sha256=${a1.secondary}` };
    expect((await call(signedWithSecondary, options)).response.status).toBe(401);
    keys = [SECONDARY_KEY];
    expect((await call(signedWithSecondary, options)).response.status).toBe(204);
  });

  it('answers 500 (server misconfiguration, not the caller) when no usable key is configured', async () => {
    for (const accessKeys of [[], ['']]) {
      const { response, text, logs } = await call(connect, { accessKeys });
      expect(response.status).toBe(500);
      expect(text).toContain('No access keys are configured');
      expect(logs[0]!.level).toBe('error');
    }
  });

  it('answers 500 and logs when the key provider throws', async () => {
    const { response, logs, text } = await call(connect, {
      accessKeys: () => {
        throw new Error('AzureSignalRConnectionString is not set');
      },
    });
    expect(response.status).toBe(500);
    expect(text).not.toContain('AzureSignalRConnectionString');
    expect(logs[0]!.level).toBe('error');
    expect(logs[0]!.message).toContain('AzureSignalRConnectionString is not set');
  });
});

describe('upstream envelope', () => {
  it('rejects a call without X-ASRS-Connection-Id with 400', async () => {
    const { response, text } = await call({ ...connect, omit: ['X-ASRS-Connection-Id'] });
    expect(response.status).toBe(400);
    expect(text).toContain('X-ASRS-Connection-Id header is required');
  });

  it('rejects a call without X-ASRS-Hub with 400', async () => {
    const { response, text } = await call({ ...connect, omit: ['X-ASRS-Hub'] });
    expect(response.status).toBe(400);
    expect(text).toContain('X-ASRS-Hub');
  });

  it('rejects an event for another hub with 400 when the hub is set', async () => {
    const { response, text, ran } = await call({ ...connect, hub: 'other' }, { hub: 'chat' });
    expect(response.status).toBe(400);
    expect(text).toContain('expected "chat", got "other"');
    expect(ran).toEqual([]);
  });

  it('matches the hub case-insensitively and serves any hub when none is set', async () => {
    expect((await call({ ...connect, hub: 'Chat' }, { hub: 'chat' })).response.status).toBe(204);
    expect((await call({ ...connect, hub: 'other' })).response.status).toBe(204);
  });

  it('rejects a call without an event with 400', async () => {
    const { response, text } = await call({ category: 'connections' });
    expect(response.status).toBe(400);
    expect(text).toContain('X-ASRS-Event');
  });

  it('rejects an unknown category and an unknown connection event with 400', async () => {
    const badCategory = await call({ event: 'connect', category: 'server' });
    expect(badCategory.response.status).toBe(400);
    expect(badCategory.text).toContain('"connections" or "messages"');
    const badEvent = await call({ event: 'reconnect', category: 'connections' });
    expect(badEvent.response.status).toBe(400);
    expect(badEvent.text).toContain('got "reconnect"');
  });

  it('rejects options it cannot honour when the handler is created', () => {
    expect(() => createUpstreamHandler({}, { accessKeys: [PRIMARY_KEY], maxBodyBytes: 0 })).toThrow(
      RangeError,
    );
    expect(() => createUpstreamHandler({}, { accessKeys: [PRIMARY_KEY], maxBodyBytes: 1.5 })).toThrow(
      RangeError,
    );
    expect(() => createUpstreamHandler({}, { accessKeys: [PRIMARY_KEY], hub: ' ' })).toThrow(RangeError);
  });
});

describe('upstream body size', () => {
  const message = (body: string | Uint8Array, headers: Record<string, string> = {}): UpstreamRequestInit => ({
    event: 'message',
    category: 'messages',
    headers: { 'Content-Type': 'application/octet-stream', ...headers },
    body,
  });

  it('defaults the cap to 1 MiB', () => {
    expect(DEFAULT_MAX_BODY_BYTES).toBe(1_048_576);
  });

  it('accepts a body of exactly the default cap', async () => {
    const head = '{"type":1,"target":"send","arguments":["';
    const tail = '"]}';
    const body = `${head}${'a'.repeat(DEFAULT_MAX_BODY_BYTES - head.length - tail.length)}${tail}`;
    expect(Buffer.byteLength(body)).toBe(DEFAULT_MAX_BODY_BYTES);
    const { response, ran } = await call({
      event: 'send',
      category: 'messages',
      headers: { 'Content-Type': 'application/json' },
      body,
    });
    expect(response.status).toBe(200);
    expect(ran).toEqual(['handleInvocation']);
  });

  it('rejects a body one byte over the default cap with 413 (no Content-Length)', async () => {
    const { response, text, ran } = await call(message(new Uint8Array(DEFAULT_MAX_BODY_BYTES + 1)));
    expect(response.status).toBe(413);
    expect(text).toContain(`limit of ${DEFAULT_MAX_BODY_BYTES} bytes`);
    expect(ran).toEqual([]);
  });

  it('rejects a declared Content-Length over the cap with 413 before reading the body', async () => {
    const { response, text, ran, request } = await call(message('small', { 'Content-Length': '17' }), {
      maxBodyBytes: 16,
    });
    expect(response.status).toBe(413);
    expect(text).toContain('Content-Length 17 exceeds the limit of 16 bytes');
    expect(ran).toEqual([]);
    expect(request.bodyUsed).toBe(false);
  });

  it('counts the bytes actually read when Content-Length understates them', async () => {
    const { response, ran } = await call(message('x'.repeat(17), { 'Content-Length': '3' }), {
      maxBodyBytes: 16,
    });
    expect(response.status).toBe(413);
    expect(ran).toEqual([]);
  });
});

describe('malformed upstream bodies', () => {
  const json = { 'Content-Type': 'application/json' };
  const cases: [string, UpstreamRequestInit, string][] = [
    [
      'an invocation that is not JSON',
      { event: 'send', headers: json, body: '{"type":1,' },
      'is not valid JSON',
    ],
    ['an empty invocation body', { event: 'send', headers: json, body: '' }, 'is not valid JSON'],
    [
      'an invocation that is a JSON array',
      { event: 'send', headers: json, body: '[1]' },
      'must be a JSON object',
    ],
    [
      'an invocation without arguments',
      { event: 'send', headers: json, body: '{"type":1,"target":"send"}' },
      'needs an "arguments" array',
    ],
    [
      'an invocation of another message type',
      { event: 'send', headers: json, body: '{"type":4,"target":"send","arguments":[]}' },
      '"type":1',
    ],
    [
      'an invocation whose invocationId is a number',
      { event: 'send', headers: json, body: '{"type":1,"target":"send","arguments":[],"invocationId":3}' },
      '"invocationId" must be a string',
    ],
    [
      'an invocation whose target is not the event',
      {
        event: 'send',
        category: 'messages',
        headers: json,
        body: '{"type":1,"target":"other","arguments":[]}',
      },
      'target differs from the event name',
    ],
    [
      'a connected body of the wrong type',
      { event: 'connected', headers: json, body: '{"type":11}' },
      '{"type":10}',
    ],
    [
      'a connected body that is not JSON',
      { event: 'connected', headers: json, body: 'hello' },
      'is not valid JSON',
    ],
    [
      'a disconnected body whose error is not a string',
      { event: 'disconnected', headers: json, body: '{"type":11,"error":5}' },
      '{"type":11',
    ],
    [
      'a text message that is not UTF-8',
      { event: 'message', headers: { 'Content-Type': 'text/plain' }, body: new Uint8Array([0xc3, 0x28]) },
      'not valid UTF-8',
    ],
  ];

  for (const [name, init, reason] of cases) {
    it(`rejects ${name} with 400 and a reason`, async () => {
      const { response, text, ran } = await call(init);
      expect(response.status).toBe(400);
      expect(text).toContain(reason);
      expect(ran).toEqual([]);
    });
  }
});

describe('identity mode: the bearer check comes first', () => {
  const accepting = {
    seen: [] as (string | null)[],
    validate(authorization: string | null) {
      this.seen.push(authorization);
      return authorization === 'Bearer good'
        ? Promise.resolve({})
        : Promise.reject(new UpstreamError('missing-bearer-token'));
    },
  };

  it('accepts a call with an accepted token and no signature, and runs its handler', async () => {
    const { response, ran } = await call(
      { ...connect, signature: null, headers: { Authorization: 'Bearer good' } },
      { bearer: accepting },
    );
    expect(response.status).toBe(204);
    expect(ran).toEqual(['onConnected']);
  });

  it('refuses before any other guard and before any handler, even a correctly signed call', async () => {
    const { response, ran } = await call(
      { ...connect, omit: ['X-ASRS-Connection-Id'] },
      { bearer: accepting },
    );
    expect(response.status).toBe(401);
    expect(ran).toEqual([]);
  });

  it('answers 500 naming the settings when identity mode is not configured', async () => {
    const { response, text, ran } = await call(
      { ...connect, headers: { Authorization: 'Bearer good' } },
      { bearer: UNCONFIGURED_BEARER_CHECK },
    );
    expect(response.status).toBe(500);
    expect(text).toContain('SIGNALR_UPSTREAM_CALLER_ID');
    expect(ran).toEqual([]);
  });
});
