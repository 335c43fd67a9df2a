import { JsonHubProtocol, NullLogger } from '@microsoft/signalr';
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack';
import { describe, expect, it } from 'vitest';
import {
  createUpstreamHandler,
  type UpstreamHandlerOptions,
  type UpstreamHandlers,
} from '../../src/lib/upstream/index.js';
import {
  capturingContext,
  PRIMARY_KEY,
  responseHeaders,
  responseText,
  type UpstreamRequestInit,
  upstreamRequest,
} from '../support/upstream.js';

async function call(
  handlers: UpstreamHandlers,
  init: UpstreamRequestInit,
  options: Partial<UpstreamHandlerOptions> = {},
) {
  const { context, logs } = capturingContext();
  const response = await createUpstreamHandler(handlers, { accessKeys: [PRIMARY_KEY], ...options })(
    upstreamRequest(init),
    context,
  );
  return { response, logs, headers: responseHeaders(response), text: responseText(response) };
}

const invocation: UpstreamRequestInit = {
  event: 'loadHistory',
  category: 'messages',
  headers: { 'Content-Type': 'application/json' },
  body: '{"type":1,"invocationId":"1","target":"loadHistory","arguments":[{"conversation":"room"}]}',
};

describe('answers in general', () => {
  it('treats a second answer as a programming error', async () => {
    const { response, logs } = await call(
      {
        handleInvocation: (_req, res) => {
          res.success();
          res.fail(403, 'changed my mind');
        },
      },
      invocation,
    );
    expect(response.status).toBe(500);
    expect(logs[0]!.message).toContain('already been answered');
  });

  it('answers 500 when handleInvocation returns without answering (fails closed)', async () => {
    const { response, logs, text } = await call({ handleInvocation: () => {} }, invocation);
    expect(response.status).toBe(500);
    expect(text).toContain('returned without answering');
    expect(logs).toHaveLength(1);
    expect(logs[0]!.level).toBe('error');
    expect(logs[0]!.message).toContain('handleInvocation');
  });

  it('refuses the retired 2020 preview events connect and disconnect as unknown (only Web PubSub sends them)', async () => {
    for (const event of ['connect', 'disconnect', 'handshake']) {
      const called: string[] = [];
      const { response } = await call(
        {
          handleConnect: () => void called.push('handleConnect'),
          onDisconnected: () => void called.push('onDisconnected'),
        },
        { event, category: 'connections' },
      );
      expect(response.status, event).toBe(400);
      expect(called).toEqual([]);
    }
  });
});

