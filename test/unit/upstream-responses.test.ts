import { JsonHubProtocol, NullLogger } from '@microsoft/signalr';
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack';
import { describe, expect, it } from 'vitest';
import { createUpstreamHandler, type UpstreamHandlers } from '../../src/lib/upstream/index.js';
import {
  capturingContext,
  PRIMARY_KEY,
  responseHeaders,
  responseText,
  type UpstreamRequestInit,
  upstreamRequest,
} from '../support/upstream.js';

async function call(handlers: UpstreamHandlers, init: UpstreamRequestInit) {
  const { context, logs } = capturingContext();
  const response = await createUpstreamHandler(handlers, { accessKeys: [PRIMARY_KEY] })(
    upstreamRequest(init),
    context,
  );
  return { response, logs, headers: responseHeaders(response), text: responseText(response) };
}

const connect: UpstreamRequestInit = {
  event: 'connect',
  category: 'connections',
  headers: { 'Sec-WebSocket-Protocol': 'json.v1, chat.v1' },
};
const message: UpstreamRequestInit = {
  event: 'message',
  category: 'messages',
  headers: { 'Content-Type': 'text/plain' },
  body: 'hello',
};
const invocation: UpstreamRequestInit = {
  event: 'loadHistory',
  category: 'messages',
  headers: { 'Content-Type': 'application/json' },
  body: '{"type":1,"invocationId":"1","target":"loadHistory","arguments":[{"conversation":"room"}]}',
};

