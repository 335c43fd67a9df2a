import { describe, expect, it } from 'vitest';
import {
  type ConnectedEvent,
  createUpstreamHandler,
  type DisconnectedEvent,
  type InvocationEvent,
  type UpstreamHandlers,
  type UpstreamRequest,
} from '../../src/lib/upstream/index.js';
import {
  capturingContext,
  PRIMARY_KEY,
  SECONDARY_KEY,
  type UpstreamRequestInit,
  upstreamRequest,
} from '../support/upstream.js';

const keys = [PRIMARY_KEY, SECONDARY_KEY];

/** Sends one call through a dispatcher whose handlers record what they receive and answer with defaults. */
async function capture(init: UpstreamRequestInit) {
  const seen: { handler: string; req: UpstreamRequest }[] = [];
  const handlers: UpstreamHandlers = {
    handleConnect: (req, res) => {
      seen.push({ handler: 'handleConnect', req });
      res.accept();
    },
    handleMessage: (req, res) => {
      seen.push({ handler: 'handleMessage', req });
      res.success();
    },
    handleInvocation: (req, res) => {
      seen.push({ handler: 'handleInvocation', req });
      res.success();
    },
    onConnected: (req) => {
      seen.push({ handler: 'onConnected', req });
    },
    onDisconnected: (req) => {
      seen.push({ handler: 'onDisconnected', req });
    },
  };
  const { context, logs } = capturingContext();
  const response = await createUpstreamHandler(handlers, { accessKeys: keys })(
    upstreamRequest(init),
    context,
  );
  expect(logs).toEqual([]);
  expect(seen).toHaveLength(1);
  return { response, handler: seen[0]!.handler, req: seen[0]!.req };
}

describe('the context of an upstream call', () => {
  it('parses hub, connection, user, claims and the client query', async () => {
    const { response, handler, req } = await capture({
      event: 'connected',
      category: 'connections',
      body: '{"type":10}',
      headers: {
        'X-ASRS-User-Id': 'ann',
        'X-ASRS-User-Claims':
          'nameid: ann, role: admin, role: reader, http://schemas.microsoft.com/ws/2008/06/identity/claims/role: x',
        'X-ASRS-Client-Query': '?name=ann&room=main&room=side',
      },
    });
    expect(handler).toBe('onConnected');
    expect(req.context.hub).toBe('chat');
    expect(req.context.connectionId).toBe('a1b2c3');
    expect(req.context.userId).toBe('ann');
    expect(req.context.category).toBe('connections');
    expect(req.context.eventName).toBe('connected');
    expect({ ...req.context.claims }).toEqual({
      nameid: 'ann',
      role: ['admin', 'reader'],
      'http://schemas.microsoft.com/ws/2008/06/identity/claims/role': 'x',
    });
    expect(req.context.query.get('name')).toBe('ann');
    expect(req.context.query.getAll('room')).toEqual(['main', 'side']);
    expect(req.httpRequest.headers.get('x-asrs-event')).toBe('connected');
    expect(response.status).toBe(204);
  });

  it('reads the event from ?event= and its category without the header', async () => {
    const { handler, req } = await capture({ event: 'connected', eventInQuery: true, body: '{"type":10}' });
    expect(handler).toBe('onConnected');
    expect(req.context.category).toBe('connections');
    expect(req.context.userId).toBeUndefined();
    expect({ ...req.context.claims }).toEqual({});
    expect([...req.context.query]).toEqual([]);
  });
});

describe('upstream events of the signalr dialect', () => {
  const json = { 'Content-Type': 'application/json' };

  it('parses connected ({"type":10}) with the user and claims from the token', async () => {
    const { response, handler, req } = await capture({
      event: 'connected',
      category: 'connections',
      connectionId: 'conn-01HZX5',
      headers: { ...json, 'X-ASRS-User-Id': 'bob', 'X-ASRS-User-Claims': 'nameid: bob, team: blue' },
      body: '{"type":10}',
    });
    expect(handler).toBe('onConnected');
    expect(req.event).toEqual<ConnectedEvent>({ kind: 'connected', dialect: 'signalr' });
    expect(req.context.connectionId).toBe('conn-01HZX5');
    expect(req.context.userId).toBe('bob');
    expect({ ...req.context.claims }).toEqual({ nameid: 'bob', team: 'blue' });
    expect(response).toEqual({ status: 204 });
  });

  it('parses an invocation with target, arguments and invocationId', async () => {
    const { handler, req } = await capture({
      event: 'sendMessage',
      category: 'messages',
      headers: json,
      body: '{"type":1,"invocationId":"7","target":"sendMessage","arguments":[{"text":"hi"}]}',
    });
    expect(handler).toBe('handleInvocation');
    expect(req.event).toEqual<InvocationEvent>({
      kind: 'invocation',
      dialect: 'signalr',
      protocol: 'json',
      target: 'sendMessage',
      arguments: [{ text: 'hi' }],
      invocationId: '7',
    });
  });

  it('parses an invocation without invocationId (the page sends with `send`)', async () => {
    const { req } = await capture({
      event: 'joinGroup',
      category: 'messages',
      headers: json,
      body: '{"type":1,"target":"joinGroup","arguments":[{"group":"g"}]}',
    });
    expect(req.event).toEqual({
      kind: 'invocation',
      dialect: 'signalr',
      protocol: 'json',
      target: 'joinGroup',
      arguments: [{ group: 'g' }],
    });
  });

  it('reads a JSON invocation of a hub method called `message` as an invocation', async () => {
    const { handler, req } = await capture({
      event: 'message',
      category: 'messages',
      headers: json,
      body: '{"type":1,"target":"message","arguments":[]}',
    });
    expect(handler).toBe('handleInvocation');
    expect((req.event as InvocationEvent).target).toBe('message');
  });

  it('parses disconnected with and without an error', async () => {
    const abnormal = await capture({
      event: 'disconnected',
      category: 'connections',
      headers: json,
      body: '{"type":11,"error":"Connection reset"}',
    });
    expect(abnormal.handler).toBe('onDisconnected');
    expect(abnormal.req.event).toEqual<DisconnectedEvent>({
      kind: 'disconnected',
      dialect: 'signalr',
      error: 'Connection reset',
    });
    const normal = await capture({ event: 'disconnected', headers: json, body: '{"type":11}' });
    expect(normal.req.event).toEqual({ kind: 'disconnected', dialect: 'signalr' });
  });
});