describe('answering invocations', () => {
  it('answers an invocation with a framed JSON Completion, status 200 and no Content-Type', async () => {
    const withResult = await call(
      {
        handleInvocation: (req, res) =>
          res.success({ echoed: req.event.arguments[0], id: req.event.invocationId }),
      },
      invocation,
    );
    expect(withResult.response.status).toBe(200);
    expect(withResult.headers.get('Content-Type')).toBeNull();
    // Read back by the official client's own protocol implementation.
    expect(new JsonHubProtocol().parseMessages(withResult.text, NullLogger.instance)).toEqual([
      { type: 3, invocationId: '1', result: { echoed: { conversation: 'room' }, id: '1' } },
    ]);
    const nullResult = await call({ handleInvocation: (_req, res) => res.success(null) }, invocation);
    expect(nullResult.text).toBe('{"type":3,"invocationId":"1","result":null}\x1e');
    const noResult = await call({ handleInvocation: (_req, res) => res.success() }, invocation);
    expect(noResult.response.status).toBe(200);
    expect(noResult.text).toBe('{"type":3,"invocationId":"1"}\x1e');
  });

  it('answers a failed invocation with a Completion error, still status 200', async () => {
    const { response, text } = await call(
      { handleInvocation: (_req, res) => res.fail(403, 'not a member of that group') },
      invocation,
    );
    expect(response.status).toBe(200);
    expect(text).toBe('{"type":3,"invocationId":"1","error":"not a member of that group"}\x1e');
  });

  it('answers a send (no invocationId) with an empty 200, and a failed one with its status', async () => {
    const send = { ...invocation, body: '{"type":1,"target":"loadHistory","arguments":[{}]}' };
    const ok = await call({ handleInvocation: (_req, res) => res.success({ ignored: true }) }, send);
    expect(ok.response).toEqual({ status: 200 });
    const refused = await call({ handleInvocation: (_req, res) => res.fail(403, 'no') }, send);
    expect(refused.response.status).toBe(403);
    expect(refused.text).toBe('no');
  });

  it('reads a MessagePack invocation body as Azure sends it and answers in MessagePack', async () => {
    // [1, {}, "1", "loadHistory", [{"conversation": "room"}]], without length prefix (MessagePack spec bytes).
    const body = Uint8Array.from([
      0x95,
      0x01,
      0x80,
      0xa1,
      0x31,
      0xab,
      ...Buffer.from('loadHistory'),
      0x91,
      0x81,
      0xac,
      ...Buffer.from('conversation'),
      0xa4,
      ...Buffer.from('room'),
    ]);
    let seen: unknown;
    const answered = await call(
      {
        handleInvocation: (req, res) => {
          seen = req.event;
          res.success({ page: [] });
        },
      },
      { ...invocation, headers: { 'Content-Type': 'application/x-msgpack' }, body },
    );
    expect(seen).toEqual({
      kind: 'invocation',
      dialect: 'signalr',
      protocol: 'messagepack',
      target: 'loadHistory',
      arguments: [{ conversation: 'room' }],
      invocationId: '1',
    });
    expect(answered.response.status).toBe(200);
    const bytes = answered.response.body as Uint8Array;
    const parsed = new MessagePackHubProtocol().parseMessages(
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
      NullLogger.instance,
    );
    expect(parsed).toEqual([
      { type: 3, invocationId: '1', headers: {}, result: { page: [] }, error: undefined },
    ]);
    const failed = await call(
      { handleInvocation: (_req, res) => res.fail(400, 'bad') },
      { ...invocation, headers: { 'Content-Type': 'application/x-msgpack' }, body },
    );
    // [3, {}, "1", 1, "bad"] behind its length prefix.
    expect([...(failed.response.body as Uint8Array)]).toEqual([
      10,
      0x95,
      0x03,
      0x80,
      0xa1,
      0x31,
      0x01,
      0xa3,
      ...Buffer.from('bad'),
    ]);
  });

  it('refuses a MessagePack body that carries a length prefix, or is no Invocation, with 400', async () => {
    // The same invocation as the connection carries it, prefix included: Azure never sends that upstream.
    const prefixed = Uint8Array.from([6, 0x95, 0x01, 0x80, 0xc0, 0xa1, 0x6d, 0x90]);
    const { response, text } = await call(
      { handleInvocation: (_req, res) => res.success() },
      { ...invocation, event: 'm', headers: { 'Content-Type': 'application/x-msgpack' }, body: prefixed },
    );
    expect(response.status).toBe(400);
    expect(text).toContain('without length prefix');
  });

  it('refuses a MessagePack body that declares more than it holds, or nests deeper than maxMessagePackDepth, with 400', async () => {
    const handled: unknown[] = [];
    const handlers: UpstreamHandlers = {
      handleInvocation: (req, res) => {
        handled.push(req.event);
        res.success();
      },
    };
    const msgpack = (body: Uint8Array) => ({
      ...invocation,
      event: 'm',
      headers: { 'Content-Type': 'application/x-msgpack' },
      body,
    });
    // 8 000 nested array32 headers declaring 99 999 elements each.
    const declared = new Uint8Array(8000 * 5);
    for (let at = 0; at < declared.length; at += 5) declared.set([0xdd, 0x00, 0x01, 0x86, 0x9f], at);
    const huge = await call(handlers, msgpack(declared));
    expect(huge.response.status).toBe(400);
    expect(huge.text).toContain('the array at byte 0 declares 99999 elements but only 39995 bytes follow');

    // [1, {}, nil, "m", [argument]] with an argument of 501 nested arrays around 42.
    const deep = Uint8Array.from([
      0x95,
      0x01,
      0x80,
      0xc0,
      0xa1,
      0x6d,
      0x91,
      ...new Array(501).fill(0x91),
      0x2a,
    ]);
    const refused = await call(handlers, msgpack(deep));
    expect(refused.response.status).toBe(400);
    expect(refused.text).toContain(
      'nests more than 500 arrays and maps deep in one value (maxMessagePackDepth)',
    );
    expect(handled).toEqual([]);
    const taken = await call(handlers, msgpack(deep), { maxMessagePackDepth: 501 });
    expect(taken.response.status).toBe(200);
    expect(handled).toHaveLength(1);
    expect(() =>
      createUpstreamHandler(handlers, { accessKeys: [PRIMARY_KEY], maxMessagePackDepth: 0 }),
    ).toThrow('maxMessagePackDepth must be a positive integer; got 0');
  });
});

describe('events without a handler, and handlers that throw', () => {
  const everyEvent: [string, UpstreamRequestInit][] = [
    ['invocation', invocation],
    ['connected', { event: 'connected', body: '{"type":10}' }],
    ['disconnected', { event: 'disconnected', body: '{"type":11}' }],
  ];

  for (const [name, init] of everyEvent) {
    it(`answers ${name} with an empty 204 when no handler is registered`, async () => {
      const { response, logs } = await call({}, init);
      expect(response).toEqual({ status: 204 });
      expect(logs).toEqual([]);
    });
  }

  it('logs a throwing handler with hub, event and connection id, and answers 500 without a stack trace', async () => {
    const { response, logs, text } = await call(
      {
        onConnected: async () => {
          throw new Error('history store unavailable');
        },
      },
      { event: 'connected', connectionId: 'conn-01HZX5', body: '{"type":10}' },
    );
    expect(response.status).toBe(500);
    expect(text).toBe('The upstream handler failed; the Functions log has the details');
    expect(text).not.toContain('history store unavailable');
    expect(logs).toHaveLength(1);
    const [entry] = logs;
    expect(entry!.level).toBe('error');
    expect(entry!.message).toContain('hub="chat"');
    expect(entry!.message).toContain('event="connected"');
    expect(entry!.message).toContain('connection="conn-01HZX5"');
    expect(entry!.message).toContain('history store unavailable');
    expect(entry!.message).not.toMatch(/\n\s+at /);
    expect(entry!.message).not.toContain(PRIMARY_KEY);
  });

  it('awaits a notification handler before answering', async () => {
    const order: string[] = [];
    const { response } = await call(
      {
        onDisconnected: async (req) => {
          await new Promise((resolve) => setImmediate(resolve));
          order.push(`handled ${req.event.kind}`);
        },
      },
      { event: 'disconnected', body: '{"type":11}' },
    );
    order.push(`answered ${response.status}`);
    expect(order).toEqual(['handled disconnected', 'answered 204']);
  });
});
