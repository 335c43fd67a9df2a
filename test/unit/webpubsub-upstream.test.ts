/**
 * Azure Web PubSub's event handler calls through the typed upstream dispatcher, checked against known answers:
 * calls built as Learn's CloudEvents reference shows them, signed with signatures computed independently, and
 * Microsoft's `@azure/web-pubsub-express` handler fed the same call as the oracle of what the event is and
 * what the answer must be.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HttpResponseInit } from '@azure/functions';
import type { ConnectRequest, DisconnectedRequest, UserEventRequest } from '@azure/web-pubsub-express';
import { describe, expect, it } from 'vitest';
import {
  type ClientMessageEvent,
  type ConnectEvent,
  createUpstreamHandler,
  type UpstreamBearerCheck,
  UpstreamError,
  type UpstreamHandlers,
  type UpstreamRequest,
} from '../../src/lib/upstream/index.js';
import { WEBPUBSUB_ERRORS } from '../../src/lib/webpubsub/index.js';
import {
  capturingContext,
  KNOWN_SIGNATURES,
  PRIMARY_KEY,
  responseHeaders,
  responseText,
  SECONDARY_KEY,
} from '../support/upstream.js';
import {
  type CloudEventInit,
  cloudEventRequest,
  runExpressHandler,
  SERVICE_ORIGIN,
} from '../support/webpubsub-upstream.js';

const keys = [PRIMARY_KEY, SECONDARY_KEY];

/** Learn's connect body, with values in it. */
const CONNECT_BODY = {
  claims: { sub: ['ann'], role: ['webpubsub.joinLeaveGroup', 'webpubsub.sendToGroup'] },
  query: { room: ['lobby'], tag: ['a', 'b'] },
  headers: { 'user-agent': ['test'] },
  subprotocols: ['json.webpubsub.azure.v1', 'json.reliable.webpubsub.azure.v1'],
  clientCertificates: [{ thumbprint: 'ABCDEF', content: '-----BEGIN CERTIFICATE-----\r\n…' }],
};

const connect = (extra: Partial<CloudEventInit> = {}): CloudEventInit => ({
  type: 'azure.webpubsub.sys.connect',
  eventName: 'connect',
  userId: 'ann',
  body: JSON.stringify(CONNECT_BODY),
  ...extra,
});

/** Our dispatcher on one call; the handler sees the typed request. */
async function ours(
  init: CloudEventInit,
  handlers: UpstreamHandlers,
  options: { hosts?: string[]; bearer?: UpstreamBearerCheck } = {},
) {
  const { context, logs } = capturingContext();
  const handle = createUpstreamHandler(handlers, {
    accessKeys: ['a SignalR key that does not sign Web PubSub calls'],
    webPubSubAccessKeys: keys,
    hub: 'chat',
    ...(options.hosts ? { webPubSubHosts: options.hosts } : {}),
    ...(options.bearer ? { bearer: options.bearer } : {}),
  });
  const response = await handle(cloudEventRequest(init), context);
  return { response, logs };
}

function status(response: HttpResponseInit): number {
  return response.status ?? 200;
}