describe('answering a connect', () => {
  it('accepts with a user id, a chosen subprotocol and a JSON first message', async () => {
    const { response, headers, text, logs } = await call(
      {
        handleConnect: async (_req, res) => {
          await Promise.resolve();
          res.accept({ userId: 'ann', subprotocol: 'chat.v1', body: { type: 'welcome', user: 'ann' } });
        },
      },
      connect,
    );
    expect(response.status).toBe(200);
    expect(headers.get('X-ASRS-User-Id')).toBe('ann');
    expect(headers.get('Sec-WebSocket-Protocol')).toBe('chat.v1');
    expect(headers.get('Content-Type')).toBe('application/json; charset=utf-8');
    expect(JSON.parse(text)).toEqual({ type: 'welcome', user: 'ann' });
    expect(logs).toEqual([]);
  });

  it('sends a text first message as text/plain and a bytes first message as application/octet-stream', async () => {
    const asText = await call({ handleConnect: (_req, res) => res.accept({ body: 'hi there' }) }, connect);
    expect(asText.headers.get('Content-Type')).toBe('text/plain; charset=utf-8');
    expect(asText.text).toBe('hi there');
    expect(asText.headers.has('X-ASRS-User-Id')).toBe(false);
    const asBytes = await call(
      { handleConnect: (_req, res) => res.accept({ body: new Uint8Array([1, 2]) }) },
      connect,
    );
    expect(asBytes.response.status).toBe(200);
    expect(asBytes.headers.get('Content-Type')).toBe('application/octet-stream');
    expect([...(asBytes.response.body as Uint8Array)]).toEqual([1, 2]);
  });

  it('accepts without a body as 204 with the user id header', async () => {
    const { response, headers } = await call(
      { handleConnect: (_req, res) => res.accept({ userId: 'bob' }) },
      connect,
    );
    expect(response.status).toBe(204);
    expect(response.body).toBeUndefined();
    expect(headers.get('X-ASRS-User-Id')).toBe('bob');
  });

  for (const status of [400, 401, 403] as const) {
    it(`refuses with ${status} and the reason as the body`, async () => {
      const { response, text } = await call(
        { handleConnect: (_req, res) => res.fail(status, 'name is not allowed') },
        connect,
      );
      expect(response.status).toBe(status);
      expect(text).toBe('name is not allowed');
    });
  }

  it('refuses at accept() a subprotocol the client did not offer: TypeError, logged, 500', async () => {
    let thrown: unknown;
    const { response, logs, text } = await call(
      {
        handleConnect: (_req, res) => {
          try {
            res.accept({ subprotocol: 'mqtt' });
          } catch (error) {
            thrown = error;
            throw error;
          }
        },
      },
      connect,
    );
    expect(thrown).toBeInstanceOf(TypeError);
    expect((thrown as Error).message).toContain('json.v1, chat.v1');
    expect(response.status).toBe(500);
    expect(text).not.toContain('at ');
    expect(logs).toHaveLength(1);
    expect(logs[0]!.level).toBe('error');
    expect(logs[0]!.message).toContain('must choose one the client offered');
  });

  for (const userId of ['ann\r\nX-Evil: 1', ' ann', 'Zoë', '']) {
    it(`refuses a user id the X-ASRS-User-Id header cannot carry: ${JSON.stringify(userId)}`, async () => {
      const { response, logs } = await call(
        { handleConnect: (_req, res) => res.accept({ userId }) },
        connect,
      );
      expect(response.status).toBe(500);
      expect(logs[0]!.message).toContain('printable ASCII');
    });
  }

  it('sends no X-ASRS-User-Id when accepting the user the service already named (any script)', async () => {
    const { response, headers, logs } = await call(
      { handleConnect: (req, res) => res.accept({ userId: req.context.userId }) },
      { ...connect, headers: { ...connect.headers, 'X-ASRS-User-Id': 'Zoë' } },
    );
    expect(logs).toEqual([]);
    expect(response.status).toBe(204);
    expect(headers.has('X-ASRS-User-Id')).toBe(false);
  });

  it('sends X-ASRS-User-Id when accepting a different user than the service named', async () => {
    const { headers } = await call(
      { handleConnect: (_req, res) => res.accept({ userId: 'bob' }) },
      { ...connect, headers: { ...connect.headers, 'X-ASRS-User-Id': 'ann' } },
    );
    expect(headers.get('X-ASRS-User-Id')).toBe('bob');
  });

  it('accepts a user id with inner spaces and punctuation', async () => {
    const { headers } = await call(
      { handleConnect: (_req, res) => res.accept({ userId: 'Ann B. Smith-2' }) },
      connect,
    );
    expect(headers.get('X-ASRS-User-Id')).toBe('Ann B. Smith-2');
  });

  it('treats a second answer as a programming error', async () => {
    const { response, logs } = await call(
      {
        handleConnect: (_req, res) => {
          res.accept();
          res.fail(403, 'changed my mind');
        },
      },
      connect,
    );
    expect(response.status).toBe(500);
    expect(logs[0]!.message).toContain('already been answered');
  });

  it('answers 500 when handleConnect returns without answering (fails closed)', async () => {
    const { response, logs, text } = await call({ handleConnect: () => {} }, connect);
    expect(response.status).toBe(500);
    expect(text).toContain('returned without answering');
    expect(logs).toHaveLength(1);
    expect(logs[0]!.level).toBe('error');
    expect(logs[0]!.message).toContain('handleConnect');
  });
});

describe('answering messages and invocations', () => {
  it('sends a message reply back as text', async () => {
    const { response, text, headers } = await call(
      { handleMessage: (req, res) => res.success(`echo: ${req.event.message.data as string}`) },
      message,
    );
    expect(response.status).toBe(200);
    expect(headers.get('Content-Type')).toBe('text/plain; charset=utf-8');
    expect(text).toBe('echo: hello');
  });

  it('answers a message with no reply as 204 and a failed one with its status', async () => {
    expect((await call({ handleMessage: (_req, res) => res.success() }, message)).response).toEqual({
      status: 204,
    });
    const failed = await call({ handleMessage: (_req, res) => res.fail(429, 'slow down') }, message);
    expect(failed.response.status).toBe(429);
    expect(failed.text).toBe('slow down');
  });

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
});

describe('events without a handler, and handlers that throw', () => {
  const everyEvent: [string, UpstreamRequestInit][] = [
    ['connect', connect],
    ['message', message],
    ['invocation', invocation],
    ['connected', { event: 'connected', body: '{"type":10}' }],
    ['disconnect', { event: 'disconnect' }],
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
      { event: 'disconnect' },
    );
    order.push(`answered ${response.status}`);
    expect(order).toEqual(['handled disconnect', 'answered 204']);
  });
});
