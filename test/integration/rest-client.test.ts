import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import { type JWTPayload, jwtVerify } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  HubClient,
  type HubClientOptions,
  MAX_CLIENT_TOKEN_TTL_SECONDS,
  parseConnectionString,
  SignalRRestError,
} from '../../src/lib/signalr/index.js';
import { DEV_ACCESS_KEY as KEY } from '../../src/local/dev-constants.js';

/**
 * Checks a token the way docs/architecture.md ("Tokens and identity") states it, with jose directly rather than our own verifyToken (which could
 * be wrong the same way as the signer): HS256 over the AccessKey's UTF-8 bytes, exactly this `aud`, an `exp`.
 */
async function verifiedClaims(token: string, audience: string): Promise<JWTPayload> {
  const { payload, protectedHeader } = await jwtVerify(token, new TextEncoder().encode(KEY), {
    audience,
    algorithms: ['HS256'],
    requiredClaims: ['exp'],
  });
  expect(protectedHeader.alg).toBe('HS256');
  return payload;
}

interface Recorded {
  method: string;
  /** Path and query exactly as sent. */
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
  /** The client's port: the same for requests that shared one connection. */
  clientPort: number | undefined;
}

/** What the server does with the next request: answer, never answer, or drop the socket. */
type Reply = { status: number; body?: string; headers?: Record<string, string> } | 'hang' | 'destroy';

/** A real HTTP server on port 0 standing in for the service: it records requests and plays scripted replies. */
class RecordingServer {
  readonly requests: Recorded[] = [];
  #replies: Reply[] = [];
  /** Requests left unanswered ('hang'); ended in reset() so keep-alive sockets of other tests stay usable. */
  #hanging: ServerResponse[] = [];
  #server: Server = createServer((req, res) => this.#handle(req, res));
  origin = '';

  async start(): Promise<void> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    this.origin = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Queue replies for the next requests; once used up, every request gets 202. */
  script(...replies: Reply[]): void {
    this.#replies.push(...replies);
  }

  reset(): void {
    this.requests.length = 0;
    this.#replies.length = 0;
    for (const res of this.#hanging.splice(0)) res.socket?.destroy();
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    this.#server.close();
    await once(this.#server, 'close');
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      this.requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
        clientPort: req.socket.remotePort,
      });
      const reply = this.#replies.shift() ?? { status: 202 };
      if (reply === 'hang') {
        this.#hanging.push(res);
        return;
      }
      if (reply === 'destroy') {
        req.socket.destroy();
        return;
      }
      res.writeHead(reply.status, reply.headers);
      res.end(reply.body);
    });
  }
}

const server = new RecordingServer();
beforeAll(() => server.start());
afterEach(() => server.reset());
afterAll(() => server.stop());

function keyClient(options: Partial<HubClientOptions> = {}): HubClient {
  return new HubClient({
    connection: parseConnectionString(`Endpoint=${server.origin};AccessKey=${KEY};Version=1.0;`),
    hub: 'chat',
    retryDelayMs: 1,
    ...options,
  });
}

/** The audience the service derives from what it received: the URL without query (and trailing slash). */
function audienceSeen(request: Recorded): string {
  return `${server.origin}${request.url.split('?')[0]}`.replace(/\/+$/, '');
}

function only(): Recorded {
  expect(server.requests).toHaveLength(1);
  return server.requests[0]!;
}

async function errorOf(promise: Promise<unknown>): Promise<SignalRRestError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SignalRRestError);
  return error as SignalRRestError;
}

// Path parts with characters that must be encoded: a space, a slash and a non-ASCII letter.
const USER = 'ann b/é';
const USER_ENC = 'ann%20b%2F%C3%A9';
const GROUP = 'team #1';
const GROUP_ENC = 'team%20%231';
const CONN = 'conn-01HZX5';

interface Operation {
  name: string;
  call: (client: HubClient) => Promise<unknown>;
  method: string;
  /** Path after the hub prefix, plus query. */
  path: string;
  sends: boolean;
}