describe('Web PubSub connect, with Microsoft’s handler as the oracle', () => {
  it('reads the connect as Microsoft’s handler does and answers it with the same status, body and state', async () => {
    let seen: UpstreamRequest<ConnectEvent> | undefined;
    const { response, logs } = await ours(connect(), {
      handleConnect(req, res) {
        seen = req;
        res.setState('room', 'lobby');
        res.accept({
          userId: 'anna',
          groups: ['lobby'],
          roles: ['webpubsub.sendToGroup.lobby'],
          subprotocol: 'json.webpubsub.azure.v1',
        });
      },
    });
    let theirs: ConnectRequest | undefined;
    let theirStates: unknown;
    const oracle = await runExpressHandler(connect(), {
      handleConnect(req, res) {
        theirs = req;
        // Microsoft's setState changes the request's states in place: keep them as they arrived.
        theirStates = { ...req.context.states };
        res.setState('room', 'lobby');
        res.success({
          userId: 'anna',
          groups: ['lobby'],
          roles: ['webpubsub.sendToGroup.lobby'],
          subprotocol: 'json.webpubsub.azure.v1',
        });
      },
    });
    expect(logs).toEqual([]);
    expect(oracle.handled).toBe(true);
    if (!seen || !theirs) throw new Error('a handler was not called');

    // The event.
    expect(seen.event.kind).toBe('connect');
    expect(seen.event.subprotocols).toEqual(theirs.subprotocols);
    expect(seen.event.headers).toEqual(theirs.headers);
    expect(seen.event.clientCertificates).toEqual(theirs.clientCertificates);
    expect({ ...seen.context.claims }).toEqual({ sub: 'ann', role: theirs.claims?.role });
    expect([...seen.context.query.entries()]).toEqual(
      Object.entries(theirs.queries ?? {}).flatMap(([name, values]) => values.map((v) => [name, v])),
    );
    expect(seen.context.hub).toBe(theirs.context.hub);
    expect(seen.context.connectionId).toBe(theirs.context.connectionId);
    expect(seen.context.userId).toBe(theirs.context.userId);
    expect(seen.context.eventName).toBe(theirs.context.eventName);
    expect(seen.context.webpubsub?.origin).toBe(theirs.context.origin);
    expect(seen.context.webpubsub?.states).toEqual(theirStates);

    // The answer.
    expect(status(response)).toBe(oracle.status);
    expect(status(response)).toBe(200);
    expect(JSON.parse(responseText(response))).toEqual(JSON.parse(oracle.body.toString()));
    expect(responseHeaders(response).get('ce-connectionState')).toBe(oracle.headers['ce-connectionstate']);
    expect(responseHeaders(response).get('content-type')).toBe(oracle.headers['content-type']);
  });

  it('accepts with 204 and no body when the answer names nothing, as Microsoft’s handler does', async () => {
    const { response } = await ours(connect(), { handleConnect: (_req, res) => res.accept() });
    const oracle = await runExpressHandler(connect(), { handleConnect: (_req, res) => res.success() });
    expect(status(response)).toBe(oracle.status);
    expect(status(response)).toBe(204);
    expect(responseText(response)).toBe('');
    expect(oracle.body.length).toBe(0);
  });

  it('refuses with the handler’s status and reason, as Microsoft’s handler does', async () => {
    const { response } = await ours(connect(), {
      handleConnect: (_req, res) => res.fail(401, 'sign in first'),
    });
    const oracle = await runExpressHandler(connect(), {
      handleConnect: (_req, res) => res.fail(401, 'sign in first'),
    });
    expect(status(response)).toBe(oracle.status);
    expect(responseText(response)).toBe(oracle.body.toString());
  });

  it('refuses a subprotocol the client did not offer', async () => {
    const { response, logs } = await ours(connect(), {
      handleConnect: (_req, res) => res.accept({ subprotocol: 'protobuf.webpubsub.azure.v1' }),
    });
    expect(status(response)).toBe(500);
    expect(logs.map((l) => l.message).join('\n')).toMatch(/subprotocol the client offered/);
  });
});

const userEvent = (
  contentType: string,
  body: string | Uint8Array,
  extra: Partial<CloudEventInit> = {},
): CloudEventInit => ({
  type: 'azure.webpubsub.user.message',
  eventName: 'message',
  userId: 'ann',
  contentType,
  body,
  ...extra,
});

