/**
 * Upstream calls written exactly as Microsoft's emulator writes them (Azure/azure-signalr,
 * src/Microsoft.Azure.SignalR.Emulator: `HttpServerlessMessageHandler.cs`, `HttpUpstreamPropertiesFeature.cs`,
 * `Common/Utils.cs`), which the Functions SignalR extension accepts, so the app must too.
 */
import { describe, expect, it } from 'vitest';
import {
  createUpstreamHandler,
  type UpstreamHandlers,
  type UpstreamRequest,
} from '../../src/lib/upstream/index.js';
import {
  capturingContext,
  KNOWN_SIGNATURES,
  PRIMARY_KEY,
  SECONDARY_KEY,
  type UpstreamRequestInit,
  upstreamRequest,
} from '../support/upstream.js';

const NAME_IDENTIFIER = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier';
/** A client token as a browser puts it in the query: it must never reach a log line. */
const ACCESS_TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJhc3JzLnMudWlkIjoiYW5uIn0.c2VjcmV0LXNpZ25hdHVyZQ';

/** The emulator's signature header: upper-case hex, one entry per key, one header value. */
const EMULATOR_SIGNATURE = `sha256=${KNOWN_SIGNATURES.a1b2c3.primary.toUpperCase()},sha256=${KNOWN_SIGNATURES.a1b2c3.secondary.toUpperCase()}`;

/** Every header the emulator sets on a call for a browser client of user ann. */
const EMULATOR_HEADERS = {
  'X-ASRS-User-Id': 'ann',
  // Claim types after .NET's inbound mapping, all token claims included, joined with ", " by HttpClient.
  'X-ASRS-User-Claims': `asrs.s.uid: ann, ${NAME_IDENTIFIER}: ann, aud: http://localhost:8888/client/?hub=chat, exp: 1900000000, iat: 1700000000, nbf: 1700000000`,
  // QueryString.ToString(): the leading "?" and the whole connect query, the access token included.
  'X-ASRS-Client-Query': `?hub=chat&id=Q1w2E3r4&access_token=${ACCESS_TOKEN}&name=ann`,
};

async function capture(init: UpstreamRequestInit, handlers: Partial<UpstreamHandlers> = {}) {
  const seen: UpstreamRequest[] = [];
  const all: UpstreamHandlers = {
    handleInvocation: (req, res) => {
      seen.push(req);
      res.success('ok');
    },
    onConnected: (req) => {
      seen.push(req);
    },
    onDisconnected: (req) => {
      seen.push(req);
    },
    ...handlers,
  };
  const { context, logs } = capturingContext();
  const response = await createUpstreamHandler(all, { accessKeys: [PRIMARY_KEY, SECONDARY_KEY] })(
    upstreamRequest({
      signature: EMULATOR_SIGNATURE,
      ...init,
      headers: { ...EMULATOR_HEADERS, ...init.headers },
    }),
    context,
  );
  return { response, req: seen[0], logs };
}

describe('upstream calls in the exact shapes Azure SignalR sends', () => {
  it('accepts {"Type":11,"Error":…} and {"Type":11} for disconnected, and {"type":10} for connected', async () => {
    const failed = await capture({
      event: 'disconnected',
      category: 'connections',
      headers: { 'Content-Type': 'application/json' },
      body: '{"Type":11,"Error":"Connection reset by peer"}',
    });
    expect(failed.response.status).toBe(204);
    expect(failed.req?.event).toEqual({
      kind: 'disconnected',
      dialect: 'signalr',
      error: 'Connection reset by peer',
    });
    const normal = await capture({
      event: 'disconnected',
      category: 'connections',
      headers: { 'Content-Type': 'application/json' },
      body: '{"Type":11}',
    });
    expect(normal.req?.event).toEqual({ kind: 'disconnected', dialect: 'signalr' });
    const connected = await capture({
      event: 'connected',
      category: 'connections',
      headers: { 'Content-Type': 'application/json' },
      body: '{"type":10}',
    });
    expect(connected.req?.event).toEqual({ kind: 'connected', dialect: 'signalr' });
  });

  it('accepts upper-case hex signatures, URI claim types and the full client query, and reads them', async () => {
    const { response, req, logs } = await capture({
      event: 'connected',
      category: 'connections',
      headers: { 'Content-Type': 'application/json' },
      body: '{"type":10}',
    });
    expect(response.status).toBe(204);
    expect(logs).toEqual([]);
    expect(req?.context.userId).toBe('ann');
    expect(req?.context.claims).toMatchObject({
      'asrs.s.uid': 'ann',
      [NAME_IDENTIFIER]: 'ann',
      exp: '1900000000',
    });
    expect(req?.context.query.get('name')).toBe('ann');
    expect(req?.context.query.get('hub')).toBe('chat');
    expect(req?.context.query.has('?hub')).toBe(false);
  });

  it('reads member names of a JSON invocation in any case, as the extension does', async () => {
    const { req } = await capture({
      event: 'add',
      category: 'messages',
      headers: { 'Content-Type': 'application/json' },
      body: '{"Type":1,"InvocationId":"7","Target":"add","Arguments":[1,2]}',
    });
    expect(req?.event).toEqual({
      kind: 'invocation',
      dialect: 'signalr',
      protocol: 'json',
      target: 'add',
      arguments: [1, 2],
      invocationId: '7',
    });
  });

  it('never logs the access token of the client query, whether the call is refused or its handler fails', async () => {
    const refused = await capture({
      event: 'connected',
      category: 'connections',
      signature: 'sha256=00',
      body: '{"type":10}',
    });
    expect(refused.response.status).toBe(401);
    const failed = await capture(
      { event: 'add', category: 'messages', body: '{"type":1,"target":"add","arguments":[]}' },
      {
        handleInvocation: (req) => {
          throw new Error(`cannot add for ${req.context.userId}`);
        },
      },
    );
    expect(failed.response.status).toBe(500);
    const logged = [...refused.logs, ...failed.logs].map((entry) => JSON.stringify(entry)).join('\n');
    expect(logged).not.toBe('');
    expect(logged).not.toContain(ACCESS_TOKEN);
  });
});