function operations(m: { target: string; arguments: unknown[] }): Operation[] {
  return [
    { name: 'sendToAll', call: (c) => c.sendToAll(m), method: 'POST', path: '', sends: true },
    {
      name: 'sendToAll with excluded',
      call: (c) => c.sendToAll(m, { excluded: ['c1', 'c 2'] }),
      method: 'POST',
      path: '?excluded=c1&excluded=c+2',
      sends: true,
    },
    {
      name: 'sendToUser',
      call: (c) => c.sendToUser(USER, m),
      method: 'POST',
      path: `/users/${USER_ENC}`,
      sends: true,
    },
    {
      name: 'sendToConnection',
      call: (c) => c.sendToConnection(CONN, m),
      method: 'POST',
      path: `/connections/${CONN}`,
      sends: true,
    },
    {
      name: 'sendToGroup',
      call: (c) => c.sendToGroup(GROUP, m),
      method: 'POST',
      path: `/groups/${GROUP_ENC}`,
      sends: true,
    },
    {
      name: 'sendToGroup with excluded',
      call: (c) => c.sendToGroup(GROUP, m, { excluded: ['c1'] }),
      method: 'POST',
      path: `/groups/${GROUP_ENC}?excluded=c1`,
      sends: true,
    },
    {
      name: 'addConnectionToGroup',
      call: (c) => c.addConnectionToGroup(GROUP, CONN),
      method: 'PUT',
      path: `/groups/${GROUP_ENC}/connections/${CONN}`,
      sends: false,
    },
    {
      name: 'removeConnectionFromGroup',
      call: (c) => c.removeConnectionFromGroup(GROUP, CONN),
      method: 'DELETE',
      path: `/groups/${GROUP_ENC}/connections/${CONN}`,
      sends: false,
    },
    {
      name: 'addUserToGroup',
      call: (c) => c.addUserToGroup(GROUP, USER),
      method: 'PUT',
      path: `/groups/${GROUP_ENC}/users/${USER_ENC}`,
      sends: false,
    },
    {
      name: 'addUserToGroup with ttl',
      call: (c) => c.addUserToGroup(GROUP, USER, { ttlSeconds: 60 }),
      method: 'PUT',
      path: `/groups/${GROUP_ENC}/users/${USER_ENC}?ttl=60`,
      sends: false,
    },
    {
      name: 'removeUserFromGroup',
      call: (c) => c.removeUserFromGroup(GROUP, USER),
      method: 'DELETE',
      path: `/groups/${GROUP_ENC}/users/${USER_ENC}`,
      sends: false,
    },
    {
      name: 'removeUserFromAllGroups',
      call: (c) => c.removeUserFromAllGroups(USER),
      method: 'DELETE',
      path: `/users/${USER_ENC}/groups`,
      sends: false,
    },
    {
      name: 'closeConnection',
      call: (c) => c.closeConnection(CONN),
      method: 'DELETE',
      path: `/connections/${CONN}`,
      sends: false,
    },
    {
      name: 'closeConnection with reason',
      call: (c) => c.closeConnection(CONN, { reason: 'kicked out' }),
      method: 'DELETE',
      path: `/connections/${CONN}?reason=kicked+out`,
      sends: false,
    },
    {
      name: 'connectionExists',
      call: (c) => c.connectionExists(CONN),
      method: 'GET',
      path: `/connections/${CONN}`,
      sends: false,
    },
    {
      name: 'userExists',
      call: (c) => c.userExists(USER),
      method: 'GET',
      path: `/users/${USER_ENC}`,
      sends: false,
    },
    {
      name: 'groupExists',
      call: (c) => c.groupExists(GROUP),
      method: 'GET',
      path: `/groups/${GROUP_ENC}`,
      sends: false,
    },
  ];
}

const d = {
  prefix: '/api/v1/hubs/chat',
  message: { target: 'message', arguments: [{ text: 'hi ✓' }] },
  contentType: 'application/json',
  body: '{"target":"message","arguments":[{"text":"hi ✓"}]}',
};