describe('Web PubSub user events, with Microsoft’s handler as the oracle', () => {
  const cases = [
    { name: 'text', contentType: 'text/plain', body: 'hello', reply: 'hi back' },
    {
      name: 'json',
      contentType: 'application/json',
      body: '{"type":"sendMessage","text":"hé"}',
      reply: { ok: true },
    },
    {
      name: 'binary',
      contentType: 'application/octet-stream',
      body: new Uint8Array([0, 1, 254]),
      reply: new Uint8Array([9, 8]),
    },
  ] as const;

  for (const c of cases) {
    it(`reads ${c.name} data and answers with the matching Content-Type and body`, async () => {
      const state = Buffer.from(JSON.stringify({ seen: 1 })).toString('base64');
      const init = userEvent(c.contentType, c.body, {
        connectionState: state,
        subprotocol: 'json.webpubsub.azure.v1',
      });
      let seen: UpstreamRequest<ClientMessageEvent> | undefined;
      const { response, logs } = await ours(init, {
        handleMessage(req, res) {
          seen = req;
          res.setState('seen', 2);
          res.success(c.reply);
        },
      });
      let theirs: UserEventRequest | undefined;
      let theirStates: unknown;
      const oracle = await runExpressHandler(init, {
        handleUserEvent(req, res) {
          theirs = req;
          theirStates = { ...req.context.states };
          res.setState('seen', 2);
          if (c.name === 'json') res.success(JSON.stringify(c.reply), 'json');
          else if (c.name === 'text') res.success(c.reply as string, 'text');
          else res.success((c.reply as Uint8Array).buffer as ArrayBuffer, 'binary');
        },
      });
      expect(logs).toEqual([]);
      if (!seen || !theirs) throw new Error('a handler was not called');
      expect(seen.event.message.dataType).toBe(theirs.dataType);
      if (c.name === 'json') expect(JSON.parse(seen.event.message.data as string)).toEqual(theirs.data);
      else if (c.name === 'text') expect(seen.event.message.data).toBe(theirs.data);
      else
        expect(Buffer.from(seen.event.message.data as Uint8Array)).toEqual(
          Buffer.from(theirs.data as ArrayBuffer),
        );
      expect(seen.context.eventName).toBe(theirs.context.eventName);
      expect(seen.context.webpubsub?.subprotocol).toBe('json.webpubsub.azure.v1');
      expect(seen.context.webpubsub?.states).toEqual(theirStates);
      expect(seen.context.webpubsub?.states).toEqual({ seen: 1 });
      expect(seen.context.category).toBe('messages');

      expect(status(response)).toBe(oracle.status);
      expect(responseHeaders(response).get('content-type')).toBe(oracle.headers['content-type']);
      expect(responseHeaders(response).get('ce-connectionState')).toBe(oracle.headers['ce-connectionstate']);
      const body = response.body as string | Uint8Array;
      expect(Buffer.from(body)).toEqual(oracle.body);
    });
  }

  it('names a custom event by its name; the answer goes back the same way', async () => {
    const init = userEvent('text/plain', 'x', {
      type: 'azure.webpubsub.user.sendMessage',
      eventName: 'sendMessage',
    });
    let name: string | undefined;
    await ours(init, {
      handleMessage: (req, res) => {
        name = req.context.eventName;
        res.success();
      },
    });
    let theirs: string | undefined;
    await runExpressHandler(init, {
      handleUserEvent: (req, res) => {
        theirs = req.context.eventName;
        res.success();
      },
    });
    expect(name).toBe('sendMessage');
    expect(name).toBe(theirs);
  });

  it('answers 415 to data Microsoft’s handler does not take either', async () => {
    const init = userEvent('application/xml', '<a/>');
    const { response } = await ours(init, { handleMessage: (_req, res) => res.success() });
    const oracle = await runExpressHandler(init, { handleUserEvent: (_req, res) => res.success() });
    expect(oracle.handled).toBe(false);
    expect(status(response)).toBe(415);
    expect(responseText(response)).toMatch(/text\/plain, application\/json or application\/octet-stream/);
  });

  it('answers 400 to JSON data that does not parse, which would throw inside Microsoft’s handler', async () => {
    const { response } = await ours(userEvent('application/json', '{"a":'), {
      handleMessage: (_req, res) => res.success(),
    });
    expect(status(response)).toBe(400);
    expect(responseText(response)).toMatch(/not valid JSON/);
  });
});

describe('Web PubSub connected and disconnected, with Microsoft’s handler as the oracle', () => {
  it('reads connected with its state and answers 2xx without waiting for more', async () => {
    const state = Buffer.from(JSON.stringify({ room: 'lobby' })).toString('base64');
    const init: CloudEventInit = {
      type: 'azure.webpubsub.sys.connected',
      eventName: 'connected',
      userId: 'ann',
      subprotocol: 'json.webpubsub.azure.v1',
      connectionState: state,
      body: '{}',
    };
    let ourStates: unknown;
    let dialect: string | undefined;
    const { response } = await ours(init, {
      onConnected(req) {
        ourStates = req.context.webpubsub?.states;
        dialect = req.event.dialect;
      },
    });
    const theirs = new Promise<Record<string, unknown>>((resolve) => {
      void runExpressHandler(init, { onConnected: (req) => resolve(req.context.states) });
    });
    expect(status(response)).toBe(204);
    expect(ourStates).toEqual(await theirs);
    expect(dialect).toBe('websocket');
  });

  it('reads the reason of disconnected as Microsoft’s handler does', async () => {
    const init: CloudEventInit = {
      type: 'azure.webpubsub.sys.disconnected',
      eventName: 'disconnected',
      userId: 'ann',
      body: JSON.stringify({ reason: 'The client closed the connection' }),
    };
    let reason: string | undefined;
    const { response } = await ours(init, {
      onDisconnected(req) {
        reason = req.event.kind === 'disconnect' ? req.event.reason : undefined;
      },
    });
    const theirs = new Promise<DisconnectedRequest>((resolve) => {
      void runExpressHandler(init, { onDisconnected: resolve });
    });
    expect(status(response)).toBe(204);
    expect(reason).toBe((await theirs).reason);
  });
});