describe('HubClient, key mode', () => {
  for (const op of operations(d.message)) {
    it(`${op.name}: ${op.method} ${d.prefix}${op.path}, signed for exactly that path`, async () => {
      const client = keyClient();
      if (op.method === 'GET') server.script({ status: 200 });
      await op.call(client);
      const request = only();
      expect(request.method).toBe(op.method);
      expect(request.url).toBe(`${d.prefix}${op.path}`);
      const auth = request.headers.authorization ?? '';
      expect(auth).toMatch(/^Bearer /);
      const payload = await verifiedClaims(auth.slice('Bearer '.length), audienceSeen(request));
      expect(payload.aud).toBe(`${server.origin}${d.prefix}${op.path.split('?')[0]}`);
      if (op.sends) {
        expect(request.headers['content-type']).toBe(d.contentType);
        expect(request.body.toString('utf8')).toBe(d.body);
      } else {
        expect(request.body.length).toBe(0);
      }
    });
  }

  it('existence checks map 200 to true and 404 to false', async () => {
    const client = keyClient();
    server.script(
      { status: 200 },
      { status: 404 },
      { status: 200 },
      { status: 404 },
      { status: 200 },
      { status: 404 },
    );
    expect(await client.connectionExists(CONN)).toBe(true);
    expect(await client.connectionExists(CONN)).toBe(false);
    expect(await client.userExists(USER)).toBe(true);
    expect(await client.userExists(USER)).toBe(false);
    expect(await client.groupExists(GROUP)).toBe(true);
    expect(await client.groupExists(GROUP)).toBe(false);
  });
});
describe('message encoding', () => {
  it('sends only target and arguments', async () => {
    const message = { target: 'presence', arguments: [{ online: ['ann'] }], extra: 'dropped' };
    await keyClient().sendToAll(message);
    expect(JSON.parse(only().body.toString('utf8'))).toEqual({
      target: 'presence',
      arguments: [{ online: ['ann'] }],
    });
  });

  it('refuses a message without target and arguments before any request', async () => {
    const client = keyClient();
    await expect(client.sendToAll({ text: 'hi' } as never)).rejects.toThrow(/target: string, arguments/);
    expect(server.requests).toHaveLength(0);
  });

  it('refuses a message above maxMessageBytes before any request', async () => {
    const client = keyClient({ maxMessageBytes: 4 });
    await expect(client.sendToAll({ target: 't', arguments: [] })).rejects.toThrow(/maxMessageBytes/);
    expect(server.requests).toHaveLength(0);
  });

  it('refuses an empty id instead of addressing another route', async () => {
    await expect(keyClient().sendToUser('', { target: 't', arguments: [] })).rejects.toThrow(/userId/);
    expect(server.requests).toHaveLength(0);
  });

  it("refuses group and hub names the specs' rules refuse, before any request", async () => {
    const client = keyClient();
    await expect(client.groupExists('   ')).rejects.toThrow(/not only whitespace/);
    await expect(client.addConnectionToGroup('g'.repeat(1025), 'c')).rejects.toThrow(/1 to 1024/);
    expect(server.requests).toHaveLength(0);
    expect(() => keyClient({ hub: 'h'.repeat(129) })).toThrow(/at most 128/);
    expect(() => keyClient({ hub: '_chat' })).toThrow(/start with a letter/);
    // The spec's pattern allows these symbols.
    expect(keyClient({ hub: 'Chat_1`,.[]' }).baseUrl).toBe(
      `${server.origin}/api/v1/hubs/Chat_1%60%2C.%5B%5D`,
    );
    await client.groupExists('g'.repeat(1024));
    expect(server.requests).toHaveLength(1);
  });
});

describe('connections', () => {
  it('sends each body with its length, and consecutive calls share one kept-alive connection', async () => {
    const client = keyClient();
    await client.sendToAll({ target: 'first', arguments: ['é'] });
    await client.sendToAll({ target: 'second', arguments: [] });
    expect(server.requests).toHaveLength(2);
    for (const request of server.requests) {
      expect(request.headers['transfer-encoding']).toBeUndefined();
      expect(Number(request.headers['content-length'])).toBe(request.body.length);
    }
    expect(JSON.parse(server.requests[0]!.body.toString('utf8'))).toEqual({
      target: 'first',
      arguments: ['é'],
    });
    expect(server.requests[1]!.clientPort).toBe(server.requests[0]!.clientPort);
  });
});