describe('Web PubSub guards, before the body is read', () => {
  const accept: UpstreamHandlers = { handleConnect: (_req, res) => res.accept() };

  it('accepts either key’s signature entry alone', async () => {
    const { primary, secondary } = KNOWN_SIGNATURES.a1b2c3;
    for (const signature of [`sha256=${primary}`, `sha256=${secondary}`]) {
      expect(status((await ours(connect({ signature }), accept)).response)).toBe(204);
    }
  });

  it('rejects a connect whose signature matches neither key, before looking at its body', async () => {
    const { response } = await ours(
      connect({ signature: `sha256=${'0'.repeat(64)}`, body: '{not json' }),
      accept,
    );
    expect(status(response)).toBe(401);
    expect(responseText(response)).toMatch(/ce-signature matches none/);
  });

  it('rejects a call without ce-signature', async () => {
    const { response } = await ours(connect({ signature: null }), accept);
    expect(status(response)).toBe(401);
  });

  it('rejects a call for another hub, which Microsoft’s handler passes on', async () => {
    const { response } = await ours(connect({ hub: 'other' }), accept);
    expect(status(response)).toBe(400);
    expect(responseText(response)).toMatch(/does not serve that hub/);
  });

  it('rejects an unknown ce-type and another CloudEvents version', async () => {
    expect(status((await ours(connect({ type: 'azure.webpubsub.sys.other' }), accept)).response)).toBe(400);
    const v2 = await ours(connect({ headers: { 'ce-specversion': '2.0' } }), accept);
    expect(status(v2.response)).toBe(400);
    expect(responseText(v2.response)).toMatch(/must be 1\.0/);
  });

  it('in identity mode checks the bearer token first and reads no signature', async () => {
    const refused: UpstreamBearerCheck = {
      validate: (authorization) =>
        authorization ? Promise.resolve() : Promise.reject(new UpstreamError('missing-bearer-token')),
    };
    // Signed with the right keys, but without a token: refused all the same.
    const noToken = await ours(connect(), accept, { bearer: refused });
    expect(status(noToken.response)).toBe(401);
    const checked: string[] = [];
    const allowed: UpstreamBearerCheck = {
      validate: async (authorization) => {
        checked.push(String(authorization));
      },
    };
    const ok = await ours(connect({ signature: null, headers: { Authorization: 'Bearer token' } }), accept, {
      bearer: allowed,
    });
    expect(status(ok.response)).toBe(204);
    expect(checked).toEqual(['Bearer token']);
  });
});

describe('the abuse-protection handshake', () => {
  const options: CloudEventInit = { type: '', eventName: '', method: 'OPTIONS' };

  it('allows the app’s own service host, as Microsoft’s handler allows its allowed endpoints', async () => {
    const { response } = await ours(options, {}, { hosts: [`https://${SERVICE_ORIGIN}/`] });
    const oracle = await runExpressHandler(options, { allowedEndpoints: [`https://${SERVICE_ORIGIN}`] });
    expect(status(response)).toBe(200);
    expect(oracle.status).toBe(200);
    expect(responseHeaders(response).get('WebHook-Allowed-Origin')).toBe(SERVICE_ORIGIN);
    expect(oracle.headers['webhook-allowed-origin']).toEqual([SERVICE_ORIGIN]);
  });

  it('refuses any other host with 403 and no WebHook-Allowed-Origin', async () => {
    const { response } = await ours(
      { ...options, headers: { 'WebHook-Request-Origin': 'evil.webpubsub.azure.com' } },
      {},
      { hosts: [SERVICE_ORIGIN] },
    );
    expect(status(response)).toBe(403);
    expect(responseHeaders(response).get('WebHook-Allowed-Origin')).toBeNull();
  });

  it('refuses every host when the app knows no service, and a handshake without an origin with 400', async () => {
    expect(status((await ours(options, {})).response)).toBe(403);
    const noOrigin = { ...options, headers: { 'WebHook-Request-Origin': '' } };
    const oracle = await runExpressHandler(noOrigin, {});
    expect(oracle.status).toBe(200); // express reads the empty header as present
    expect(status((await ours(noOrigin, {}, { hosts: [SERVICE_ORIGIN] })).response)).toBe(400);
  });
});

describe('the Web PubSub rejection catalogue', () => {
  it('has no entry that the Web PubSub code never raises', () => {
    const dir = join(import.meta.dirname, '../../src/lib/webpubsub');
    const source = readdirSync(dir)
      .filter((file) => file.endsWith('.ts') && file !== 'errors.ts')
      .map((file) => readFileSync(join(dir, file), 'utf8'))
      .join('\n');
    const raised = new Set([...source.matchAll(/new WebPubSubError\(\s*'([a-z-]+)'/g)].map((m) => m[1]));
    expect([...raised].sort()).toEqual(Object.keys(WEBPUBSUB_ERRORS).sort());
  });
});