describe('errors and retries', () => {
  it("carries the status, the service's message and the operation", async () => {
    server.script({ status: 403, body: 'Forbidden: the token is for another hub' });
    const error = await errorOf(keyClient().sendToUser('ann', { target: 'x', arguments: [] }));
    expect(error.code).toBe('rest-refused');
    expect(error.status).toBe(403);
    expect(error.operation).toBe('sendToUser');
    expect(error.serviceMessage).toBe('Forbidden: the token is for another hub');
    expect(error.message).toContain('403');
    expect(error.message).toContain('Forbidden: the token is for another hub');
    const auth = only().headers.authorization ?? '';
    expect(error.message).not.toContain(auth.slice('Bearer '.length));
  });

  it('truncates a long service message', async () => {
    server.script({ status: 400, body: 'x'.repeat(5000) });
    const error = await errorOf(keyClient().closeConnection(CONN));
    expect(error.serviceMessage.length).toBeLessThanOrEqual(501);
  });

  it('an existence check that is neither 200 nor 404 is an error', async () => {
    server.script({ status: 401, body: 'Unauthorized' });
    const error = await errorOf(keyClient().groupExists(GROUP));
    expect(error.status).toBe(401);
  });

  it('retries a 503 and succeeds', async () => {
    server.script({ status: 503, body: 'busy' });
    await keyClient().sendToAll({ target: 'x', arguments: [] });
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1]!.body.toString()).toBe(server.requests[0]!.body.toString());
  });

  it('retries 502 and 504 and gives up after maxAttempts', async () => {
    server.script({ status: 502 }, { status: 504 }, { status: 503, body: 'still busy' });
    const error = await errorOf(keyClient({ maxAttempts: 3 }).addUserToGroup(GROUP, USER));
    expect(server.requests).toHaveLength(3);
    expect(error.status).toBe(503);
    expect(error.attempts).toBe(3);
    expect(error.serviceMessage).toBe('still busy');
  });

  it("waits a 503's Retry-After instead of its own backoff, capped by maxRetryDelayMs", async () => {
    // No clock is read: a client that ignored Retry-After: 0 would wait its own 60 s backoff, and one that
    // did not cap Retry-After: 3600 would wait an hour; either way the test would time out.
    server.script({ status: 503, headers: { 'retry-after': '0' } });
    await keyClient({ retryDelayMs: 60_000, maxRetryDelayMs: 60_000 }).removeUserFromAllGroups(USER);
    expect(server.requests).toHaveLength(2);
    server.reset();
    server.script({ status: 503, headers: { 'retry-after': '3600' } });
    await keyClient({ retryDelayMs: 1, maxRetryDelayMs: 1 }).removeUserFromAllGroups(USER);
    expect(server.requests).toHaveLength(2);
  });

  it('never retries a 500 on a send: it may have been delivered', async () => {
    server.script({ status: 500, body: 'internal error' });
    const error = await errorOf(keyClient().sendToGroup(GROUP, { target: 'hello', arguments: [] }));
    expect(server.requests).toHaveLength(1);
    expect(error.status).toBe(500);
    expect(error.attempts).toBe(1);
  });

  it('retries a dropped connection on an idempotent call', async () => {
    server.script('destroy');
    await keyClient().addConnectionToGroup(GROUP, CONN);
    expect(server.requests).toHaveLength(2);
  });

  it('does not retry a send whose connection dropped after the request was sent', async () => {
    server.script('destroy');
    const error = await errorOf(keyClient().sendToConnection(CONN, { target: 'x', arguments: [] }));
    expect(error.code).toBe('rest-unreachable');
    expect(server.requests).toHaveLength(1);
  });

  it('retries a refused connection, then fails with a clear network error', async () => {
    // A port that was just free: nothing listens there.
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    await once(closed, 'close');
    const client = new HubClient({
      connection: parseConnectionString(`Endpoint=http://127.0.0.1:${port};AccessKey=${KEY};Version=1.0;`),
      hub: 'chat',
      retryDelayMs: 1,
      maxAttempts: 3,
    });
    const error = await errorOf(client.sendToAll({ target: 'x', arguments: [] }));
    expect(error.code).toBe('rest-unreachable');
    expect(error.attempts).toBe(3);
    expect(error.status).toBeUndefined();
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.message).toContain(`http://127.0.0.1:${port}`);
  });

  it('times out against a service that never answers, without retrying', async () => {
    server.script('hang');
    const error = await errorOf(keyClient({ timeoutMs: 200 }).sendToAll({ target: 'x', arguments: [] }));
    expect(error.code).toBe('rest-timeout');
    expect(error.message).toContain('timeoutMs');
    expect(server.requests).toHaveLength(1);
  });
});

describe('getClientAccess, key mode', () => {
  it('signs locally for the client URL, with nameid and claims', async () => {
    const access = await keyClient().getClientAccess({ userId: 'ann', claims: { role: 'admin' } });
    expect(access.url).toBe(`${server.origin}/client/?hub=chat`);
    const payload = await verifiedClaims(access.accessToken, access.url);
    expect(payload).toMatchObject({ nameid: 'ann', role: 'admin' });
    expect(payload.exp! - payload.iat!).toBe(3600);
    expect(server.requests).toHaveLength(0);
  });

  it('honours ttlSeconds', async () => {
    const access = await keyClient().getClientAccess({ userId: 'ann', ttlSeconds: 120 });
    const payload = await verifiedClaims(access.accessToken, access.url);
    expect(payload.exp! - payload.iat!).toBe(120);
  });
});

/** Azure's Entra ID is the one thing we fake: a TokenCredential that records the scopes asked for. */
class FakeCredential implements TokenCredential {
  readonly scopes: (string | string[])[] = [];
  #issued = 0;
  async getToken(scopes: string | string[], _options?: GetTokenOptions): Promise<AccessToken> {
    this.scopes.push(scopes);
    this.#issued++;
    return { token: `entra-token-${this.#issued}`, expiresOnTimestamp: Date.now() + 3_600_000 };
  }
}

describe('identity mode (injected credential)', () => {
  function identityClient(credential: TokenCredential) {
    return new HubClient({
      connection: parseConnectionString(
        `Endpoint=${server.origin};AuthType=azure.msi;ClientId=abc;Version=1.0;`,
      ),
      hub: 'chat',
      credential,
    });
  }

  it('sends the Entra token for scope https://signalr.azure.com/.default and reuses it while valid', async () => {
    const credential = new FakeCredential();
    const client = identityClient(credential);
    await client.sendToUser('ann', { target: 'x', arguments: [] });
    await client.removeUserFromAllGroups('ann');
    expect(server.requests.map((r) => r.headers.authorization)).toEqual([
      'Bearer entra-token-1',
      'Bearer entra-token-1',
    ]);
    expect(credential.scopes).toEqual(['https://signalr.azure.com/.default']);
  });

  it('getClientAccess asks :generateToken and returns the client URL with its token', async () => {
    const credential = new FakeCredential();
    server.script({
      status: 200,
      body: '{"token":"service-issued.jwt.token"}',
      headers: { 'content-type': 'application/json' },
    });
    const access = await identityClient(credential).getClientAccess({
      userId: 'ann b',
      ttlSeconds: 90,
    });
    expect(access).toEqual({
      url: `${server.origin}/client/?hub=chat`,
      accessToken: 'service-issued.jwt.token',
    });
    const request = only();
    expect(request.method).toBe('POST');
    expect(request.url).toBe(
      '/api/hubs/chat/:generateToken?userId=ann+b&minutesToExpire=2&api-version=2024-12-01',
    );
    expect(request.headers.authorization).toBe('Bearer entra-token-1');
  });

  it('getClientAccess retries a dropped connection: :generateToken has no side effects', async () => {
    server.script('destroy', { status: 200, body: '{"token":"t"}' });
    const access = await identityClient(new FakeCredential()).getClientAccess({ userId: 'ann' });
    expect(access).toEqual({ url: `${server.origin}/client/?hub=chat`, accessToken: 't' });
    expect(server.requests).toHaveLength(2);
  });

  it('getClientAccess fails clearly when the service answers without a token', async () => {
    server.script({ status: 200, body: '{}' });
    const error = await errorOf(identityClient(new FakeCredential()).getClientAccess({ userId: 'ann' }));
    expect(error.message).toContain('token');
  });

  it('getClientAccess issues client tokens of at most a day, signed here or asked of :generateToken', async () => {
    const signed = await keyClient().getClientAccess({
      userId: 'ann',
      ttlSeconds: MAX_CLIENT_TOKEN_TTL_SECONDS,
    });
    const claims = await verifiedClaims(signed.accessToken, `${server.origin}/client/?hub=chat`);
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(MAX_CLIENT_TOKEN_TTL_SECONDS);
    for (const ttlSeconds of [MAX_CLIENT_TOKEN_TTL_SECONDS + 1, 1e8 * 60]) {
      await expect(keyClient().getClientAccess({ userId: 'ann', ttlSeconds })).rejects.toThrow(RangeError);
      await expect(
        identityClient(new FakeCredential()).getClientAccess({ userId: 'ann', ttlSeconds }),
      ).rejects.toThrow(/at most|1 to 86400/);
    }
    expect(server.requests).toHaveLength(0);
  });

  it('getClientAccess refuses extra claims, which :generateToken cannot carry', async () => {
    await expect(
      identityClient(new FakeCredential()).getClientAccess({
        userId: 'ann',
        claims: { role: 'x' },
      }),
    ).rejects.toThrow(/key mode/);
    expect(server.requests).toHaveLength(0);
  });
});
